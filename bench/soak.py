"""`make soak`: 30 minutes of mixed ingestion and reads at about half of the measured capacity, with the
Celery worker killed and restarted every 5 minutes (issue 16, "Soak"; docs/reliability.md).

What it does, start to end (SOAK_SECONDS plus about a minute of setup, the drain and the counts):

1. drops and recreates its own database `loopin_soak` on the shared PostgreSQL (127.0.0.1:5432, user
   postgres), migrates it, creates a write key and an analyst JWT with the project's own commands, and
   flushes its own Redis database 13 (`redis://127.0.0.1:6379/13`; no other database is touched);
2. starts the service as production runs it, on that broker, `DEBUG=false`, random strong keys, its own
   temporary data directory, rate limits on: the real server (`uvicorn`, 2 processes, bench/serving.py),
   one `celery -A loopin_backend worker` consuming every queue of loopin_backend/celery.py (prefork, one
   pool process per core: Celery's default) and `celery beat` (the production schedule: the sweeper of
   unprocessed events every 60 s, and the rest, which is idle here);
3. for SOAK_SECONDS sends batches of SOAK_BATCH realistic events (bench/ingest.py's generator, each event
   with its own uuid — the idempotency key — tagged with this run) at SOAK_RATE events/s on a fixed
   schedule from SOAK_CLIENTS threads, each batch retried with the same body on 429, 5xx or no answer
   (as the tracker does); and in parallel SOAK_READS reads a second from SOAK_READERS threads, cycling
   through the read API (overview, metric catalogue, trends, funnels, retention, lifecycle, stickiness,
   sessions, a host's overview, health). Every answer's latency and status is recorded;
4. every SOAK_KILL_EVERY seconds sends SIGKILL to the worker's whole process group (main process and pool
   children) and starts a new one at once; its unacknowledged message stays with the broker (`acks_late`)
   and every stored event stays `processed_at IS NULL` until a later processing run takes it (the next
   batch's message, or the beat sweeper);
5. every 10 s samples the resident size (VmRSS from /proc) of each uvicorn process, of the current worker
   incarnation (its process tree), of beat, the processing backlog and the broker's queues;
6. stops sending, waits up to SOAK_DRAIN seconds for the backlog to reach 0, stops every process, counts
   in the database and prints the report: events sent, acknowledged, stored (must be equal), rows sharing a
   uuid (0), events left unprocessed (0), session summaries against the events, answers by status,
   per-minute p50/p99 latency of ingestion and reads, per-minute memory of every process, the server's
   memory growth from the SOAK_BASELINE mark to the end (at most 10%), each worker incarnation's memory,
   and last `soak=pass` or `soak=fail (<reasons>)` (exit status 1 on fail). The report is also written as
   Markdown to var/soak/report.md, the processes' logs to var/soak/logs/;
7. drops the database (unless SOAK_KEEP_DB=1), flushes Redis db 13 and stops every process it started —
   also on Ctrl-C, SIGTERM or an error.

Knobs (defaults are the recorded configuration): SOAK_SECONDS (1800), SOAK_RATE (events/s, 500: about half
of the capacity measured with the worker processing at the same time, which its processing bounds at about
1,000 events/s on the 2-core machine — docs/reliability.md "Soak"), SOAK_BATCH (100 events a request),
SOAK_CLIENTS (4), SOAK_KILL_EVERY (300 s), SOAK_READS (2 a second), SOAK_READERS (2), SOAK_DRAIN (300 s),
SOAK_BASELINE (the memory baseline: 300 s, or a quarter of a shorter run), SOAK_KEEP_DB=1.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import orjson
import psycopg
import redis
from ingest import SEED, World, machine, make_event  # bench/ingest.py (this directory is on the path)
from serving import stop, uvicorn_server
from support import PG_DSN, ROOT, manage, process_tree, say, service_env, status_kib

from loopin_backend.celery import QUEUES

DB_NAME = "loopin_soak"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BROKER_URL = "redis://127.0.0.1:6379/13"
OUTPUT = ROOT / "var" / "soak"
REPORT = OUTPUT / "report.md"
LOGS = OUTPUT / "logs"

SECONDS = float(os.environ.get("SOAK_SECONDS", "1800"))
RATE = float(os.environ.get("SOAK_RATE", "500"))
BATCH = int(os.environ.get("SOAK_BATCH", "100"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "4"))
KILL_EVERY = float(os.environ.get("SOAK_KILL_EVERY", "300"))
READS = float(os.environ.get("SOAK_READS", "2"))
READERS = int(os.environ.get("SOAK_READERS", "2"))
DRAIN = float(os.environ.get("SOAK_DRAIN", "300"))
BASELINE = float(os.environ.get("SOAK_BASELINE", str(min(300.0, SECONDS / 4))))
KEEP_DB = os.environ.get("SOAK_KEEP_DB") == "1"

SERVER_PROCESSES = 2  # one per core, as bench/ingest.py and docs/benchmarks.md
SAMPLE_EVERY = 10.0
GROWTH_LIMIT = 0.10  # the server's resident size may grow at most this much after the baseline mark
MAX_LAG = 30.0  # a batch sent later than this after its due time: the load was above what the service sustains
ATTEMPTS = 8  # of one batch, on 429, 5xx or no answer
UNACKED = "unacked"  # kombu's Redis transport: messages delivered and not yet acknowledged (a hash)
KILL_WAIT = 10.0  # a kill waits at most this long for the worker to have work (events pending or in processing)
HOST_ID = "host_0042"  # one of the generator's hosts; read with its own host token (it has no listings)


@dataclass(frozen=True)
class Read:
    label: str
    method: str
    path: str
    params: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    as_host: bool = False  # with the host token (else the analyst's)


# The read mix, in turn. Default ranges: the last 30 business days.
READ_MIX = (
    Read("GET /overview?days=7", "GET", "/overview", {"days": 7}),
    Read("GET /metrics", "GET", "/metrics"),
    Read("GET /trends page_view", "GET", "/trends", {"event": "page_view"}),
    Read("POST /funnels (default)", "POST", "/funnels", body={}),
    Read("GET /retention", "GET", "/retention"),
    Read("GET /trends event_viewed by platform", "GET", "/trends", {"event": "event_viewed", "breakdown": "platform"}),
    Read("GET /lifecycle", "GET", "/lifecycle"),
    Read("GET /stickiness", "GET", "/stickiness"),
    Read("GET /sessions", "GET", "/sessions"),
    Read("GET /hosts/{id}/overview?days=30 (host)", "GET", f"/hosts/{HOST_ID}/overview", {"days": 30}, as_host=True),
    Read("GET /health", "GET", "/health"),
)


# --- records ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    at: float  # when the request left, seconds since the load started
    route: str  # "ingest" or the read's label
    seconds: float
    status: int  # 0: no answer (connection error or timeout)


@dataclass
class Tally:
    """The ingestion side's counts (under `lock`)."""

    sent: int = 0
    acknowledged: int = 0  # in 200 answers: stored + duplicate
    api_duplicates: int = 0
    refused: int = 0  # in 200 answers: rejected + dropped
    retries: int = 0
    max_lag: float = 0.0
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        with self.lock:
            if len(self.problems) < 20:
                self.problems.append(text)


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    server: dict[int, int]  # pid → VmRSS KiB, each process of the uvicorn tree
    worker: int  # the incarnation sampled
    worker_kib: int  # its process tree
    beat_kib: int
    pending: int  # processed_at IS NULL
    queued: int  # messages waiting in the broker's queues


@dataclass
class Incarnation:
    """One worker process group, from its start to its kill. Times: seconds since the load started (the
    first incarnation starts before it: negative)."""

    number: int
    process: subprocess.Popen[bytes]
    started: float
    ready: float = 0.0
    killed: float | None = None
    pending_at_kill: int = 0
    unacked_after_kill: int = 0  # messages the broker holds unacknowledged (for dead consumers) after the kill


# --- processes -------------------------------------------------------------------------------------


def soak_env(data_dir: Path) -> dict[str, str]:
    """Production settings on this run's database and broker: service_env's, with the broker on and the
    production log level (one line per batch and per processing run)."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    settings = service_env(
        database_url=DATABASE_URL,
        data_dir=data_dir,
        secret=secrets.token_urlsafe(48),
        jwt_secret=secrets.token_urlsafe(48),
    )
    return {**inherited, **settings, "CELERY_BROKER_URL": BROKER_URL, "LOG_LEVEL": "INFO"}


def celery(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """`celery -A loopin_backend <args>` in its own session (so its whole group can be killed)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "loopin_backend", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process's whole group: the main process and every child (prefork pool processes)."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def rss_kib(root: int) -> int:
    return sum(status_kib(pid, "VmRSS:") for pid in process_tree(root))


def uvicorn_role(pid: int, root: int) -> str:
    if pid == root:
        return "uvicorn supervisor"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"pid {pid}"
    if b"resource_tracker" in command:
        return "resource tracker"
    return f"uvicorn worker {pid}" if b"spawn_main" in command else f"pid {pid}"


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the same clean-up as Ctrl-C


# --- the run ---------------------------------------------------------------------------------------


class Soak:
    def __init__(
        self, *, api: str, key: str, tokens: dict[str, str], env: dict[str, str], server: subprocess.Popen[bytes]
    ) -> None:
        self.api, self.key, self.tokens, self.env, self.server = api, key, tokens, env, server
        self.tag = secrets.randbits(32)  # the first 8 hex digits of every uuid this run sends
        self.tally = Tally()
        self.answers: list[Answer] = []
        self.samples: list[Sample] = []
        self.incarnations: list[Incarnation] = []
        self.names: dict[int, str] = {}  # the server's processes: pid → role
        self.crashed: list[str] = []  # threads of this run that stopped on an exception
        self.batches = itertools.count()
        self.reads = itertools.count()
        self.abort = threading.Event()
        self.sampling_done = threading.Event()
        self.broker = redis.Redis.from_url(BROKER_URL)
        self.beat: subprocess.Popen[bytes] | None = None
        self.t0 = time.monotonic()  # set again when the load starts
        self.sending_ended = 0.0
        self.drained_after: float | None = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    @property
    def worker(self) -> Incarnation:
        return self.incarnations[-1]

    # processes

    def worker_start(self) -> None:
        number = len(self.incarnations) + 1
        log_path = LOGS / f"worker-{number}.log"
        process = celery(
            self.env, log_path, "worker", "--loglevel=info", "-Q", ",".join(QUEUES), "-n", f"soak-{number}@%h"
        )
        incarnation = Incarnation(number, process, started=self.now())
        self.incarnations.append(incarnation)
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None:
                raise SystemExit(f"worker {number} exited with {process.returncode}:\n{tail(log_path)}")
            if self.now() - incarnation.started > 120:
                raise SystemExit(f"worker {number} not ready within 120 s:\n{tail(log_path)}")
            time.sleep(0.2)
        incarnation.ready = self.now()

    def kill_and_restart(self, conn: psycopg.Connection[Any]) -> None:
        """SIGKILL to the worker's group — once events are waiting or being processed (rows a run has claimed
        are still `processed_at IS NULL`), so that the kill most likely lands mid-task — and a new worker."""
        old = self.worker
        deadline = time.monotonic() + KILL_WAIT
        while (waiting := pending(conn)) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        kill_group(old.process)
        old.killed, old.pending_at_kill = self.now(), waiting
        old.unacked_after_kill = int(self.broker.hlen(UNACKED))
        say(
            f"  {old.killed:6.0f} s  worker {old.number} killed (SIGKILL to its group) with {waiting:,} events "
            f"pending; {old.unacked_after_kill} messages unacknowledged in the broker"
        )
        self.worker_start()
        say(f"  {self.now():6.0f} s  worker {self.worker.number} ready")

    def watch(self) -> None:
        """Every process must stay up (a worker dies only when this run kills it)."""
        checks = [("the server", self.server, LOGS / "server.log"), ("beat", self.beat, LOGS / "beat.log")]
        checks.append((f"worker {self.worker.number}", self.worker.process, LOGS / f"worker-{self.worker.number}.log"))
        for name, process, log_path in checks:
            if process is not None and process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode} at {self.now():.0f} s:\n{tail(log_path)}")

    def stop_processes(self) -> None:
        for incarnation in self.incarnations:
            if incarnation.process.poll() is None:
                stop(incarnation.process)  # SIGTERM to the group, SIGKILL after 20 s
            kill_group(incarnation.process)
        if self.beat is not None:
            stop(self.beat)
            kill_group(self.beat)

    # load

    def ingest(self, client: int) -> None:
        world = World.make(SEED + client)
        sequence = itertools.count()
        headers = {"X-API-Key": self.key, "Content-Type": "application/json"}
        with httpx.Client(base_url=self.api, headers=headers, timeout=60) as http:
            while not self.abort.is_set():
                due = next(self.batches) * BATCH / RATE
                if due >= SECONDS or self.now() >= SECONDS:  # behind the schedule at the end: the rest is not sent
                    return
                events = []
                for _ in range(BATCH):
                    event = make_event(world)
                    tagged = (self.tag << 96) | (client << 64) | next(sequence)  # client < 4096: version bits
                    event["uuid"] = str(uuid.UUID(int=tagged, version=4))
                    events.append(event)
                if self.abort.wait(max(0.0, due - self.now())):
                    return
                body = orjson.dumps({"sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "events": events})
                with self.tally.lock:
                    self.tally.sent += BATCH
                    self.tally.max_lag = max(self.tally.max_lag, self.now() - due)
                self.deliver(http, body, due)

    def deliver(self, http: httpx.Client, body: bytes, due: float) -> None:
        """One batch until it is answered 200 (each attempt recorded); the same body on every retry."""
        for _ in range(ATTEMPTS):
            started = self.now()
            answer: httpx.Response | None
            try:
                answer = http.post("/events/batch", content=body)
            except httpx.HTTPError:
                answer = None
            status = answer.status_code if answer is not None else 0
            self.answers.append(Answer(started, "ingest", self.now() - started, status))
            if answer is not None and status == 200:
                result = orjson.loads(answer.content)
                with self.tally.lock:
                    self.tally.acknowledged += result["stored"] + result["duplicates"]
                    self.tally.api_duplicates += result["duplicates"]
                    self.tally.refused += result["rejected"] + result["dropped"]
                if result["rejected"] or result["dropped"]:
                    refused = [r for r in result["results"] if r["status"] not in ("stored", "duplicate")][:2]
                    self.tally.problem(f"batch due at {due:.1f} s: not all stored: {refused}")
                return
            if answer is not None and status != 429 and status < 500:
                self.tally.problem(f"batch due at {due:.1f} s: HTTP {status}: {answer.text[:300]}")
                return
            with self.tally.lock:
                self.tally.retries += 1
            retry_after = answer.headers.get("Retry-After", "1") if answer is not None else "1"
            if self.abort.wait(min(10.0, float(retry_after) if retry_after.isdigit() else 1.0)):
                return
        self.tally.problem(f"batch due at {due:.1f} s: no 200 after {ATTEMPTS} attempts")

    def read(self) -> None:
        bearer = {role: {"Authorization": f"Bearer {token}"} for role, token in self.tokens.items()}
        with httpx.Client(base_url=self.api, timeout=60) as http:
            while not self.abort.is_set():
                index = next(self.reads)
                due = index / READS
                if due >= SECONDS or self.abort.wait(max(0.0, due - self.now())):
                    return
                read = READ_MIX[index % len(READ_MIX)]
                headers = bearer["host" if read.as_host else "analyst"]
                started = self.now()
                try:
                    answer = http.request(read.method, read.path, params=read.params, json=read.body, headers=headers)
                    status = answer.status_code
                except httpx.HTTPError:
                    status = 0
                self.answers.append(Answer(started, read.label, self.now() - started, status))

    def sample(self) -> None:
        with psycopg.connect(PG_DSN, dbname=DB_NAME, autocommit=True) as conn:
            while True:
                worker = self.worker
                server = process_tree(self.server.pid)
                for pid in server:
                    if pid not in self.names:
                        self.names[pid] = uvicorn_role(pid, self.server.pid)
                self.samples.append(
                    Sample(
                        at=self.now(),
                        server={pid: status_kib(pid, "VmRSS:") for pid in server},
                        worker=worker.number,
                        worker_kib=rss_kib(worker.process.pid) if worker.process.poll() is None else 0,
                        beat_kib=rss_kib(self.beat.pid) if self.beat is not None else 0,
                        pending=pending(conn),
                        queued=sum(int(self.broker.llen(queue)) for queue in QUEUES),
                    )
                )
                if self.sampling_done.wait(SAMPLE_EVERY):
                    return

    def thread(self, name: str, target: Callable[..., None], *args: Any) -> threading.Thread:
        """A daemon thread whose failure is recorded (and fails the run) instead of vanishing."""

        def guarded() -> None:
            try:
                target(*args)
            except Exception as exc:
                self.crashed.append(f"{name} stopped at {self.now():.0f} s: {type(exc).__name__}: {exc}")

        return threading.Thread(target=guarded, name=name, daemon=True)

    def run(self) -> None:
        """The load, the kills and the drain; every thread is stopped when this returns or raises."""
        data_dir = Path(self.env["ANALYTICS_DATA_DIR"])  # beat's schedule and pid files too, never the tree
        beat_files = ("-s", str(data_dir / "celerybeat-schedule"), "--pidfile", str(data_dir / "beat.pid"))
        self.beat = celery(self.env, LOGS / "beat.log", "beat", "--loglevel=info", *beat_files)
        self.worker_start()
        threads = [self.thread(f"client {n}", self.ingest, n) for n in range(CLIENTS)]
        threads += [self.thread(f"reader {n}", self.read) for n in range(READERS)]
        sampler = self.thread("sampler", self.sample)
        origin = time.monotonic()
        for incarnation in self.incarnations:  # the first one started before the load: negative times
            incarnation.started -= origin - self.t0
            incarnation.ready -= origin - self.t0
        self.t0 = origin
        sampler.start()
        for thread in threads:
            thread.start()
        try:
            with psycopg.connect(PG_DSN, dbname=DB_NAME, autocommit=True) as conn:
                kill_at = KILL_EVERY
                while self.now() < SECONDS or any(t.is_alive() for t in threads):
                    self.watch()
                    if kill_at < SECONDS and self.now() >= kill_at:
                        self.kill_and_restart(conn)
                        kill_at += KILL_EVERY
                    time.sleep(0.5)
                self.sending_ended = self.now()
                say(f"  {self.now():6.0f} s  load stopped; draining the backlog ({pending(conn):,} events)")
                while pending(conn) > 0 and self.now() - self.sending_ended < DRAIN:
                    self.watch()
                    time.sleep(1)
                if pending(conn) == 0:
                    self.drained_after = self.now() - self.sending_ended
        finally:
            self.abort.set()
            self.sampling_done.set()
            for thread in [*threads, sampler]:  # done by now, or stopping (an abort): daemons in any case
                thread.join(timeout=5)


def pending(conn: psycopg.Connection[Any]) -> int:
    return int(conn.execute("SELECT count(*) FROM analytics_user_event WHERE processed_at IS NULL").fetchone()[0])  # type: ignore[index]


# --- the report ------------------------------------------------------------------------------------


def ms(seconds: list[float], q: float) -> str:
    """The q-quantile in milliseconds ('–' without data)."""
    if not seconds:
        return "–"
    if len(seconds) == 1:
        return f"{seconds[0] * 1000:.0f}"
    return f"{statistics.quantiles(seconds, n=100, method='inclusive')[round(q * 100) - 1] * 1000:.0f}"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def level(samples: list[Sample], at: float, value: Callable[[Sample], int]) -> float:
    """The median of the samples within 1.5 sampling periods of `at` (0 without any)."""
    near = [value(s) for s in samples if abs(s.at - at) <= 1.5 * SAMPLE_EVERY and value(s) > 0]
    return float(statistics.median(near)) if near else 0.0


def process_rss(pid: int) -> Callable[[Sample], int]:
    return lambda sample: sample.server.get(pid, 0)


def growth(before: float, after: float) -> float:
    return after / before - 1 if before else float("inf")


@dataclass
class Counts:
    rows: int
    ours: int
    distinct_uuids: int
    unprocessed: int
    with_session: int
    session_events: int
    sessions_off: int


def counts(tag: int) -> Counts:
    """What the database holds at the end; this run's rows are those whose uuid starts with its tag."""
    with psycopg.connect(PG_DSN, dbname=DB_NAME, autocommit=True) as conn:
        return Counts(*conn.execute(_COUNTS, (f"{tag:08x}",)).fetchone())  # type: ignore[misc]


_COUNTS = """
WITH events AS (
    SELECT count(*) AS rows,
           count(*) FILTER (WHERE left(uuid::text, 8) = %s) AS ours,
           count(DISTINCT uuid) AS distinct_uuids,
           count(*) FILTER (WHERE processed_at IS NULL) AS unprocessed,
           count(*) FILTER (WHERE session_id IS NOT NULL) AS with_session
    FROM analytics_user_event
), per_session AS (
    SELECT s.event_count, coalesce(e.n, 0) AS stored
    FROM analytics_session s
    FULL JOIN (SELECT session_id, count(*) AS n FROM analytics_user_event
               WHERE session_id IS NOT NULL GROUP BY session_id) e USING (session_id)
)
SELECT rows, ours, distinct_uuids, unprocessed, with_session,
       (SELECT coalesce(sum(event_count), 0) FROM analytics_session),
       (SELECT count(*) FROM per_session WHERE event_count IS DISTINCT FROM stored)
FROM events
"""


class Report:
    def __init__(self, soak: Soak, found: Counts, *, started: str, load_before: float) -> None:
        self.soak, self.found, self.started, self.load_before = soak, found, started, load_before
        self.lines: list[str] = []
        self.failures: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        self.add(*("| " + " | ".join(row) + " |" for row in rows))
        self.add("")

    def build(self) -> str:
        self.summary()
        self.minutes()
        self.reads()
        self.memory()
        return "\n".join(self.lines)

    def summary(self) -> None:
        soak, found, tally = self.soak, self.found, self.soak.tally
        ingest = [a for a in soak.answers if a.route == "ingest"]
        reads = [a for a in soak.answers if a.route != "ingest"]
        kills = [i for i in soak.incarnations if i.killed is not None]
        expected_kills = int((SECONDS - 1e-9) // KILL_EVERY) if KILL_EVERY > 0 else 0
        sent_rate = tally.sent / soak.sending_ended if soak.sending_ended else 0.0
        self.add(
            f"# Soak run, {self.started}",
            "",
            f"{SECONDS:.0f} s of ingestion at {RATE:,.0f} events/s (batches of {BATCH}, {CLIENTS} clients) and "
            f"{READS:g} reads/s ({READERS} readers); the worker killed every {KILL_EVERY:.0f} s; beat running. "
            f"Server: uvicorn, {SERVER_PROCESSES} processes; one Celery worker (prefork, Celery's default pool "
            f"size), every queue ({', '.join(QUEUES)}). Machine: {machine()}; load average "
            f"{self.load_before:.2f} before, {os.getloadavg()[0]:.2f} after.",
            "",
        )
        codes: dict[int, int] = {}
        for answer in ingest:
            codes[answer.status] = codes.get(answer.status, 0) + 1
        ingest_5xx = sum(n for code, n in codes.items() if code >= 500)
        read_errors = [a for a in reads if a.status != 200]
        lag_note = f"largest lag behind the schedule {tally.max_lag:.1f} s"
        timeout = soak.env.get("ANALYTICS_BROKER_VISIBILITY_TIMEOUT_SECONDS")
        visibility = f"{timeout} s" if timeout else "3,900 s, the default"
        drained = (
            f"the backlog drained {soak.drained_after:.0f} s after the load"
            if soak.drained_after is not None
            else f"the backlog not drained within {DRAIN:.0f} s"
        )
        self.table(
            ["", ""],
            [
                [
                    "events sent",
                    f"{tally.sent:,} ({sent_rate:,.0f} events/s over {soak.sending_ended:.0f} s; {lag_note})",
                ],
                ["acknowledged (200 answers: stored + duplicate)", f"{tally.acknowledged:,}"],
                ["stored (rows with this run's uuids)", f"{found.ours:,}"],
                ["other rows in the table", f"{found.rows - found.ours:,}"],
                ["duplicates (rows sharing a uuid)", f"{found.rows - found.distinct_uuids:,}"],
                ["answered `duplicate` by the API (retried batches)", f"{tally.api_duplicates:,}"],
                ["answered rejected or dropped", f"{tally.refused:,}"],
                ["left unprocessed", f"{found.unprocessed:,} ({drained})"],
                [
                    "session summaries",
                    f"Σ event_count {found.session_events:,} for {found.with_session:,} events with a session; "
                    f"{found.sessions_off:,} sessions whose count differs from their stored events",
                ],
                [
                    "ingestion requests",
                    f"{len(ingest):,}: "
                    + ", ".join(f"{code or 'no answer'} × {n:,}" for code, n in sorted(codes.items()))
                    + f"; {tally.retries:,} retries",
                ],
                ["reads", f"{len(reads):,}, {len(read_errors):,} not 200"],
                [
                    "worker kills",
                    f"{len(kills)} (planned {expected_kills})"
                    + "".join(
                        f"; #{i.number} at {i.killed:.0f} s, {i.pending_at_kill:,} events pending" for i in kills
                    ),
                ],
                [
                    "messages left unacknowledged by the killed workers",
                    f"{kills[-1].unacked_after_kill if kills else 0} (the broker delivers them again after its "
                    f"visibility timeout, {visibility}; later processing runs did their work)",
                ],
                [
                    "restarts: ready after",
                    ", ".join(f"#{i.number} {i.ready - i.started:.1f} s" for i in soak.incarnations[1:]) or "–",
                ],
            ],
        )
        if tally.problems or soak.crashed:
            self.add("Problems:", "", *(f"- {p}" for p in [*soak.crashed, *tally.problems]), "")
        if soak.crashed:
            self.failures.append(f"{len(soak.crashed)} threads of the load stopped on an exception")
        if not tally.sent == tally.acknowledged == found.ours:
            self.failures.append(f"sent {tally.sent}, acknowledged {tally.acknowledged}, stored {found.ours}")
        if found.rows != found.ours:
            self.failures.append(f"{found.rows - found.ours} rows not sent by this run")
        if found.rows != found.distinct_uuids:
            self.failures.append(f"{found.rows - found.distinct_uuids} duplicate rows")
        if found.unprocessed:
            self.failures.append(f"{found.unprocessed} events unprocessed after {DRAIN:.0f} s")
        elif found.sessions_off or found.session_events != found.with_session:
            self.failures.append(f"{found.sessions_off} session summaries disagree with their stored events")
        if ingest_5xx:
            self.failures.append(f"{ingest_5xx} ingestion answers 5xx")
        if read_errors:
            self.failures.append(f"{len(read_errors)} reads not 200")
        if len(kills) < expected_kills:
            self.failures.append(f"{len(kills)} worker kills of {expected_kills}")
        if tally.max_lag > MAX_LAG:
            self.failures.append(f"the load fell {tally.max_lag:.0f} s behind its schedule (rate above capacity)")

    def minutes(self) -> None:
        soak = self.soak
        pids = self.server_pids()
        last = max([s.at for s in soak.samples] + [a.at for a in soak.answers] + [0.0])
        header = ["min", "batches", "events/s", "ingest p50", "ingest p99", "reads", "read p50", "read p99"]
        header += ["not 2xx", "backlog", "queued", *(f"{name} MiB" for name in pids.values()), "worker MiB", "beat MiB"]
        rows = []
        for minute in range(int(last // 60) + 1):
            span = [a for a in soak.answers if minute * 60 <= a.at < (minute + 1) * 60]
            ingest = [a.seconds for a in span if a.route == "ingest" and a.status == 200]
            reads = [a.seconds for a in span if a.route != "ingest" and a.status == 200]
            samples = [s for s in soak.samples if minute * 60 <= s.at < (minute + 1) * 60]
            end = samples[-1] if samples else None
            memory = [mib(end.server.get(pid, 0)) if end else "–" for pid in pids]
            worker = f"{mib(end.worker_kib)} (#{end.worker})" if end else "–"
            rows.append(
                [
                    f"{minute + 1}" + ("" if minute * 60 < SECONDS else " (drain)"),
                    f"{len(ingest)}",
                    f"{len(ingest) * BATCH / 60:,.0f}",
                    ms(ingest, 0.5),
                    ms(ingest, 0.99),
                    f"{len(reads)}",
                    ms(reads, 0.5),
                    ms(reads, 0.99),
                    f"{sum(1 for a in span if not 200 <= a.status < 300)}",
                    f"{end.pending:,}" if end else "–",
                    f"{end.queued:,}" if end else "–",
                    *memory,
                    worker,
                    mib(end.beat_kib) if end else "–",
                ]
            )
        self.add(
            "Per minute (latencies in ms, of the answers 200; memory: the minute's last sample, VmRSS; the worker's "
            "process tree and its incarnation):",
            "",
        )
        self.table(header, rows)

    def reads(self) -> None:
        reads = [a for a in self.soak.answers if a.route != "ingest"]
        rows = []
        for read in READ_MIX:
            mine = [a for a in reads if a.route == read.label]
            good = [a.seconds for a in mine if a.status == 200]
            worst = f"{max(good) * 1000:.0f}" if good else "–"
            bad: dict[int, int] = {}
            for answer in mine:
                if answer.status != 200:
                    bad[answer.status] = bad.get(answer.status, 0) + 1
            other = ", ".join(f"{code or 'no answer'} × {n}" for code, n in sorted(bad.items())) or "0"
            rows.append([read.label, f"{len(mine)}", ms(good, 0.5), ms(good, 0.99), worst, other])
        self.add("Reads by route (ms):", "")
        self.table(["route", "n", "p50", "p99", "max", "not 200"], rows)

    def server_pids(self) -> dict[int, str]:
        """The uvicorn tree's processes, named by role: its supervisor, its workers, multiprocessing's resource
        tracker (names read while the processes lived: `self.names`)."""
        return {
            pid: self.soak.names.get(pid, str(pid)) for pid in sorted({p for s in self.soak.samples for p in s.server})
        }

    def memory(self) -> None:
        soak = self.soak
        loaded = [s for s in soak.samples if s.at <= SECONDS]
        end_at = min(SECONDS, soak.sending_ended) - 1.5 * SAMPLE_EVERY
        rows = []
        measures = [(name, process_rss(pid)) for pid, name in self.server_pids().items()]
        measures.append(("server (sum)", lambda s: sum(s.server.values())))
        for name, value in measures:
            before, after = level(loaded, BASELINE, value), level(loaded, end_at, value)
            peak = max((value(s) for s in loaded if s.at >= BASELINE), default=0)
            change = growth(before, after)
            rows.append([name, mib(before), mib(after), mib(peak), f"{change * 100:+.1f}%"])
            if change > GROWTH_LIMIT:
                self.failures.append(f"{name} grew {change * 100:.1f}% after {BASELINE:.0f} s")
        self.add(
            f"Server memory (VmRSS MiB; median of the samples around {BASELINE:.0f} s and around {end_at:.0f} s, "
            f"the end of the load; at most +{GROWTH_LIMIT * 100:.0f}%):",
            "",
        )
        self.table(["process", f"at {BASELINE:.0f} s", "at the end", "peak after", "growth"], rows)
        rows = []
        for incarnation in soak.incarnations:
            own = [s for s in soak.samples if s.worker == incarnation.number and s.worker_kib > 0]
            own = [s for s in own if s.at >= incarnation.ready]
            if not own:
                continue
            first = ([s for s in own if s.at >= incarnation.ready + 30] or own)[0]
            ready = max(0.0, incarnation.ready)
            rows.append(
                [
                    f"#{incarnation.number}",
                    f"{ready:.0f}–{incarnation.killed:.0f} s (killed)"
                    if incarnation.killed is not None
                    else f"{ready:.0f} s – the end",
                    f"{mib(first.worker_kib)} at {first.at:.0f} s",
                    f"{mib(own[-1].worker_kib)} at {own[-1].at:.0f} s",
                    mib(max(s.worker_kib for s in own)),
                    f"{growth(first.worker_kib, own[-1].worker_kib) * 100:+.1f}%",
                ]
            )
        self.add(
            "Worker incarnations (process tree VmRSS MiB; first: 30 s after it was ready; reported, not judged: "
            "each lives one kill interval):",
            "",
        )
        self.table(["worker", "alive", "first", "last", "peak", "change"], rows)
        beat = [s.beat_kib for s in loaded if s.beat_kib]
        if beat:
            self.add(f"Beat: {mib(beat[0])} MiB at the start, {mib(beat[-1])} MiB at the end of the load.", "")

    def verdict(self) -> str:
        return "soak=pass" if not self.failures else f"soak=fail ({'; '.join(self.failures)})"


# --- main ------------------------------------------------------------------------------------------


@contextmanager
def database() -> Iterator[None]:
    with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        yield
    finally:
        if not KEEP_DB:
            with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def main() -> int:
    """The run and its verdict; a run that cannot finish (a process that dies, Ctrl-C) fails without a report."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return run_soak()
    except KeyboardInterrupt:
        say("soak=fail (interrupted)")
        return 130
    except SystemExit as stopped:
        say(str(stopped.code))
        say(f"soak=fail (the run stopped: {str(stopped.code).splitlines()[0]})")
        return 1
    except Exception as exc:
        traceback.print_exc()
        say(f"soak=fail (the run stopped: {type(exc).__name__}: {exc})")
        return 1


def run_soak() -> int:
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    say(
        f"soak: {SECONDS:.0f} s at {RATE:,.0f} events/s (batches of {BATCH}, {CLIENTS} clients), {READS:g} reads/s, "
        f"worker killed every {KILL_EVERY:.0f} s; machine: {machine()}; load average {load_before:.2f}"
    )
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    data_dir = Path(tempfile.mkdtemp(prefix="loopin-soak-"))
    env = soak_env(data_dir)
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    try:
        with database():
            manage(env, "migrate", "--noinput")
            key = manage(env, "create_api_key", "--name", "soak").strip().splitlines()[-1]
            lifetime = ("--ttl-minutes", str(int((SECONDS + DRAIN) // 60) + 30))
            tokens = {
                "analyst": manage(env, "issue_token", "--role", "analyst", "--sub", "soak", *lifetime),
                "host": manage(env, "issue_token", "--role", "host", "--host-id", HOST_ID, *lifetime),
            }
            tokens = {role: printed.strip().splitlines()[-1] for role, printed in tokens.items()}
            with uvicorn_server(env, LOGS / "server.log", workers=SERVER_PROCESSES) as (base, server):
                soak = Soak(api=f"{base}/api/analytics", key=key, tokens=tokens, env=env, server=server)
                try:
                    soak.run()
                finally:
                    soak.stop_processes()
                    soak.broker.close()
            report = Report(soak, counts(soak.tag), started=started, load_before=load_before)
            text = report.build()
    finally:
        broker.flushdb()
        broker.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    verdict = report.verdict()
    REPORT.write_text(f"{text}\n`{verdict}`\n")
    say(text)
    say(f"report written to {REPORT.relative_to(ROOT)}; logs in {LOGS.relative_to(ROOT)}/")
    say(verdict)
    return 0 if not report.failures else 1


if __name__ == "__main__":
    sys.exit(main())

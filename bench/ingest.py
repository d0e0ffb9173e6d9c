"""`make bench-ingest`: HTTP batch ingestion versus a plain PostgreSQL `COPY` of the same rows.

What it does, start to end (about 2-3 minutes on 2 cores):

1. drops and recreates its own database `loopin_bench` on the shared PostgreSQL (127.0.0.1:5432,
   user postgres), migrates it and creates a write key with the project's own commands;
2. builds 200,000 realistic tracked events from a fixed seed (the Loopin tracking plan's mix, with
   user agents, IPs, nested properties and free text carrying emails and phone numbers to scrub)
   and serialises them into batches of 1,000 before anything is timed;
3. starts the real server (`uvicorn loopin_backend.asgi:application`) exactly as production runs
   it: PostgreSQL, and a real Redis broker (`redis://127.0.0.1:6379/14`) with no worker, so each
   committed batch publishes its processing message and nothing processes it on the request path;
4. warms the server up with a few batches that are then truncated away, and sends the 200,000
   events from a few concurrent clients; every answer must be 200, `stored` must total 200,000 and
   the table must hold 200,000 rows. The server's memory (RSS of the uvicorn process tree) is
   sampled from /proc all along;
5. stops the server, dumps the stored rows with `COPY … TO STDOUT` into a buffer, truncates the
   table and times only `COPY analytics_user_event (…) FROM STDIN` of that buffer (plus its commit)
   into the same table with the same indexes;
6. prints both rates, the peak memory and, last, `ratio=<HTTP events/s ÷ COPY rows/s>`;
7. drops the database, flushes Redis db 14 (that db only) and stops every process it started.

It writes nothing but stdout. Knobs for experiments (defaults are the recorded configuration):
BENCH_EVENTS, BENCH_BATCH, BENCH_CLIENTS, BENCH_WORKERS, BENCH_DEBUG=true, BENCH_KEEP_DB=1.
"""

from __future__ import annotations

import io
import os
import platform
import random
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import redis
from serving import uvicorn_server  # bench/serving.py (this directory is on the path)
from support import manage, process_tree, status_kib

ROOT = Path(__file__).resolve().parent.parent

PG_DSN = "host=127.0.0.1 port=5432 user=postgres"
DB_NAME = "loopin_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BROKER_URL = "redis://127.0.0.1:6379/14"
TABLE = "analytics_user_event"
# The columns the ingestion pipeline writes (the rest keep their defaults), in one fixed order.
COLUMNS = (
    "uuid",
    "payload_hash",
    "event_type",
    "event_name",
    "user_id",
    "anonymous_id",
    "session_id",
    "timestamp",
    "received_at",
    "sent_at",
    "properties",
    "context",
    "page_url",
    "page_path",
    "referrer",
    "device_type",
    "browser",
    "os",
    "city",
    "country",
    "ip_prefix",
    "response_time_ms",
    "status_code",
    "listing_id",
    "host_id",
    "revenue_impact",
    "currency",
    "source",
)

EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
BATCH = int(os.environ.get("BENCH_BATCH", "1000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
# Two workers on two cores: the request path is CPU-bound Python (one GIL per process), so one
# process per core is what lets the service use the machine; PostgreSQL's backends and the
# clients share the same cores, which more workers cannot create. See docs/benchmarks.md.
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SEED = 20240611
WARMUP_BATCHES = 4 * max(1, WORKERS)


def say(line: str) -> None:
    print(line, flush=True)


# --- realistic events ----------------------------------------------------------------------------

USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/123.0.6312.99 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.6261.119 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.6367.82 Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Loopin/4.12.0 (iPhone; iOS 17.4.1; Scale/3.00)",
    "Loopin/4.12.0 (Android 14; SM-S918B)",
    "okhttp/4.12.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
CITIES = (
    ("Bengaluru", "IN"),
    ("Mumbai", "IN"),
    ("Delhi", "IN"),
    ("Pune", "IN"),
    ("Hyderabad", "IN"),
    ("Chennai", "IN"),
    ("Kolkata", "IN"),
    ("Goa", "IN"),
    ("Dubai", "AE"),
    ("Singapore", "SG"),
)
CATEGORIES = (
    "music",
    "comedy",
    "sports",
    "workshop",
    "food",
    "networking",
    "art",
    "fitness",
    "tech",
    "travel",
)
PATHS = (
    "/",
    "/explore",
    "/search",
    "/events/{id}",
    "/hosts/{host}",
    "/me/tickets",
    "/me/profile",
    "/checkout/{id}",
    "/notifications",
    "/settings",
)
SCREENS = ("HomeScreen", "ExploreScreen", "ListingScreen", "TicketScreen", "ProfileScreen", "ChatScreen")
ROUTES = (
    "/api/v1/events",
    "/api/v1/events/{id}",
    "/api/v1/search",
    "/api/v1/orders",
    "/api/v1/me",
    "/api/v1/checkins",
    "/api/v1/reviews",
)
QUERIES = (
    "standup comedy this weekend",
    "techno night",
    "pottery workshop",
    "marathon training group",
    "startup networking koramangala",
    "food walk old delhi",
    "yoga by the beach",
    "open mic",
    "board games cafe",
    "salsa beginners",
)
REVIEW_OPENERS = (
    "Loved it!",
    "Great vibe and friendly crowd.",
    "Decent, but started late.",
    "The host was super welcoming.",
    "Too crowded for the venue.",
    "Would go again.",
    "Sound was a bit off but the artists were amazing.",
    "Well organised, clear instructions.",
)
REVIEW_TAILS = (
    "Reach me at {email} if you want photos.",
    "Call me on {phone} for the group discount.",
    "Host's number {phone} did not pick up.",
    "Mail {email} for the playlist.",
    "See you at the next one.",
    "Parking was easy.",
    "Bring cash for the bar.",
    "The check-in at 7:30 pm was quick.",
    "Paid INR 499 via UPI.",
)
FIRST = ("priya", "rahul", "ananya", "arjun", "meera", "vikram", "sara", "kabir", "neha", "rohan")
DOMAINS = ("gmail.com", "yahoo.co.in", "outlook.com", "example.in", "loopin.app")
FAILURES = ("card_declined", "insufficient_funds", "upi_timeout", "bank_unavailable", "3ds_failed")
CUSTOM = (
    "share_clicked",
    "wishlist_added",
    "filter_changed",
    "notification_opened",
    "map_opened",
    "chat_message_sent",
    "referral_link_copied",
)
# (event name, weight) — roughly a marketplace's mix: many views, few payments.
MIX = (
    ("page_view", 30),
    ("event_viewed", 22),
    ("search_performed", 10),
    ("event_requested", 5),
    ("payment_completed", 3),
    ("payment_failed", 1),
    ("event_checked_in", 3),
    ("review_submitted", 3),
    ("api_request", 15),
    ("custom", 8),
)


@dataclass
class World:
    rng: random.Random
    now: datetime
    users: list[str | int] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    listings: list[tuple[str, str, str, str, str, int]] = field(default_factory=list)

    @classmethod
    def make(cls, seed: int) -> World:
        rng = random.Random(seed)
        world = cls(rng=rng, now=datetime.now(UTC).replace(microsecond=0))
        world.users = [f"usr_{n:06d}" if n % 5 else n for n in range(1, 20_001)]
        world.ips = [
            f"{rng.choice((49, 103, 106, 117, 122, 152, 157, 182, 223))}.{rng.randrange(256)}."
            f"{rng.randrange(256)}.{rng.randrange(1, 255)}"
            if rng.random() < 0.9
            else f"2401:4900:{rng.randrange(65536):x}:{rng.randrange(65536):x}::{rng.randrange(1, 65536):x}"
            for _ in range(30_000)
        ]
        world.listings = [
            (
                f"lst_{n:05d}",
                f"host_{rng.randrange(1, 800):04d}",
                rng.choice(CATEGORIES),
                *rng.choice(CITIES),
                rng.choice((0, 0, 199, 299, 499, 799, 999, 1499, 2499)),
            )
            for n in range(1, 3001)
        ]
        return world


def _email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.randrange(10, 99)}@{rng.choice(DOMAINS)}"


def _phone(rng: random.Random) -> str:
    return rng.choice(
        (
            f"+91 {rng.randrange(70000, 99999)} {rng.randrange(10000, 99999)}",
            f"9{rng.randrange(100000000, 999999999)}",
            f"+91-{rng.randrange(700, 999)}-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
        )
    )


def _free_text(rng: random.Random) -> str:
    tail = rng.choice(REVIEW_TAILS).format(email=_email(rng), phone=_phone(rng))
    return f"{rng.choice(REVIEW_OPENERS)} {tail}"


def _properties(world: World, name: str) -> tuple[str, dict[str, Any]]:
    rng = world.rng
    listing_id, host_id, category, city, _country, price = rng.choice(world.listings)
    if name == "page_view":
        path = rng.choice(PATHS).format(id=listing_id, host=host_id)
        props: dict[str, Any] = {
            "path": path,
            "url": f"https://loopin.app{path}",
            "title": "Loopin",
            "referrer": rng.choice(("", "https://www.google.com/", "https://instagram.com/")),
        }
        if rng.random() < 0.3:
            props = {"screen": rng.choice(SCREENS), "previous_screen": rng.choice(SCREENS)}
        return name, props
    if name == "event_viewed":
        return name, {
            "listing_id": listing_id,
            "host_id": host_id,
            "category": category,
            "city": city,
            "price": price,
            "currency": "INR",
            "position": rng.randrange(1, 40),
            "list": rng.choice(("home_feed", "search", "host_page", "recommended")),
        }
    if name == "search_performed":
        query = rng.choice(QUERIES) if rng.random() < 0.97 else f"contact {_email(rng)}"
        return name, {
            "query": query,
            "results_count": rng.randrange(0, 120),
            "filters": {
                "city": city,
                "category": rng.choice(CATEGORIES),
                "date_range": {"from": "2024-06-01", "to": "2024-06-30"},
                "price_max": rng.choice((None, 500, 1000)),
            },
        }
    if name == "event_requested":
        props = {"listing_id": listing_id, "host_id": host_id, "seats": rng.randrange(1, 5)}
        if rng.random() < 0.4:
            props["message"] = rng.choice(
                ("Can I bring a friend?", "Is there parking?", f"Please call {_phone(rng)} when approved")
            )
        return name, props
    if name in ("payment_completed", "payment_failed"):
        props = {
            "order_id": f"ord_{rng.randrange(10**9):09d}",
            "listing_id": listing_id,
            "host_id": host_id,
            "amount": price or 99,
            "currency": "INR",
            "payment_method": rng.choice(("upi", "card", "netbanking", "wallet")),
            "coupon": rng.choice((None, "FIRST50", "WEEKEND10")),
        }
        if name == "payment_failed":
            props["failure_reason"] = rng.choice(FAILURES)
        return name, props
    if name == "event_checked_in":
        return name, {
            "listing_id": listing_id,
            "host_id": host_id,
            "seats": rng.randrange(1, 4),
            "method": rng.choice(("qr", "manual")),
        }
    if name == "review_submitted":
        return name, {
            "listing_id": listing_id,
            "host_id": host_id,
            "rating": rng.randrange(1, 6),
            "text": _free_text(rng),
            "tags": rng.sample(("music", "crowd", "venue", "host", "value"), 2),
        }
    if name == "api_request":
        return name, {
            "route": rng.choice(ROUTES),
            "method": rng.choice(("GET", "GET", "GET", "POST")),
            "status_code": rng.choice((200, 200, 200, 200, 201, 304, 400, 404, 500)),
            "response_time_ms": round(rng.lognormvariate(3.5, 0.7), 2),
        }
    custom = rng.choice(CUSTOM)
    return custom, {
        "listing_id": listing_id,
        "channel": rng.choice(("whatsapp", "instagram", "copy_link")),
        "note": _free_text(rng) if rng.random() < 0.2 else "",
        "ab": {"variant": rng.choice("AB")},
    }


def make_event(world: World) -> dict[str, Any]:
    rng = world.rng
    kind = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
    name, properties = _properties(world, kind)
    city, country = rng.choice(CITIES)
    happened = world.now - timedelta(seconds=rng.randrange(60, 21 * 24 * 3600))
    event: dict[str, Any] = {
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_name": name,
        "timestamp": happened.isoformat().replace("+00:00", "Z"),
        "properties": properties,
        "context": {
            "ip": rng.choice(world.ips),
            "user_agent": rng.choice(USER_AGENTS),
            "locale": rng.choice(("en-IN", "hi-IN", "en-US")),
            "app": {"name": "loopin", "version": rng.choice(("4.12.0", "4.11.2", "web"))},
            "location": {"city": city, "country": country},
            "screen": {
                "width": rng.choice((390, 412, 1440, 1920)),
                "height": rng.choice((844, 915, 900, 1080)),
            },
        },
    }
    if kind == "api_request":
        # Server-side events (the platform's request middleware): a user at most, no device or
        # session ids, so the service assigns server-side sessions to them.
        if rng.random() < 0.6:
            event["user_id"] = rng.choice(world.users)
        return event
    event["anonymous_id"] = f"anon_{rng.getrandbits(64):016x}"
    event["session_id"] = f"s_{rng.getrandbits(48):012x}"
    if rng.random() < 0.85:
        event["user_id"] = rng.choice(world.users)
    return event


def make_batches(count: int, size: int) -> list[bytes]:
    """`count` events in `size`-event bodies, serialised before anything is timed."""
    world = World.make(SEED)
    bodies = []
    for start in range(0, count, size):
        events = [make_event(world) for _ in range(min(size, count - start))]
        sent_at = world.now.isoformat().replace("+00:00", "Z")
        bodies.append(orjson.dumps({"sent_at": sent_at, "events": events}))
    return bodies


# --- processes ------------------------------------------------------------------------------------


def _server_env(data_dir: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        # Production mode by default: DEBUG=true would also wrap every query in Django's debug cursor.
        DEBUG=os.environ.get("BENCH_DEBUG", "false"),
        SECRET_KEY=secrets.token_urlsafe(48),
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=DATABASE_URL,
        CELERY_BROKER_URL=BROKER_URL,
        CELERY_RESULT_BACKEND="",
        ANALYTICS_DATA_DIR=data_dir,
        POSTHOG_API_KEY="",
        OPENAI_API_KEY="",
        ANALYTICS_ENABLED="true",
        LOG_LEVEL="INFO",  # the production default: one log line per batch
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def server(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with uvicorn_server(env, log_path, workers=WORKERS) as served:
        yield served


_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int, *, exited_children: bool = False) -> float:
    """User + system CPU time of one process (or of its children that have exited), from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    first = 13 if exited_children else 11
    return (int(fields[first]) + int(fields[first + 1])) / _TICK


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except OSError:
        return ""


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError):
        return 0


def _postgres_cpu() -> float:
    """CPU of the whole PostgreSQL server: its live processes, plus the backends that already
    exited (one per request here, as connections are not reused), reaped by the postmaster."""
    total = 0.0
    for pid in (int(entry) for entry in os.listdir("/proc") if entry.isdigit()):
        if _comm(pid) == "postgres":
            total += _cpu_seconds(pid)
            if _comm(_parent(pid)) != "postgres":  # the postmaster
                total += _cpu_seconds(pid, exited_children=True)
    return total


def _machine_busy_idle() -> tuple[float, float]:
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / _TICK, idle / _TICK


@dataclass
class CpuUse:
    """Where the machine's CPU went during a measurement: the server, PostgreSQL (every backend of
    the shared server), this client, anything else, and idle."""

    server: float = 0.0
    postgres: float = 0.0
    client: float = 0.0
    busy: float = 0.0
    idle: float = 0.0

    @classmethod
    def now(cls, server_root: int) -> CpuUse:
        busy, idle = _machine_busy_idle()
        times = os.times()
        return cls(
            server=sum(_cpu_seconds(pid) for pid in process_tree(server_root)),
            postgres=_postgres_cpu(),
            client=times.user + times.system,
            busy=busy,
            idle=idle,
        )

    def since(self, start: CpuUse) -> str:
        server, postgres = self.server - start.server, self.postgres - start.postgres
        client, busy = self.client - start.client, self.busy - start.busy
        other = max(0.0, busy - server - postgres - client)
        return (
            f"server {server:.1f} s, postgres {postgres:.1f} s, client {client:.1f} s, "
            f"other {other:.1f} s, idle {self.idle - start.idle:.1f} s"
        )


class MemorySampler(threading.Thread):
    """Samples the RSS of a process tree every 50 ms; `peak_kib` is the largest total seen."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak_kib = 0
        self.pids: list[int] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        last_scan = 0.0
        while not self._stop_event.is_set():
            if time.monotonic() - last_scan > 1.0:
                self.pids, last_scan = process_tree(self.root), time.monotonic()
            self.peak_kib = max(self.peak_kib, sum(status_kib(pid, "VmRSS:") for pid in self.pids))
            self._stop_event.wait(0.05)

    def worker_high_water_kib(self) -> int:
        """The kernel's own peak RSS (VmHWM) of the largest single process of the tree."""
        return max((status_kib(pid, "VmHWM:") for pid in process_tree(self.root)), default=0)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


# --- the two measurements -------------------------------------------------------------------------


def warm_up(base: str, key: str, bodies: list[bytes]) -> None:
    """One connection per body, so every worker process most likely serves a few (first-use costs:
    the user-agent rules, pydantic, the thread pool) before anything is timed."""
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    for body in bodies:
        answer = httpx.post(f"{base}/api/analytics/events/batch", content=body, headers=headers, timeout=120)
        if answer.status_code != 200:
            raise SystemExit(f"warm-up failed: HTTP {answer.status_code}: {answer.text[:500]}")


def send_all(base: str, key: str, bodies: list[bytes]) -> tuple[float, int]:
    """Sends every body from CLIENTS threads; (seconds, stored). Any non-200 answer aborts."""
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    lock = threading.Lock()
    pending = list(range(len(bodies) - 1, -1, -1))
    stored = [0]
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            while not failures:
                with lock:
                    if not pending:
                        return
                    index = pending.pop()
                try:
                    answer = http.post("/api/analytics/events/batch", content=bodies[index])
                except httpx.HTTPError as exc:
                    failures.append(f"batch {index}: {type(exc).__name__}: {exc}")
                    return
                if answer.status_code != 200:
                    failures.append(f"batch {index}: HTTP {answer.status_code}: {answer.text[:500]}")
                    return
                result = orjson.loads(answer.content)
                if result["rejected"] or result["dropped"] or result["duplicates"]:
                    bad = [r for r in result["results"] if r["status"] != "stored"][:3]
                    failures.append(f"batch {index}: not all stored: {bad}")
                    return
                with lock:
                    stored[0] += result["stored"]

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise SystemExit("HTTP ingestion failed: " + "; ".join(failures[:5]))
    return elapsed, stored[0]


def _count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()  # noqa: S608 (constant)
    return int(row[0]) if row else 0


def _settle(conn: psycopg.Connection[Any]) -> None:
    """The same starting line for both measurements: an empty table and a fresh checkpoint."""
    conn.execute(f"TRUNCATE {TABLE} CASCADE")  # and the (empty) tables that reference it
    conn.execute("CHECKPOINT")


def copy_rows(conn: psycopg.Connection[Any]) -> tuple[float, int]:
    """Dumps the stored rows to a buffer, empties the table, times only COPY FROM STDIN + commit."""
    names = ", ".join(f'"{c}"' for c in COLUMNS)
    buffer = io.BytesIO()
    with conn.cursor().copy(f"COPY {TABLE} ({names}) TO STDOUT") as copy:
        for data in copy:
            buffer.write(data)
    payload = buffer.getvalue()
    _settle(conn)
    chunk = 1 << 20
    with conn.transaction():
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY {TABLE} ({names}) FROM STDIN") as copy:
            for start in range(0, len(payload), chunk):
                copy.write(payload[start : start + chunk])
    elapsed = time.perf_counter() - started  # the commit included
    return elapsed, _count(conn)


def machine() -> str:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(meminfo.readline().split()[1])
    cpu = next(
        (line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
        platform.processor(),
    )
    memory = f"{total_kib / 1024 / 1024:.1f} GiB RAM"
    return f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}"


def main() -> None:
    say(f"bench-ingest: {EVENTS:,} events, batches of {BATCH:,}, {CLIENTS} clients, {WORKERS} uvicorn workers")
    say(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} (other work on it skews the figures)")
    data_dir = tempfile.mkdtemp(prefix="loopin-bench-")
    env = _server_env(data_dir)
    broker = redis.Redis.from_url(BROKER_URL)
    broker.flushdb()
    with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
        say(f"postgresql: {admin.execute('SHOW server_version').fetchone()[0]}")  # type: ignore[index]
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    try:
        manage(env, "migrate", "--noinput")
        key = manage(env, "create_api_key", "--name", "bench").strip().splitlines()[-1]

        started = time.perf_counter()
        bodies = make_batches(EVENTS, BATCH)
        warmup = [
            orjson.dumps(
                {
                    "events": [
                        {
                            "event_name": "bench_warmup",
                            "properties": {"i": i},
                            "context": {"user_agent": USER_AGENTS[i % len(USER_AGENTS)]},
                        }
                        for i in range(BATCH)
                    ]
                }
            )
            for _ in range(WARMUP_BATCHES)
        ]
        megabytes = sum(map(len, bodies)) / 1e6
        took = time.perf_counter() - started
        say(f"generated {EVENTS:,} events ({megabytes:.1f} MB of JSON) in {took:.0f} s")

        with psycopg.connect(PG_DSN, dbname=DB_NAME, autocommit=True) as conn:
            log_path = Path(data_dir) / "server.log"
            with server(env, log_path) as (base, process):
                warm_up(base, key, warmup)
                _settle(conn)
                sampler = MemorySampler(process.pid)
                sampler.start()
                cpu_before = CpuUse.now(process.pid)
                try:
                    seconds, stored = send_all(base, key, bodies)
                except SystemExit as failure:
                    raise SystemExit(f"{failure}\nserver log, last lines:\n{log_path.read_text()[-3000:]}") from None
                cpu_used = CpuUse.now(process.pid).since(cpu_before)
                sampler.stop()
                worker_hwm = sampler.worker_high_water_kib()
            rows = _count(conn)
            if stored != EVENTS or rows != EVENTS:
                raise SystemExit(f"expected {EVENTS} stored and in the table; got stored={stored}, rows={rows}")
            http_rate = EVENTS / seconds
            say(
                f"http: {EVENTS:,} events in {seconds:.2f} s = {http_rate:,.0f} events/s "
                f"(all 200, stored={stored:,}, table rows={rows:,})"
            )
            say(f"cpu during http ({os.cpu_count()} cores x {seconds:.1f} s): {cpu_used}")
            say(
                f"server peak memory: {sampler.peak_kib / 1024:.0f} MiB RSS (uvicorn tree, sampled sum); "
                f"largest process high-water {worker_hwm / 1024:.0f} MiB"
            )
            copy_seconds, copied = copy_rows(conn)
            if copied != EVENTS:
                raise SystemExit(f"COPY loaded {copied} rows, expected {EVENTS}")
            copy_rate = copied / copy_seconds
            say(f"copy: {copied:,} rows in {copy_seconds:.2f} s = {copy_rate:,.0f} rows/s")
            queued = broker.llen("ingest")
            say(f"processing messages queued on the broker (no worker): {queued}")
    finally:
        if os.environ.get("BENCH_KEEP_DB") != "1":
            with psycopg.connect(PG_DSN, dbname="postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        broker.flushdb()
        broker.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    say(f"ratio={http_rate / copy_rate:.3f}")


if __name__ == "__main__":
    main()

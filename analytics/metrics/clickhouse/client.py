"""The one way this service talks to ClickHouse: run a statement, read rows, insert an Arrow table.

Two clients behind one face (`ClickHouse`):
- `ChdbClient`: ClickHouse embedded in this process (chDB). chDB holds one session per process and one
  process per data directory: the session is opened once per process (after a fork, afresh) and every
  statement is serialised on it. Another process holding the directory makes opening fail with
  `EngineUnavailable` ("held by another process") — the embedded engine fits the embedded mode, where
  tasks run inside the one serving process; several workers need a server (docs/operations.md).
- `ServerClient`: a ClickHouse server or cluster over HTTP(S) through clickhouse-connect.

Statements take ClickHouse's own server-side parameters (`{name:Type}`), never text pasted into SQL.
Any failure to reach the engine is `EngineUnavailable` (the API answers 503 with Retry-After); a
statement the engine refuses is `EngineError` (a bug of ours: 500).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any, Protocol

import pyarrow as pa

from analytics.errors import Unavailable
from loopin_backend.clickhouse_target import ClickHouseTarget

logger = logging.getLogger("analytics.clickhouse")
RETRY_AFTER_SECONDS = 10


class EngineUnavailable(Unavailable):
    """The analytics engine cannot be reached (down, or its chDB directory held by another process)."""

    code = "analytics_engine_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=RETRY_AFTER_SECONDS)


class EngineError(RuntimeError):
    """The engine refused a statement."""


class ClickHouse(Protocol):
    target: ClickHouseTarget

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table: ...

    def insert(self, table: str, data: pa.Table) -> None: ...

    def close(self) -> None: ...


def rows(client: ClickHouse, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The result as Python tuples (dates as `date`, times as aware `datetime`, big integers as `int`)."""
    table = client.arrow(sql, params)
    columns = [column.to_pylist() for column in table.columns]
    return list(zip(*columns, strict=True)) if columns else []


class ChdbClient:
    """chDB in this process, on `target.path`."""

    _lock = threading.Lock()
    _session: Any = None
    _session_pid: int | None = None
    _session_path: str | None = None

    def __init__(self, target: ClickHouseTarget) -> None:
        self.target = target

    def _open(self) -> Any:
        cls = type(self)
        if cls._session is not None and cls._session_pid == os.getpid() and cls._session_path == self.target.path:
            return cls._session
        from chdb import session as chdb_session

        if cls._session is not None and cls._session_pid == os.getpid():
            cls._session.close()  # another path in the same process (tests): one session at a time
        try:
            os.makedirs(self.target.path, exist_ok=True)
            cls._session = chdb_session.Session(self.target.path)
        except Exception as exc:  # chDB says "Error initializing EmbeddedServer" when the path is held
            cls._session = None
            raise EngineUnavailable(
                f"the embedded analytics engine could not open {self.target.path} (held by another process?)"
            ) from exc
        cls._session_pid, cls._session_path = os.getpid(), self.target.path
        atexit.register(self.close)  # chDB complains at exit about a session nobody closed
        return cls._session

    def _query(self, sql: str, fmt: str, params: Mapping[str, Any] | None) -> Any:
        with self._lock:
            session = self._open()
            try:
                return session.query(sql, fmt, params={k: _text(v) for k, v in (params or {}).items()})
            except Exception as exc:
                raise EngineError(str(exc)) from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._query(sql, "CSV", params)

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        result = self._query(sql, "ArrowTable", params)
        return result if isinstance(result, pa.Table) else pa.table({})

    def insert(self, table: str, data: pa.Table) -> None:
        names = ", ".join(f"`{name}`" for name in data.column_names)
        batch = data  # chDB's Python() table function reads the variable of this frame by its name
        with self._lock:
            session = self._open()
            try:
                session.query(f"INSERT INTO {table} ({names}) SELECT {names} FROM Python(batch)")  # noqa: S608
            except Exception as exc:
                raise EngineError(str(exc)) from exc
        del batch

    def close(self) -> None:
        cls = type(self)
        with self._lock:
            if cls._session is not None and cls._session_pid == os.getpid():
                cls._session.close()
            cls._session = cls._session_pid = cls._session_path = None


def _text(value: Any) -> Any:
    """A parameter as chDB takes it: arrays in ClickHouse's text form (`['a','b']`), the rest as given."""
    if isinstance(value, list | tuple):
        quoted = ("'" + str(item).replace("\\", "\\\\").replace("'", "\\'") + "'" for item in value)
        return "[" + ",".join(quoted) + "]"
    return value


class ServerClient:
    """A ClickHouse server or cluster over HTTP(S)."""

    def __init__(self, target: ClickHouseTarget) -> None:
        self.target = target
        self._client: Any = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _connected(self) -> Any:
        if self._client is not None and self._pid == os.getpid():
            return self._client
        import clickhouse_connect

        try:
            self._client = clickhouse_connect.get_client(
                host=self.target.host,
                port=self.target.port,
                username=self.target.username,
                password=self.target.password,
                database=self.target.database,
                secure=self.target.secure,
                connect_timeout=5,
                send_receive_timeout=120,
                compress=False,
            )
        except Exception as exc:
            raise _failure(exc, self.target) from exc
        self._pid = os.getpid()
        return self._client

    def _call(self, action: Any) -> Any:
        with self._lock:
            client = self._connected()
        try:
            return action(client)
        except Exception as exc:
            raise _failure(exc, self.target) from exc

    def command(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._call(lambda client: client.command(sql, parameters=dict(params or {})))

    def arrow(self, sql: str, params: Mapping[str, Any] | None = None) -> pa.Table:
        return self._call(lambda client: client.query_arrow(sql, parameters=dict(params or {})))  # type: ignore[no-any-return]

    def insert(self, table: str, data: pa.Table) -> None:
        self._call(lambda client: client.insert_arrow(table, data))

    def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None


def _failure(exc: Exception, target: ClickHouseTarget) -> Exception:
    """A connection problem → EngineUnavailable; the engine refusing a statement → EngineError."""
    from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

    if isinstance(exc, OperationalError) or not isinstance(exc, DatabaseError):
        logger.warning("clickhouse.unreachable target=%s error=%s", target.label, type(exc).__name__)
        return EngineUnavailable(f"the analytics engine at {target.label} cannot be reached")
    return EngineError(str(exc))


_clients: dict[ClickHouseTarget, ClickHouse] = {}


def clickhouse_client(target: ClickHouseTarget) -> ClickHouse:
    """The process's client of `target` (one per target)."""
    found = _clients.get(target)
    if found is None:
        found = ChdbClient(target) if target.kind == "chdb" else ServerClient(target)
        _clients[target] = found
    return found

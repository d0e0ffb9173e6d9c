"""`ANALYTICS_CLICKHOUSE_URL`: which analytics engine answers the analyses (docs/operations.md, "Analytics
engine").

- empty or `off`: the SQL engine (the system of record's own database answers every analysis);
- `chdb:///absolute/path`: ClickHouse embedded in this process (chDB), its data under that directory;
- `http://user:password@host:8123/database` or `https://…`: a ClickHouse server or cluster (through
  clickhouse-connect); the database defaults to `default`, the port to 8123 (8443 with https).

Pure parsing, no Django: settings.py turns a `ValueError` into a start-up error naming the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

_DATABASE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ClickHouseTarget:
    """Where the analytics engine lives: `kind` is "chdb" (a directory) or "server" (an HTTP endpoint)."""

    kind: str
    path: str = ""  # chdb: the absolute data directory
    host: str = ""
    port: int = 0
    username: str = "default"
    password: str = ""
    database: str = "default"
    secure: bool = False

    @property
    def label(self) -> str:
        """How logs and health name it: never the password."""
        if self.kind == "chdb":
            return f"chdb:{self.path}"
        scheme = "https" if self.secure else "http"
        return f"{scheme}://{self.host}:{self.port}/{self.database}"


def clickhouse_target(value: str | None) -> ClickHouseTarget | None:
    """The engine a setting names; None for the SQL engine. Raises ValueError, saying what is wrong."""
    raw = (value or "").strip()
    if raw.lower() in ("", "off"):
        return None
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        if parts.netloc:
            raise ValueError("a chdb URL names a local directory: chdb:///absolute/path (three slashes)")
        path = unquote(parts.path)
        if not path.startswith("/") or path == "/" or ".." in PurePosixPath(path).parts:
            raise ValueError("a chdb URL needs an absolute directory: chdb:///absolute/path")
        if parts.query or parts.fragment:
            raise ValueError("a chdb URL takes no query or fragment")
        return ClickHouseTarget(kind="chdb", path=path.rstrip("/"))
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise ValueError("a ClickHouse server URL needs a host: http://user:password@host:8123/database")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("the port of the ClickHouse server URL is not a number from 1 to 65535") from exc
        database = unquote(parts.path.strip("/")) or "default"
        if not _DATABASE.match(database):
            raise ValueError("the database of the ClickHouse server URL is one name of letters, digits and _")
        if parts.query or parts.fragment:
            raise ValueError("a ClickHouse server URL takes no query or fragment")
        secure = scheme == "https"
        return ClickHouseTarget(
            kind="server",
            host=parts.hostname,
            port=port or (8443 if secure else 8123),
            username=unquote(parts.username) if parts.username else "default",
            password=unquote(parts.password) if parts.password else "",
            database=database,
            secure=secure,
        )
    raise ValueError("use chdb:///absolute/path, http(s)://user:password@host:port/database, or off")

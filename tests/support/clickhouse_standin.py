"""A stand-in that speaks ClickHouse's HTTP interface and executes each query in chDB (ClickHouse embedded
in-process); used because no usable ClickHouse server installs from these machines' registries (Debian's
clickhouse-server is 18.16, from 2018). It serves what clickhouse-connect sends: the SQL in the `query` URL
parameter and/or the body (or multipart form fields), `database`, `param_<name>` bindings, settings as URL
parameters, `INSERT … FORMAT <fmt>` followed by the data (lz4/zstd/gzip/deflate `Content-Encoding`), HTTP basic
auth, and `/ping`; it answers uncompressed, with ClickHouse's error bodies and headers.

with ClickHouseStandIn(data_dir, username="u", password="p") as ch:
    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch.port, username="u", password="p")
    ch.pause()   # connections refused; the data stays
    ch.resume()  # listening again on the same port

One chDB session serves every request, one at a time: sessions (`session_id`) are not kept apart, a `SET` sent as
a statement is seen by later requests, and external data (`--external` tables) is not supported.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import threading
import uuid
import zlib
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from chdb import session as chdb_session

from tests.support.local_http import QuietServer, serve_in_thread, stop_serving

# URL parameters the server itself consumes, or that have no meaning for an in-process engine.
_NOT_SETTINGS = frozenset(
    "query database default_format user password quota_key query_id session_id session_timeout session_check "
    "compress decompress buffer_size wait_end_of_query client_protocol_version role enable_http_compression "
    "send_progress_in_http_headers http_headers_progress_interval_ms readonly".split()
)
# `INSERT INTO … FORMAT <name>`: the data follows the name (after spaces and one line feed). No quote may come before
# FORMAT, so the word inside a VALUES string literal is never taken for the clause.
_INSERT_DATA = re.compile(rb"\s*(INSERT\s+INTO\s[^']*?)\bFORMAT\s+(\w+)[ \t]*(?:\r?\n)?", re.IGNORECASE)
_TRAILING_FORMAT = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.IGNORECASE)
_RETURNS_ROWS = re.compile(r"\s*\(?\s*(SELECT|WITH|SHOW|DESC|DESCRIBE|EXISTS|EXPLAIN|CHECK)\b", re.IGNORECASE)
_CODE = re.compile(r"Code: (\d+)\.")
# ClickHouse's HTTP status per exception code (HTTPHandler's exceptionCodeToHTTPStatus); anything else is 500.
_HTTP_STATUS = {6: 400, 27: 400, 53: 400, 62: 400, 117: 400, 516: 401}
_HTTP_STATUS |= dict.fromkeys((46, 47, 50, 56, 60, 63, 73, 81, 115), 404)


class ClickHouseError(Exception):
    """A ClickHouse exception: `Code: <code>. DB::Exception: <message>`."""

    def __init__(self, text: str) -> None:
        text = text[text.find("Code: ") :] if "Code: " in text else text  # chDB may prefix what it adds
        found = _CODE.match(text)
        self.code = int(found.group(1)) if found else 1001  # 1001: STD_EXCEPTION
        self.text = text if found else f"Code: 1001. DB::Exception: {text}"
        super().__init__(self.text)


def _decompress(body: bytes, encoding: str) -> bytes:
    """A request body as clickhouse-connect compresses it: lz4 and zstd as one frame per block, all concatenated."""
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(body)
    if encoding == "lz4":
        import lz4.frame

        out = bytearray()
        while body:
            frame = lz4.frame.LZ4FrameDecompressor()
            out += frame.decompress(body)
            body = frame.unused_data if frame.eof else b""
        return bytes(out)
    raise ClickHouseError(f"Code: 1. DB::Exception: Unknown HTTP compression method {encoding!r}. (UNSUPPORTED_METHOD)")


def _form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a multipart/form-data body (clickhouse-connect sends long bindings this way)."""
    form = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    for part in form.walk():
        name, payload = part.get_param("name", header="content-disposition"), part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode()
    return fields


class ClickHouseStandIn:
    """ClickHouse's HTTP interface on 127.0.0.1:`port` (0: a free one), over one chDB session on `data_dir`."""

    def __init__(self, data_dir: str, *, username: str = "default", password: str = "", port: int = 0) -> None:
        self.data_dir, self.username, self.password, self.port = data_dir, username, password, port
        self._lock = threading.Lock()
        self._session: chdb_session.Session | None = None
        self._known_settings: frozenset[str] = frozenset()
        self._applied: dict[str, str | None] = {}  # settings SET on the session now (None: unknown after a failure)
        self._version = self._timezone = ""
        self._server: QuietServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{quote(self.username, safe='')}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/default"

    def start(self) -> ClickHouseStandIn:
        self._session = chdb_session.Session(self.data_dir)
        identity = self._session.query("SELECT version(), timezone()", "TSV").bytes().decode()
        self._version, self._timezone = identity.split()
        names = self._session.query("SELECT name FROM system.settings", "TSV").bytes().decode().split()
        self._known_settings = frozenset(names)
        self.resume()
        return self

    def stop(self) -> None:
        self.pause()
        with self._lock:
            if self._session is not None:
                self._session.close()
                self._session = None

    def pause(self) -> None:
        """Stop listening (new connections are refused); the chDB session and its data stay."""
        stop_serving(self._server, self._thread)
        self._server = self._thread = None

    def resume(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            self._server, self._thread = serve_in_thread(self._handler(), name="clickhouse-standin", port=self.port)
            self.port = self._server.server_address[1]

    def __enter__(self) -> ClickHouseStandIn:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _authenticate(self, headers: Message, params: dict[str, str]) -> None:
        user, password = params.get("user", "default"), params.get("password", "")
        authorization = headers.get("Authorization", "")
        if authorization.startswith("Basic "):
            user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
        elif "X-ClickHouse-User" in headers:
            user, password = headers["X-ClickHouse-User"], headers.get("X-ClickHouse-Key", "")
        if self.password and (user, password) != (self.username, self.password):
            raise ClickHouseError(
                f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, "
                "or there is no user with such name. (AUTHENTICATION_FAILED)"
            )

    def _apply_settings(self, session: chdb_session.Session, wanted: dict[str, str]) -> None:
        """Make the session's settings those of this request: SET what changed, and back to DEFAULT what is gone."""
        if unknown := sorted(wanted.keys() - self._known_settings):
            raise ClickHouseError(f"Code: 115. DB::Exception: Unknown setting '{unknown[0]}'. (UNKNOWN_SETTING)")
        quoted = {name: "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" for name, value in wanted.items()}
        changes = [f"{name} = {quoted[name]}" for name, value in wanted.items() if self._applied.get(name) != value]
        changes += [f"{name} = DEFAULT" for name in self._applied if name not in wanted]
        if changes:
            self._applied = dict.fromkeys(self._applied.keys() | wanted.keys())
            session.query("SET " + ", ".join(changes), "TSV")
            self._applied = dict(wanted)

    def _execute(self, sql: bytes, params: dict[str, str], headers: Message) -> tuple[bytes, dict[str, str]]:
        """Run one request's statement; its output in the requested format and the response headers."""
        database = params.get("database") or headers.get("X-ClickHouse-Database") or "default"
        settings = {k: v for k, v in params.items() if k not in _NOT_SETTINGS and not k.startswith("param_")}
        bindings = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        insert = _INSERT_DATA.match(sql) if sql.lstrip()[:6].upper() == b"INSERT" else None
        with self._lock:
            session = self._session
            if session is None:
                raise ClickHouseError("Code: 1001. DB::Exception: The stand-in is stopped.")
            try:
                session.query("USE `" + database.replace("\\", "\\\\").replace("`", "\\`") + "`", "TSV")
                self._apply_settings(session, settings)
                if insert is not None:
                    with session.send_insert(insert.group(1).decode().strip(), insert.group(2).decode()) as inserter:
                        inserter.append(sql[insert.end() :])
                        written = inserter.finish()
                    summary = {"written_rows": written.rows_written, "written_bytes": written.bytes_written}
                    return b"", {"X-ClickHouse-Summary": json.dumps({k: str(v) for k, v in summary.items()})}
                text = sql.decode()
                trailing = _TRAILING_FORMAT.search(text)
                fmt = trailing.group(1) if trailing else params.get("default_format") or "TabSeparated"
                result = session.query(text, fmt, params=bindings)
            except ClickHouseError:
                raise
            except Exception as error:
                raise ClickHouseError(str(error)) from error
        summary = {
            "read_rows": result.rows_read(),
            "read_bytes": result.bytes_read(),
            "elapsed_ns": result.elapsed() * 1e9,
        }
        out = {"X-ClickHouse-Summary": json.dumps({k: str(int(v)) for k, v in summary.items()})}
        if _RETURNS_ROWS.match(text):  # clickhouse-connect's command() tells "" (no rows) from DDL by this header
            out["X-ClickHouse-Format"] = fmt
        kind = "application/json; charset=UTF-8" if fmt.startswith("JSON") else "application/octet-stream"
        out["Content-Type"] = "text/tab-separated-values; charset=UTF-8" if fmt.startswith(("TabSep", "TSV")) else kind
        return bytes(result.bytes()), out

    def _answer(self, method: str, target: str, headers: Message, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        url = urlsplit(target)
        if method == "GET" and url.path == "/ping":
            return 200, b"Ok.\n", {"Content-Type": "text/html; charset=UTF-8"}
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        out = {"X-ClickHouse-Query-Id": params.get("query_id") or str(uuid.uuid4())}
        out["X-ClickHouse-Timezone"] = params.get("session_timezone") or self._timezone
        out["X-ClickHouse-Server-Display-Name"] = "chdb-standin"
        try:
            body = _decompress(body, headers.get("Content-Encoding", ""))
            if headers.get("Content-Type", "").startswith("multipart/form-data"):
                params, body = params | _form_fields(headers["Content-Type"], body), b""
            self._authenticate(headers, params)
            sql = params.get("query", "").encode()
            sql = sql + b"\n" + body if sql and body else sql or body
            if not sql.strip():
                raise ClickHouseError("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
            output, more = self._execute(sql, params, headers)
            return 200, output, out | more
        except Exception as failure:
            error = failure if isinstance(failure, ClickHouseError) else ClickHouseError(str(failure))
            out |= {"X-ClickHouse-Exception-Code": str(error.code), "Content-Type": "text/plain; charset=UTF-8"}
            text = error.text if "(version " in error.text else f"{error.text} (version {self._version})"
            return _HTTP_STATUS.get(error.code, 500), f"{text}\n".encode(), out

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _read_body(self) -> bytes:
                if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                    return self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = bytearray()  # urllib3 sends clickhouse-connect's insert blocks (a generator) chunked
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    body += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline().strip():  # trailers, up to the blank line
                    pass
                return bytes(body)

            def _respond(self) -> None:
                status, body, headers = owner._answer(self.command, self.path, self.headers, self._read_body())
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _respond

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

"""A local SMTP server (aiosmtpd): the real protocol on 127.0.0.1, a record of every message accepted.

with SmtpServer() as smtp:
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
    smtp.fail_next(1)            # the next DATA is answered 451 (a temporary failure)
    ...
    assert smtp.messages()[0].recipients == ["ops@example.com"]
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
        return self.server._receive(envelope)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port = 0
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._failures = 0
        self._refused = 0
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.port = _free_port()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, count: int) -> None:
        """Answer the next `count` messages' DATA with 451 (temporary local error)."""
        with self._lock:
            self._failures += count

    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    @property
    def refused(self) -> int:
        with self._lock:
            return self._refused

    def _receive(self, envelope: Any) -> str:
        with self._lock:
            if self._failures:
                self._failures -= 1
                self._refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            self._messages.append(
                ReceivedMail(sender=envelope.mail_from, recipients=list(envelope.rcpt_tos), raw=bytes(envelope.content))
            )
        return "250 2.0.0 OK"

"""python manage.py totp_enrol --username U

Gives an admin or dashboard account a TOTP authenticator (replacing any earlier one) and prints its secret
and its otpauth URI — the URI alone on the last line, for an authenticator app or a QR code."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.errors import NotFound
from analytics.security.two_factor import totp_enrol


class Command(BaseCommand):
    help = "Enrol an account in two-factor authentication (TOTP). Prints the secret, then the otpauth URI."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            enrolment = totp_enrol(options["username"])
        except NotFound as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Enrolled '{enrolment.username}' in two-factor authentication (any earlier device removed).")
        self.stdout.write("Add it to an authenticator app now: the secret is not shown again.")
        self.stdout.write(f"secret: {enrolment.secret}")
        self.stdout.write(enrolment.uri)

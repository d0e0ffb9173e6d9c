"""python manage.py totp_code --username U   (development only: DEBUG=true)

Prints the current two-factor code of an enrolled account, so that the demo's logins work without an
authenticator app. Refused in production, where the code comes from the account owner's app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.security.two_factor import totp_code, totp_device


class Command(BaseCommand):
    help = "Print an enrolled account's current TOTP code (DEBUG only: the demo's logins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("totp_code works only with DEBUG=true: in production the code is the owner's app's")
        user = get_user_model().objects.filter(username=options["username"]).first()
        device = None if user is None else totp_device(user)
        if device is None:
            raise CommandError(f"{options['username']!r} is not enrolled (manage.py totp_enrol --username …)")
        self.stdout.write(totp_code(device))

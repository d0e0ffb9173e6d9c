"""python manage.py create_dashboard_user --username U --role admin|analyst|host [--host-id ID]

Creates a dashboard login and prints its generated password alone on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.dashboard.accounts import dashboard_user_create
from analytics.errors import Conflict, ValidationFailed
from analytics.security.roles import Role


class Command(BaseCommand):
    help = "Create a dashboard user with a role (a host with its host id). The password is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--host-id", default=None, help="The host this account is (role host only)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            password = dashboard_user_create(
                username=options["username"], role=options["role"], host_id=options["host_id"]
            )
        except (ValidationFailed, Conflict) as exc:
            raise CommandError(exc.message) from None
        host = f" for host {options['host_id']}" if options["host_id"] else ""
        self.stdout.write(f"Created dashboard user '{options['username']}' ({options['role']}{host}).")
        self.stdout.write("Store the password now: it is not shown again.")
        self.stdout.write(password)

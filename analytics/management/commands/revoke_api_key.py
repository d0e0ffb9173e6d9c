"""python manage.py revoke_api_key (--id ID | --prefix PREFIX)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.errors import NotFound
from analytics.security.api_keys import api_key_revoke


class Command(BaseCommand):
    help = "Revoke an ingestion write key; it answers 401 from then on."

    def add_arguments(self, parser: CommandParser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--id", type=int, help="The key's id")
        group.add_argument("--prefix", help="The key's printed prefix (lak_xxxxxxxx)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            row = api_key_revoke(key_id=options["id"], prefix=options["prefix"], actor="cli:revoke_api_key")
        except NotFound as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked write key #{row.id} '{row.name}' ({row.prefix}).")

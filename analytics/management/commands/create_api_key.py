"""python manage.py create_api_key --name NAME — prints the new write key alone on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from analytics.security.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an ingestion write key. The key is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="Who or what the key is for")

    def handle(self, *args: Any, **options: Any) -> None:
        issued = api_key_create(name=options["name"], actor="cli:create_api_key")
        self.stdout.write(f"Created write key #{issued.id} '{issued.name}' (prefix {issued.prefix}).")
        self.stdout.write("Store it now: only its hash is kept. Send it as X-API-Key or Authorization: Bearer.")
        self.stdout.write(issued.key)

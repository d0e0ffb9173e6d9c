"""python manage.py issue_token --role admin|analyst|host [--host-id ID] [--sub S] [--ttl-minutes N]."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.errors import ValidationFailed
from analytics.security.audit import audit_record
from analytics.security.roles import Role
from analytics.security.tokens import token_issue


class Command(BaseCommand):
    help = "Print a signed JWT for the read API (and nothing else)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--host-id", default=None, help="Required for --role host")
        parser.add_argument("--sub", default=None, help="The subject (default: cli-<role>)")
        parser.add_argument("--ttl-minutes", type=int, default=None, help="Lifetime (default JWT_DEFAULT_TTL_MINUTES)")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        sub = options["sub"] or f"cli-{role}"
        try:
            token = token_issue(role=role, sub=sub, host_id=options["host_id"], ttl_minutes=options["ttl_minutes"])
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        audit_record(
            actor="cli:issue_token",
            action="token.issue",
            actor_role=role,
            target_type="token",
            target_id=sub,
            details={"role": role, "host_id": options["host_id"]},
        )
        self.stdout.write(token)

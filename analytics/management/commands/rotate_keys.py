"""python manage.py rotate_keys [--batch-size N]

Re-encrypts every stored review and feedback text with the newest key of FIELD_ENCRYPTION_KEYS while the
older keys are still configured (docs/operations.md, "Encryption at rest": add the new key in front, run
this, then remove the old key). Batches of events, each one transaction; run it again after a stop and it
resumes (texts already under the newest key are skipped). Exits 1 when a text no configured key opens."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.privacy.encryption import encrypted_texts_rotate
from analytics.security.audit import audit_record


class Command(BaseCommand):
    help = "Re-encrypt every stored sensitive text with the newest key of FIELD_ENCRYPTION_KEYS (resumable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="events per transaction (1–10,000)")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"]
        if not 1 <= batch_size <= 10_000:
            raise CommandError("--batch-size must be between 1 and 10,000")
        result = encrypted_texts_rotate(batch_size=batch_size)
        audit_record(
            actor="cli:rotate_keys",
            action="encryption.rotate",
            target_type="user_event",
            details={"rotated": result.rotated, "current": result.current, "undecryptable": result.undecryptable},
        )
        self.stdout.write(
            f"rotated={result.rotated} already_current={result.current} undecryptable={result.undecryptable}"
        )
        if result.undecryptable:
            raise CommandError(
                f"{result.undecryptable} texts open with none of the configured keys: keep the old key configured "
                "until every text is rotated"
            )

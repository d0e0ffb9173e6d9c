"""`make flower` (and the compose file's flower service): Celery's monitor, never open.

Flower shows every task's arguments and can revoke tasks and shut workers down, so it only starts behind
basic authentication from the settings: FLOWER_BASIC_AUTH, `user:password` (several separated by commas),
each password at least 12 characters. The value reaches Flower through its own environment variable,
never the command line (where `ps` would show it). Arguments are passed on to Flower (`--port=5555`)."""

from __future__ import annotations

import os
import sys

MIN_PASSWORD = 12


def flower_auth_problem(value: str) -> str | None:
    """What is wrong with a FLOWER_BASIC_AUTH value, or None."""
    if not value.strip():
        return "FLOWER_BASIC_AUTH is not set (user:password in .env or the environment); Flower never runs open"
    for pair in value.split(","):
        user, sep, password = pair.partition(":")
        if not sep or not user.strip():
            return "FLOWER_BASIC_AUTH must be user:password (several separated by commas)"
        if len(password) < MIN_PASSWORD:
            return f"FLOWER_BASIC_AUTH: the password of {user.strip()!r} is shorter than {MIN_PASSWORD} characters"
    return None


def flower_command(argv: list[str], auth: str) -> tuple[list[str], dict[str, str]]:
    """The command that runs Flower with `argv`, and its environment carrying the credentials."""
    command = [sys.executable, "-m", "celery", "-A", "loopin_backend", "flower", *argv]
    return command, {**os.environ, "FLOWER_BASIC_AUTH": auth}


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopin_backend.settings")
    from django.conf import settings

    auth = settings.FLOWER_BASIC_AUTH
    problem = flower_auth_problem(auth)
    if problem:
        print(f"flower: {problem}", file=sys.stderr)
        return 2
    command, env = flower_command(argv, auth)
    os.execvpe(command[0], command, env)  # noqa: S606 (our own interpreter, fixed arguments)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Dockerfile and docker-compose.yml stay honest (no Docker engine runs here, so they are checked, not
run): the compose services run the Makefile's own commands, every variable they set is a setting the
service reads, secrets are required rather than defaulted, and the image installs the lock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from loopin_backend.settings import Env

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _make_command(target: str) -> list[str]:
    """A Makefile target's command with the virtual environment's prefix taken off."""
    recipe = re.search(rf"^{target}:.*\n\t(.+)$", MAKEFILE, re.MULTILINE)
    assert recipe, target
    return shlex.split(recipe.group(1).replace("$(VENV)/bin/", ""))


def _uvicorn_flags() -> list[str]:
    line = re.search(r"^UVICORN := (.+?)(?<!\\)$", MAKEFILE, re.MULTILINE | re.DOTALL)
    assert line
    return shlex.split(line.group(1).replace("\\\n", " ").replace("$(PY) -m uvicorn", "uvicorn"))


def test_the_services_are_the_documented_ones() -> None:
    assert set(COMPOSE["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat", "flower"}


def test_worker_beat_and_flower_run_the_makefiles_commands() -> None:
    for service in ("worker", "beat"):
        assert COMPOSE["services"][service]["command"] == _make_command(service), service
    flower = COMPOSE["services"]["flower"]
    assert flower["command"][: len(_make_command("flower"))] == _make_command("flower")
    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "${FLOWER_BASIC_AUTH:?set FLOWER_BASIC_AUTH}"  # never open


def test_the_web_server_keeps_the_makefiles_edge_settings() -> None:
    web = COMPOSE["services"]["web"]["command"]
    for flag in _uvicorn_flags():
        assert flag in web, flag
    cmd = re.search(r"^CMD (\[.+?\])$", DOCKERFILE, re.MULTILINE | re.DOTALL)
    assert cmd
    for flag in _uvicorn_flags():
        assert f'"{flag}"' in cmd.group(1), flag


def test_every_variable_is_a_setting_and_secrets_have_no_default() -> None:
    env = COMPOSE["x-analytics-env"]
    known = set(Env.model_fields)
    assert set(env) - known == set(), set(env) - known
    for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
        assert env[name] == f"${{{name}:?set {name}}}"
    assert env["DEBUG"] == "false"
    for service in ("migrate", "web", "worker", "beat"):
        assert COMPOSE["services"][service]["environment"] == env, service
    assert COMPOSE["services"]["flower"]["environment"] == {
        **env,
        "FLOWER_BASIC_AUTH": "${FLOWER_BASIC_AUTH:?set FLOWER_BASIC_AUTH}",
    }


def test_the_image_installs_the_lock_then_the_project_without_resolving_again() -> None:
    assert "RUN pip install -r requirements.txt" in DOCKERFILE
    assert "pip install --no-deps ." in DOCKERFILE
    assert "USER loopin" in DOCKERFILE  # not root

"""requirements.txt is the pinned closure of pyproject.toml's run-time dependencies (loopin_backend/lock.py):
it fails here when a dependency is added, removed or re-ranged without `make requirements`, or when the
environment the suite runs in is not the one the lock describes."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from loopin_backend.lock import LOCK, direct_requirements, lock_text


def _pins() -> dict[str, str]:
    lines = [line for line in LOCK.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in lines)}


def test_the_lock_is_what_pyproject_and_the_installed_versions_give() -> None:
    assert LOCK.read_text(encoding="utf-8") == lock_text(), "requirements.txt drifted: run `make requirements`"


def test_every_direct_dependency_is_pinned_within_its_range() -> None:
    pins = _pins()
    for requirement in direct_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (name, pins[name], requirement)


def test_the_test_tools_stay_out_of_the_lock() -> None:
    pins = _pins()
    for tool in ("pytest", "ruff", "mypy", "playwright", "aiosmtpd"):
        assert tool not in pins

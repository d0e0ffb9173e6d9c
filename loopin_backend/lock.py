"""requirements.txt: the pinned closure of the run-time dependencies in pyproject.toml.

`make requirements` (or `python -m loopin_backend.lock`) writes it from the installed environment: every
distribution that `[project.dependencies]` needs, directly or not, for this platform, at the version
installed. `make` installs from it first, so a fresh environment gets exactly the tested versions, and
`tests/unit/project/test_requirements_lock.py` fails when pyproject.toml and the lock drift apart.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.txt"
HEADER = (
    "# Pinned run-time dependencies of loopin-analytics (generated from pyproject.toml by `make requirements`;\n"
    "# do not edit by hand). Install: pip install -r requirements.txt && pip install --no-deps .\n"
)


def direct_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def closure() -> dict[str, str]:
    """{canonical name: installed version} of everything the run-time dependencies pull in here."""
    pinned: dict[str, str] = {}
    pending: list[tuple[Requirement, frozenset[str]]] = [(r, frozenset(r.extras)) for r in direct_requirements()]
    seen_extras: dict[str, set[str]] = {}
    while pending:
        requirement, extras = pending.pop()
        if requirement.marker is not None and not any(
            requirement.marker.evaluate({"extra": e}) for e in (extras or {""})
        ):
            continue
        name = canonicalize_name(requirement.name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise SystemExit(f"{name} is required but not installed: run `make` first") from None
        wanted = set(requirement.extras)
        if name in pinned and wanted <= seen_extras.get(name, set()):
            continue
        pinned[name] = dist.version
        seen_extras.setdefault(name, set()).update(wanted)
        for raw in dist.requires or []:
            child = Requirement(raw)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in (wanted or {""})):
                pending.append((Requirement(str(child).split(";")[0]), frozenset(child.extras)))
    return dict(sorted(pinned.items()))


def lock_text() -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in closure().items())


def main() -> int:
    LOCK.write_text(lock_text(), encoding="utf-8")
    print(f"wrote {LOCK} ({len(closure())} pinned distributions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every reference in README.md and docs/ resolves inside the repository: Markdown links to files, and
repository paths named in the text (`analytics/…`, `docs/…`, `tests/…`, `bench/…`, `loopin_backend/…`).
A doc that cites a file nobody can open (a design note kept elsewhere, a renamed test) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"(?<![\w/.-])((?:docs|analytics|tests|bench|loopin_backend|\.ci)/[\w./-]*\w)")
OUTSIDE = re.compile(r"ARCHITECTURE\.md|CONVENTIONS\.md|\.\./shared")


def _broken(doc: Path) -> list[str]:
    text = doc.read_text(encoding="utf-8")
    broken = [
        f"link {t}"
        for t in LINK.findall(text)
        if not re.match(r"^([a-z]+:|#)", t) and not (doc.parent / t.split("#")[0]).exists()
    ]
    broken += [f"path {p}" for p in sorted(set(REPO_PATH.findall(text))) if not (ROOT / p).exists()]
    broken += [f"outside the repository: {m}" for m in sorted(set(OUTSIDE.findall(text)))]
    return broken


@pytest.mark.parametrize("doc", DOCS, ids=[d.name for d in DOCS])
def test_every_reference_resolves(doc: Path) -> None:
    assert _broken(doc) == []


def test_the_check_sees_a_broken_reference(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text("See [the guide](missing.md), tests/unit/no_such_test.py and ../shared/ARCHITECTURE.md.\n")
    assert _broken(doc) == [
        "link missing.md",
        "path tests/unit/no_such_test.py",
        "outside the repository: ../shared",
        "outside the repository: ARCHITECTURE.md",
    ]


def test_the_readme_shows_the_dashboard_and_links_the_operator_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "![" in readme and "(docs/img/overview.png)" in readme
    assert (ROOT / "docs" / "img" / "overview.png").stat().st_size > 10_000
    assert "docs/operations.md" in readme

"""docs/evaluation.md written by `evaluate`: `--only` replaces the sections it ran and keeps the others."""

from __future__ import annotations

from pathlib import Path

from analytics.intelligence.evaluation import EvaluationSection, Target, report_write


def _section(key: str, title: str, body: str, measured: float) -> EvaluationSection:
    return EvaluationSection(key, title, body, [Target(f"{key} target", measured, "≥ 0.5", measured >= 0.5)])


def test_a_partial_run_replaces_its_sections_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "evaluation.md"
    report_write(
        [_section("a", "Alpha", "alpha body\n\n### sub\n\nmore", 0.9), _section("b", "Beta", "beta v1", 0.4)], path=path
    )
    report_write([_section("b", "Beta", "beta v2", 0.6), _section("c", "Gamma", "gamma", 0.7)], path=path, merge=True)
    text = path.read_text(encoding="utf-8")
    assert "| a | a target | 0.900 | ≥ 0.5 | yes |\n| b | b target | 0.600 | ≥ 0.5 | yes |\n| c | c target |" in text
    assert "beta v1" not in text and "0.400" not in text
    assert (
        text.index("## Alpha\n\nalpha body\n\n### sub\n\nmore")
        < text.index("## Beta\n\nbeta v2")
        < text.index("## Gamma")
    )
    report_write([_section("b", "Beta", "beta v3", 0.6)], path=path)  # a full run writes only what it ran
    assert "## Alpha" not in path.read_text(encoding="utf-8")

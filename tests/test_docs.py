"""The KPI definitions are the contract, quoted in the README and in docs/kpi.md: the same text."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _definitions(text: str, heading: str) -> str:
    """The section's definitions: from the first one (offered) to the next heading."""
    body = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return body[body.index("- offered:"):].strip()


def test_the_readme_and_docs_kpi_define_the_kpis_identically() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    kpi = (ROOT / "docs" / "kpi.md").read_text(encoding="utf-8")
    assert _definitions(kpi, "# KPI definitions\n") == _definitions(readme, "## KPI definitions\n")

"""The documents a newcomer reads stay what they promise: a short README whose test command is
the one CI runs, and a results folder whose index lists every report under a current name."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def test_readme_is_a_short_product_page_with_the_ci_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode("utf-8")) <= 10_000
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci in readme  # README command 2 is what CI runs


def test_results_index_links_every_report_and_no_versioned_names_remain():
    index = (RESULTS / "README.md").read_text(encoding="utf-8")
    linked = {link for link in re.findall(r"\]\(([^)#]+\.md)\)", index) if "/" not in link}  # this folder's
    reports = {p.name for p in RESULTS.glob("*.md")} - {"README.md"}
    assert reports - linked == set(), "reports missing from benchmarks/results/README.md"
    assert linked - reports == set(), "index links a report that is not there"
    versioned = [p.name for p in RESULTS.rglob("*") if re.search(r"_v\d|^v\d$", p.name)]
    assert versioned == []


def test_experiment_index_lists_every_experiment():
    folder = ROOT / "docs" / "experiments"
    index = (folder / "README.md").read_text(encoding="utf-8")
    stories = sorted(p.name for p in folder.glob("[0-9][0-9][0-9]-*.md"))
    assert stories and [s for s in stories if s not in index] == []

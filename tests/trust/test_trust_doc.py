"""docs/trust.md has one row per case of the catalogue, and no row without a case.

What a row says about its case (a message, a fault's outcome) is checked by the case's own test, which compares its
row with what it saw (conftest.TrustDoc); this module checks only what needs no other test: each table's header,
exactly one row per case, no row that names no case, and the cells that come from the catalogue alone (a fault's
stage, how it is injected and its recovery; how a setting is given; a payload's status and error code).
"""

from __future__ import annotations

import pytest

BLOCKS = ("faults", "dataset", "config", "payloads")


@pytest.mark.parametrize("block", BLOCKS)
def test_every_case_has_exactly_one_row_and_every_row_a_case(block, catalogue, trust_doc):
    if trust_doc.updating:  # then conftest.pytest_sessionfinish makes this check, on what it wrote
        pytest.skip("VGSALES_UPDATE_TRUST_DOC is set: the rows are rewritten and checked at the end of the session")
    problems = catalogue.problems(catalogue.DOC.read_text(), block)
    assert problems == [], (
        "docs/trust.md does not match the catalogue:\n  "
        + "\n  ".join(problems)
        + "\nRegenerate it with VGSALES_UPDATE_TRUST_DOC=1 pytest tests/trust"
    )


def test_the_blocks_are_the_catalogues(catalogue):
    assert catalogue.BLOCKS == BLOCKS and set(catalogue.CASES) == set(BLOCKS)


def _document(catalogue) -> str:
    """A docs/trust.md of the catalogue's cases, with made-up observations."""
    parts = []
    for name in BLOCKS:
        observed = {"recovered": True, "stray": 0} if name == "faults" else "Refused. Nothing was created."
        rows = [catalogue.render_row(name, case, observed) for case in catalogue.CASES[name]]
        parts.append("\n".join([f"<!-- BEGIN {name} -->", *catalogue.header(name), *rows, f"<!-- END {name} -->"]))
    return "# Trust\n\n" + "\n\nText between the tables.\n\n".join(parts) + "\n"


def test_the_check_finds_a_missing_a_doubled_a_stray_and_a_changed_row(catalogue):
    """On a document made here: the check above is not blind to what it is there for."""
    text = _document(catalogue)
    assert [problem for name in BLOCKS for problem in catalogue.problems(text, name)] == []
    fault, case = catalogue.FAULTS[0], catalogue.CONFIG_CASES[0]
    fault_row = catalogue.rows_of(text, "faults", fault)[0]
    config_row = catalogue.rows_of(text, "config", case)[0]
    stray = catalogue.render_row("dataset", catalogue.DatasetCase("gone", "a case the catalogue lost", "", ""), "x")
    missing = text.replace(f"{fault_row}\n", "")
    doubled = text.replace(config_row, f"{config_row}\n{config_row}")
    strayed = text.replace("<!-- END dataset -->", f"{stray}\n<!-- END dataset -->")
    changed = text.replace(fault_row, fault_row.replace(catalogue._cell(fault.recovery), "retry until it works"))
    assert any(f"case {fault.key!r} has 0 rows" in p for p in catalogue.problems(missing, "faults"))
    assert any(f"case {case.key!r} has 2 rows" in p for p in catalogue.problems(doubled, "config"))
    assert any("names no case" in p for p in catalogue.problems(strayed, "dataset"))
    assert any("'Recovery'" in p for p in catalogue.problems(changed, "faults"))
    # ... while the observed cells are left to the tests that observe them.
    reworded = text.replace(config_row, config_row.replace("Nothing was created.", "Nothing at all was created."))
    assert reworded != text and catalogue.problems(reworded, "config") == []


def test_a_rewrite_renders_what_was_seen_and_keeps_the_rest(catalogue):
    """VGSALES_UPDATE_TRUST_DOC=1's rewrite (conftest.pytest_sessionfinish), on a document made here."""
    text = _document(catalogue)
    case, other = catalogue.DATASET_CASES[0], catalogue.DATASET_CASES[1]
    stray = catalogue.render_row("dataset", catalogue.DatasetCase("gone", "a case the catalogue lost", "", ""), "x")
    text = text.replace("<!-- END dataset -->", f"{stray}\n<!-- END dataset -->")
    gone = catalogue.rows_of(text, "config", catalogue.CONFIG_CASES[0])[0]
    text = text.replace(f"{gone}\n", "")
    rewritten, kept, missing = catalogue.rewrite(text, {"dataset": {case.key: "What the test saw."}})
    seen = catalogue.render_row("dataset", case, "What the test saw.")
    assert catalogue.rows_of(rewritten, "dataset", case) == [seen]
    assert catalogue.rows_of(rewritten, "dataset", other) == catalogue.rows_of(text, "dataset", other)
    assert f"dataset {other.key}" in kept and f"dataset {case.key}" not in kept
    assert missing == [f"config {catalogue.CONFIG_CASES[0].key}"], "neither seen nor in the document"
    assert stray not in rewritten and "Text between the tables." in rewritten
    assert [problem for name in BLOCKS for problem in catalogue.problems(rewritten, name)] == []
    assert catalogue.rows_of(rewritten, "config", catalogue.CONFIG_CASES[0]) == [
        catalogue.render_row("config", catalogue.CONFIG_CASES[0])  # its observed cell UNOBSERVED
    ]

"""The stack name prefix: one table of good and bad names (name_prefixes.json) that the Python settings check
accepts or refuses exactly as the table says. tests/terraform/test_terraform.py holds Terraform's validation
to the same table, so the two rule sets cannot drift apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vgsales.errors import WorkshopError
from vgsales.records import run_name
from vgsales.settings import NAME_PREFIX_MAX, check_name_prefix

TABLE = json.loads((Path(__file__).parent / "name_prefixes.json").read_text(encoding="utf-8"))["cases"]
SAGEMAKER_NAME_MAX = 63


@pytest.mark.parametrize("case", TABLE, ids=[f"{case['name']!r}-{case['why']}" for case in TABLE])
def test_the_settings_check_agrees_with_the_table(case: dict) -> None:
    if case["valid"]:
        check_name_prefix(case["name"])
    else:
        with pytest.raises(WorkshopError, match=r"Invalid setting workshop\.name_prefix: .* is not a valid name prefix: "):
            check_name_prefix(case["name"])


def test_the_longest_derived_name_fits_sagemaker_for_the_longest_prefix() -> None:
    """The 24-character limit is what keeps deploy's endpoint config name within SageMaker's 63."""
    from vgsales.pipeline.deploy import _names

    class Prefix:  # the one setting _names reads besides the serving ones
        name_prefix = "a" * NAME_PREFIX_MAX
        deploy = type("Deploy", (), {"instance_type": "ml.m5.large", "instance_count": 1, "serverless": None})

    job = run_name(Prefix.name_prefix, "xgb")
    model, config = _names(Prefix, job)
    assert max(len(job), len(model), len(config)) == len(config) <= SAGEMAKER_NAME_MAX
    assert len(config) - NAME_PREFIX_MAX == 35, "the rationale in settings.py and terraform/variables.tf says 35"


def test_run_names_are_unique_within_one_second() -> None:
    names = {run_name("vgsales", "xgb") for _ in range(50)}
    assert len(names) >= 45, "names carry a random part, so two runs in one second do not collide"

"""A bad mapping (a whole section, tags, the tuning ranges) is refused with where to fix it: under its key in a
-f file. No variable sets a whole mapping, so none is suggested (INVOKE_WORKSHOP_TRAINING does not exist); a
single setting's message still names its own variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsales.errors import WorkshopError
from vgsales.settings import Settings, project_defaults, with_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def refusal(changes: dict) -> str:
    data = with_changes(project_defaults(PROJECT_ROOT), changes)
    with pytest.raises(WorkshopError) as refused:
        Settings.from_config(data, project_dir=PROJECT_ROOT)
    message = str(refused.value)
    assert "\n" not in message and "Nothing was created" in message
    return message


MAPPINGS = {
    "a section that is not a mapping": ({"training": "ml.m5.large"}, "workshop.training", "expected a mapping"),
    "an unknown key in a section": ({"training.instance_typ": "ml.m5.large"}, "workshop.training",
                                    "unknown key(s) instance_typ (did you mean instance_type?)"),
    "an unknown top-level key": ({"trainig": {}}, "workshop", "unknown key(s) trainig (did you mean training?)"),
    "a bad tag": ({"tags": {"vgsales:stack": "x"}}, "workshop.tags", "identifies the stack"),
    "tags that are not a mapping": ({"tags": "owner=me"}, "workshop.tags", "expected a mapping"),
    "hyperparameters that are not a mapping": ({"training.hyperparameters": "max_depth=3"},
                                               "workshop.training.hyperparameters", "expected a mapping"),
    "a grid without values": ({"tuning.strategy": "Grid"}, "workshop.tuning.ranges.eta", "needs a list of values"),
    "an objective the training cannot give": ({"training.hyperparameters.objective": "reg:squarederror",
                                               "training.hyperparameters.eval_metric": "rmse"},
                                              "workshop.tuning.ranges", "can only be applied for classification"),
    "a range that is not a mapping": ({"tuning.ranges.eta": "0.1-0.5"}, "workshop.tuning.ranges.eta",
                                      "expected a mapping"),
    "a serverless section that is not a mapping": ({"deploy.serverless": "2048"}, "workshop.deploy.serverless",
                                                   "expected a mapping"),
}  # fmt: skip


@pytest.mark.parametrize("changes, key, problem", MAPPINGS.values(), ids=MAPPINGS.keys())
def test_a_bad_mapping_points_at_a_settings_file_not_at_a_variable(changes, key, problem):
    message = refusal(changes)
    assert message.startswith(f"Invalid setting {key}: ") and problem in message
    assert f"Fix it under {key} in invoke.yaml or in a YAML file you pass with -f" in message
    assert "INVOKE_" not in message


@pytest.mark.parametrize("key", ["aws:owner", "AWS:owner", "Aws:CreatedBy"])
def test_a_tag_key_in_the_aws_namespace_is_refused_in_any_case(key):
    """AWS reserves tag keys starting with aws: in upper, lower or mixed case."""
    message = refusal({"tags": {key: "me"}})
    assert f"tag {key!r} starts with 'aws:', which AWS reserves" in message


@pytest.mark.parametrize("key", ["aws-team", "awsome:owner", "team:aws:owner"])
def test_a_tag_key_that_only_looks_like_the_aws_namespace_is_kept(key):
    settings = Settings.from_config(with_changes(project_defaults(PROJECT_ROOT), {"tags": {key: "me"}}))
    assert settings.tags[key] == "me"


def test_a_missing_section_points_at_invoke_yaml(monkeypatch):
    data = project_defaults(PROJECT_ROOT)
    del data["evaluate"]
    with pytest.raises(WorkshopError) as refused:
        Settings.from_config(data)
    message = str(refused.value)
    assert message.startswith("Invalid setting workshop.evaluate: it is missing") and "INVOKE_" not in message


def test_a_list_of_values_is_a_file_only_list():
    message = refusal({"tuning.ranges.booster": {"values": "gbtree"}})
    assert "Invalid setting workshop.tuning.ranges.booster.values: expected a list of values" in message
    assert "(a list, which no single environment variable sets)" in message


@pytest.mark.parametrize(
    "changes, variable",
    [
        ({"training.instance_type": "ml.t3.medium"}, "INVOKE_WORKSHOP_TRAINING_INSTANCE_TYPE"),
        ({"deploy.serverless": {"memory_mb": 1500, "max_concurrency": 5}},
         "INVOKE_WORKSHOP_DEPLOY_SERVERLESS_MEMORY_MB"),
        ({"tuning.ranges.max_depth": {"min": "2.5", "max": "5"}}, "INVOKE_WORKSHOP_TUNING_RANGES_MAX_DEPTH_MIN"),
        ({"training.hyperparameters.eta": "7"}, "INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_ETA"),
    ],
)
def test_a_single_setting_still_names_its_own_variable(changes, variable):
    """The near miss: a leaf inside a mapping is a setting with a variable of its own."""
    assert f"or in the {variable} environment variable." in refusal(changes)

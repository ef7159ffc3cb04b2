"""INVOKE_WORKSHOP_* variables: every one is honoured or refused, never silently ignored.

invoke maps a variable only onto a key that a loaded file already has. The hyperparameters and tuning ranges that
`invoke --help train` and `--help tune` advertise by variable (training.hyperparameters.<name>,
tuning.ranges.<name>.min|max|scaling) are added by the settings instead, below a -f file as invoke orders every
other setting; any other variable that names no setting is refused in one paragraph that names it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from invoke import Collection, Config, Context, Program, task

from vgsales.algorithm.tuning import ParameterRange
from vgsales.cli import settings_of
from vgsales.errors import WorkshopError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("INVOKE_"):
            monkeypatch.delenv(name)


def from_tasks(monkeypatch, settings_file: Path | None = None, **variables: str):
    """The settings a task gets: invoke's config loaded as the `invoke` command loads it, then settings_of."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    config = Config(project_location=str(PROJECT_ROOT), runtime_path=str(settings_file) if settings_file else None)
    config.load_project()
    config.load_runtime()
    config.load_shell_env()
    return settings_of(Context(config))


class ProjectConfig(Config):
    """The project's invoke.yaml loaded as `invoke` loads it beside tasks.py, for a Program with its own tasks."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("project_location", str(PROJECT_ROOT))
        super().__init__(*args, **kwargs)
        self.load_project()


def from_program(monkeypatch, *argv: str, **variables: str):
    """The settings a task sees when invoke's Program runs it: -f, the executor's shell environment and all."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    seen = []

    @task
    def probe(c):
        seen.append(settings_of(c))

    Program(namespace=Collection(probe), config_class=ProjectConfig).run(["invoke", *argv, "probe"], exit=False)
    (settings,) = seen
    return settings


def refusal(monkeypatch, **variables: str) -> str:
    with pytest.raises(WorkshopError) as refused:
        from_tasks(monkeypatch, **variables)
    message = str(refused.value)
    assert "\n" not in message and "Nothing was created" in message
    return message


# --- honoured -------------------------------------------------------------------------------------------


def test_a_hyperparameter_by_variable_reaches_the_settings_of_a_task(monkeypatch):
    settings = from_tasks(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA="5")
    assert settings.training.hyperparameters["gamma"] == "5"
    assert settings.training.hyperparameters["max_depth"] == "3"  # the others stay


def test_a_hyperparameter_by_variable_reaches_a_task_that_invokes_program_runs(monkeypatch):
    settings = from_program(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA="5")
    assert settings.training.hyperparameters["gamma"] == "5"


def test_a_name_with_underscores_is_lower_cased_as_the_algorithm_spells_it(monkeypatch):
    settings = from_tasks(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_MIN_CHILD_WEIGHT="2")
    assert settings.training.hyperparameters["min_child_weight"] == "2"
    assert "MIN_CHILD_WEIGHT" not in settings.training.hyperparameters


def test_a_variable_overrides_invoke_yaml_and_a_settings_file_overrides_both(monkeypatch, tmp_path):
    """invoke's own order, the same for an added hyperparameter as for any setting: invoke.yaml < environment
    < the -f file."""
    settings = from_tasks(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_MAX_DEPTH="6")
    assert settings.training.hyperparameters["max_depth"] == "6"
    mine = tmp_path / "mine.yaml"
    mine.write_text("workshop:\n  region: us-west-2\n  training: {hyperparameters: {gamma: 1}}\n")
    variables = dict(INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA="5", INVOKE_WORKSHOP_REGION="eu-west-1")
    from_file = (from_tasks(monkeypatch, mine, **variables), from_program(monkeypatch, "-f", str(mine), **variables))
    for settings in from_file:
        assert settings.region == "us-west-2"  # invoke's own precedence, for a key invoke.yaml has
        assert settings.training.hyperparameters["gamma"] == "1"  # the same for a key it adds


def test_tuning_ranges_by_variable(monkeypatch):
    settings = from_tasks(
        monkeypatch,
        INVOKE_WORKSHOP_TUNING_RANGES_GAMMA_MIN="0",
        INVOKE_WORKSHOP_TUNING_RANGES_GAMMA_MAX="5",
        INVOKE_WORKSHOP_TUNING_RANGES_MIN_CHILD_WEIGHT_MAX="4",  # invoke.yaml has it: invoke maps this one
        INVOKE_WORKSHOP_TUNING_RANGES_COLSAMPLE_BYTREE_MIN="0.5",  # a new range whose name has underscores
        INVOKE_WORKSHOP_TUNING_RANGES_COLSAMPLE_BYTREE_MAX="0.9",
        INVOKE_WORKSHOP_TUNING_RANGES_ETA_SCALING="Linear",
    )
    ranges = {parameter.name: parameter for parameter in settings.tuning.ranges}
    assert ranges["gamma"] == ParameterRange("gamma", "Continuous", 0, 5)
    assert ranges["min_child_weight"] == ParameterRange("min_child_weight", "Continuous", 1, 4)
    assert ranges["colsample_bytree"] == ParameterRange("colsample_bytree", "Continuous", 0.5, 0.9)
    assert ranges["eta"].scaling == "Linear" and ranges["eta"].low == 0.01


def test_a_new_range_needs_both_bounds(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TUNING_RANGES_GAMMA_MIN="0")
    assert message.startswith("Invalid setting workshop.tuning.ranges.gamma.max: it is missing")
    assert "INVOKE_WORKSHOP_TUNING_RANGES_GAMMA_MAX" in message
    assert "invoke.yaml beside tasks.py sets it" not in message  # the default file is not what lacks it


def test_a_key_a_settings_file_adds_gets_its_variable(monkeypatch, tmp_path):
    """Near miss of the file-only refusal: once a -f file has deploy.serverless, invoke maps its variables (and,
    by its order, keeps the file's value)."""
    mine = tmp_path / "serverless.yaml"
    mine.write_text("workshop:\n  deploy:\n    serverless: {memory_mb: 2048, max_concurrency: 5}\n")
    settings = from_tasks(monkeypatch, mine, INVOKE_WORKSHOP_DEPLOY_SERVERLESS_MAX_CONCURRENCY="7")
    assert settings.deploy.serverless.max_concurrency == 5


@pytest.mark.parametrize(
    "name",
    ["INVOKE_WORKSHOPX_TRAINING_INSTANCE_TYP", "INVOKE_WORKSHOP", "INVOKE_WORKSHOPS", "INVOKE_RUN_ECHO",
     "WORKSHOP_TARGET"],
)
def test_variables_outside_the_prefix_are_not_touched(monkeypatch, name):
    settings = from_tasks(monkeypatch, **{name: "1"})
    assert settings.training.instance_type == "ml.m5.xlarge"


# --- refused ------------------------------------------------------------------------------------------------


def test_a_typo_is_refused_naming_the_variable_and_the_closest_setting(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TRAINING_INSTANCE_TYP="ml.m5.large")
    assert message.startswith("The environment variable INVOKE_WORKSHOP_TRAINING_INSTANCE_TYP names no setting")
    assert "Did you mean INVOKE_WORKSHOP_TRAINING_INSTANCE_TYPE (workshop.training.instance_type)?" in message


def test_lower_case_is_refused_with_the_variable_in_capitals(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_training_instance_type="ml.m5.large")
    assert "Did you mean INVOKE_WORKSHOP_TRAINING_INSTANCE_TYPE" in message


def test_a_typo_of_the_hyperparameter_prefix_suggests_the_advertised_variable(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETER_GAMMA="5")
    assert "Did you mean INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA" in message


def test_a_variable_far_from_any_setting_gets_no_guess(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_FAVOURITE_FOOD="pasta")
    assert "INVOKE_WORKSHOP_FAVOURITE_FOOD names no setting" in message and "Did you mean" not in message
    assert "invoke --help <task>" in message


@pytest.mark.parametrize(
    "name, mapping, example",
    [
        ("INVOKE_WORKSHOP_TAGS_OWNER", "workshop.tags", '`workshop: {tags: {owner: "me"}}`'),
        ("INVOKE_WORKSHOP_DEPLOY_SERVERLESS_MEMORY_MB", "workshop.deploy.serverless",
         '`workshop: {deploy: {serverless: {memory_mb: "me"}}}`'),
    ],
)  # fmt: skip
def test_a_key_of_a_file_only_mapping_is_refused_pointing_at_a_settings_file(monkeypatch, name, mapping, example):
    message = refusal(monkeypatch, **{name: "me"})
    assert message.startswith(f"The environment variable {name} names no setting: {mapping} is a mapping")
    assert "YAML file you pass with -f" in message and example in message


def test_a_whole_section_is_refused_naming_variables_that_exist(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TRAINING="ml.m5.large")
    assert "workshop.training is a mapping of settings" in message
    assert "e.g. INVOKE_WORKSHOP_TRAINING_IMAGE_VERSION" in message and "under workshop.training" in message


def test_a_list_of_range_values_is_refused_pointing_at_a_settings_file(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TUNING_RANGES_MAX_DEPTH_VALUES="3,5")
    assert "workshop.tuning.ranges.max_depth.values is a list" in message and "-f" in message


def test_an_unknown_hyperparameter_is_refused_by_the_algorithms_rules(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMMA="5")
    assert message.startswith("Invalid setting workshop.training.hyperparameters.gammma:")
    assert "not a hyperparameter of the built-in XGBoost algorithm (did you mean 'gamma'?)" in message
    assert "INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMMA environment variable" in message


def test_a_bad_hyperparameter_value_by_variable_is_refused_naming_it(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA="-1")
    assert message.startswith("Invalid setting workshop.training.hyperparameters.gamma:") and "'gamma'" in message


def test_the_whole_tags_mapping_by_variable_shows_a_key_to_fill_in(monkeypatch):
    message = refusal(monkeypatch, INVOKE_WORKSHOP_TAGS="me")
    assert '`workshop: {tags: {<key>: "me"}}`' in message


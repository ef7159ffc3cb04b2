"""workshop.tuning: bad ranges and limits refused before anything runs, each in one paragraph naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsales.algorithm.tuning import ParameterRange
from vgsales.errors import WorkshopError
from vgsales.records import TUNING_NAME_MAX, tuning_job_name
from vgsales.settings import Settings, project_defaults, static_hyperparameters, with_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def settings_with(**changes) -> Settings:
    return Settings.from_config(with_changes(project_defaults(PROJECT_ROOT), changes), project_dir=PROJECT_ROOT)


def test_the_defaults_tune_four_hyperparameters_on_validation_auc():
    tuning = settings_with().tuning
    assert (tuning.strategy, tuning.max_jobs, tuning.max_parallel_jobs) == ("Bayesian", 30, 2)
    assert (tuning.objective_metric, tuning.objective_type) == ("validation:auc", "Maximize")
    assert tuning.ranges == (
        ParameterRange("eta", "Continuous", 0.01, 0.5, "Logarithmic"),
        ParameterRange("max_depth", "Integer", 2, 10),
        ParameterRange("min_child_weight", "Continuous", 1, 10),
        ParameterRange("subsample", "Continuous", 0.5, 1.0),
    )


def test_tuned_hyperparameters_leave_the_static_ones():
    settings = settings_with()
    assert static_hyperparameters(settings.training, settings.tuning) == {
        "eval_metric": "auc", "scale_pos_weight": "2.0", "objective": "binary:logistic", "num_round": "100",
    }
    aliased = settings_with(**{"tuning.ranges": {"learning_rate": {"min": "0.05", "max": "0.3"}}})
    assert "eta" not in static_hyperparameters(aliased.training, aliased.tuning)  # learning_rate is eta: tuned, so not static


RANGES = "tuning.ranges"
BAD = {
    "min above max": ({f"{RANGES}.max_depth": {"min": "6", "max": "5"}}, "workshop.tuning.ranges.max_depth", "minimum 6 above its maximum 5"),
    "unknown hyperparameter": ({f"{RANGES}.max_dept": {"min": "2", "max": "5"}}, "workshop.tuning.ranges.max_dept",
                               "not a hyperparameter of the built-in XGBoost algorithm"),
    "categorical range for a continuous one": ({f"{RANGES}.eta": {"values": ["0.1", "0.2"]}}, "workshop.tuning.ranges.eta",
                                               "continuous, so it takes min and max"),
    "integer bound with a fraction": ({f"{RANGES}.max_depth": {"min": "2.5", "max": "5"}}, "workshop.tuning.ranges.max_depth.min",
                                      "expected a whole number"),
    "bound outside the algorithm's interval": ({f"{RANGES}.subsample": {"min": "0.5", "max": "1.5"}},
                                               "workshop.tuning.ranges.subsample", "'subsample' must be in (0, 1]"),
    "zero is outside an open interval": ({f"{RANGES}.subsample": {"min": "0", "max": "1"}}, "workshop.tuning.ranges.subsample",
                                         "'subsample' must be in (0, 1]"),
    "logarithmic from zero": ({f"{RANGES}.eta": {"min": "0", "max": "0.5", "scaling": "Logarithmic"}}, "workshop.tuning.ranges.eta",
                              "Logarithmic scaling works only for ranges that have values greater than 0"),
    "unknown scaling": ({f"{RANGES}.eta": {"min": "0.1", "max": "0.5", "scaling": "Log"}}, "workshop.tuning.ranges.eta",
                        "is not one of Auto, Linear, Logarithmic, ReverseLogarithmic"),
    "unknown key in a range": ({f"{RANGES}.eta": {"min": "0.1", "max": "0.5", "scale": "Linear"}}, "workshop.tuning.ranges.eta",
                               "unknown key(s) scale"),
    "a range that is not a mapping": ({f"{RANGES}.eta": "0.1-0.5"}, "workshop.tuning.ranges.eta", "expected a mapping"),
    "more parallel jobs than jobs": ({"tuning.max_parallel_jobs": "5", "tuning.max_jobs": "4"}, "workshop.tuning.max_parallel_jobs",
                                     "5 parallel jobs is more than max_jobs (4)"),
    "objective the algorithm does not emit": ({"tuning.objective_metric": "validation:auc-pr"}, "workshop.tuning.objective_metric",
                                              "not a metric the built-in XGBoost algorithm emits for tuning"),
    "a training metric as objective": ({"tuning.objective_metric": "train:auc"}, "workshop.tuning.objective_metric",
                                       "the test split is never used to tune"),
    "an objective the training objective cannot give": (
        {"tuning.objective_metric": "validation:auc", "training.hyperparameters.objective": "reg:squarederror",
         "training.hyperparameters.eval_metric": "rmse"},
        "workshop.tuning.ranges", "metric 'auc' can only be applied for classification",
    ),
    "grid without values": ({"tuning.strategy": "Grid"}, "workshop.tuning.ranges", "the Grid strategy needs a list of values"),
    "unknown strategy": ({"tuning.strategy": "Hyperband"}, "workshop.tuning.strategy", "is not one of Bayesian, Random, Grid"),
    "zero jobs": ({"tuning.max_jobs": "0"}, "workshop.tuning.max_jobs", "out of range"),
}


@pytest.mark.parametrize("changes, key, problem", BAD.values(), ids=BAD.keys())
def test_bad_tuning_settings_are_refused_naming_the_setting(changes, key, problem):
    with pytest.raises(WorkshopError) as raised:
        settings_with(**changes)
    message = str(raised.value)
    assert f"Invalid setting {key}" in message and problem in message
    assert "\n" not in message and "Nothing was created" in message


def _range(settings, name):
    return next(parameter for parameter in settings.tuning.ranges if parameter.name == name)


# Each near miss is accepted and read as written (a reader that dropped or changed the value would pass a check
# that only expects no error).
@pytest.mark.parametrize("changes, holds", [
    ({f"{RANGES}.max_depth": {"min": "5", "max": "5"}},  # min equal to max: one value
     lambda s: (_range(s, "max_depth").low, _range(s, "max_depth").high) == (5, 5)),
    ({"tuning.max_parallel_jobs": "4", "tuning.max_jobs": "4"},  # as many parallel jobs as jobs
     lambda s: (s.tuning.max_parallel_jobs, s.tuning.max_jobs) == (4, 4)),
    ({f"{RANGES}.subsample": {"min": "0.5", "max": "0.99", "scaling": "ReverseLogarithmic"}},
     lambda s: (_range(s, "subsample").high, _range(s, "subsample").scaling) == (0.99, "ReverseLogarithmic")),
    ({"tuning.objective_metric": "validation:logloss"},  # minimised, by the algorithm's declaration
     lambda s: (s.tuning.objective_metric, s.tuning.objective_type) == ("validation:logloss", "Minimize")),
    ({"tuning.strategy": "Grid", "tuning.ranges": {"max_depth": {"values": [3, 5]}, "eta": {"values": ["0.1", "0.3"]}}},
     lambda s: s.tuning.strategy == "Grid" and {p.name: tuple(p.values) for p in s.tuning.ranges}
     == {"max_depth": ("3", "5"), "eta": ("0.1", "0.3")}),
    ({f"{RANGES}.booster": {"values": ["gbtree", "dart"]}},  # a categorical hyperparameter
     lambda s: (_range(s, "booster").kind, tuple(_range(s, "booster").values)) == ("Categorical", ("gbtree", "dart"))),
])  # fmt: skip
def test_near_misses_are_accepted_as_written(changes, holds):
    assert holds(settings_with(**changes))


def test_a_minimised_objective_is_minimised():
    assert settings_with(**{"tuning.objective_metric": "validation:error"}).tuning.objective_type == "Minimize"


@pytest.mark.parametrize("prefix", ["vgsales", "a" * 20, "a" * 21, "b" * 24])
def test_tuning_job_names_fit_sagemakers_32_characters_for_every_prefix(prefix):
    name = tuning_job_name(prefix, now=1796150000.0)
    assert len(name) <= TUNING_NAME_MAX and name.startswith(f"{prefix}-")
    assert len(f"{name}-001-0123abcd") <= 63  # its training jobs' names
    later = tuning_job_name(prefix, now=1796150001.0)
    assert later != name and sorted([later, name]) == [name, later]


def test_a_short_prefix_gets_a_readable_name():
    assert tuning_job_name("vgsales", now=1796150000.0) == "vgsales-1201-183320"  # UTC
    assert tuning_job_name("a" * 20, now=1796150000.0) == "a" * 20 + "-1201-183320"  # 32 characters: still fits
    assert tuning_job_name("a" * 21, now=1796150000.0) == "a" * 21 + "-tpdq7k"  # seconds in base 36


@pytest.mark.parametrize("value, accepted", [("transform", True), ("endpoint", True), ("Transform", False), ("batch", False)])
def test_evaluate_via_is_endpoint_or_transform(value, accepted):
    if accepted:
        assert settings_with(**{"evaluate.via": value}).evaluate.via == value
    else:
        with pytest.raises(WorkshopError, match=r"Invalid setting workshop.evaluate.via: .* is not one of endpoint, transform"):
            settings_with(**{"evaluate.via": value})


def test_a_grid_search_sends_no_job_budget_and_counts_every_combination():
    from vgsales.pipeline import tune

    grid = settings_with(**{"tuning.strategy": "Grid",
                            "tuning.ranges": {"max_depth": {"values": [3, 5, 7]}, "eta": {"values": ["0.1", "0.3"]}}})
    from sagemaker.core.utils.utils import serialize

    config = tune._config(grid)
    assert serialize(config.resource_limits) == {"MaxParallelTrainingJobs": 2}  # what the request carries
    assert tune._job_count(grid) == 6
    assert [r.values for r in config.parameter_ranges.categorical_parameter_ranges] == [["0.1", "0.3"], ["3", "5", "7"]]
    bayesian = tune._config(settings_with())
    assert bayesian.resource_limits.max_number_of_training_jobs == 30
    assert {r.name for r in bayesian.parameter_ranges.continuous_parameter_ranges} == {"eta", "min_child_weight", "subsample"}

"""The built-in XGBoost algorithm's hyperparameter rules, shared by the emulator and the train task."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vgsales.algorithm.hyperparameters import (
    DOC_URL,
    InvalidHyperparameter,
    UnsupportedByEmulator,
    training_plan,
    validate_hyperparameters,
)
from vgsales.errors import WorkshopError

WORKSHOP = {
    "max_depth": 3,
    "eta": 0.1,
    "eval_metric": "auc",
    "scale_pos_weight": 2.0,
    "subsample": 0.5,
    "objective": "binary:logistic",
    "num_round": 100,
}


def test_the_workshop_hyperparameters_become_the_strings_a_job_carries():
    assert validate_hyperparameters(WORKSHOP) == {
        "max_depth": "3",
        "eta": "0.1",
        "eval_metric": "auc",
        "scale_pos_weight": "2.0",
        "subsample": "0.5",
        "objective": "binary:logistic",
        "num_round": "100",
    }


def test_the_project_settings_hyperparameters_are_valid():
    with open(Path(__file__).resolve().parents[2] / "invoke.yaml") as settings:
        hyperparameters = yaml.safe_load(settings)["workshop"]["training"]["hyperparameters"]
    assert validate_hyperparameters(hyperparameters)["num_round"] == str(hyperparameters["num_round"])


def test_strings_as_sagemaker_sends_them_are_accepted():
    assert validate_hyperparameters({k: str(v) for k, v in WORKSHOP.items()})["eta"] == "0.1"


def test_aliases_become_canonical_names():
    result = validate_hyperparameters({"num_round": 5, "learning_rate": 0.2, "reg_lambda": 1, "reg_alpha": 0, "min_split_loss": 1})
    assert {"eta", "lambda", "alpha", "gamma"} <= set(result)


@pytest.mark.parametrize(
    ("hyperparameters", "name", "words"),
    [
        ({"num_round": 10, "eta": 2}, "eta", "must be in [0, 1]"),
        ({"num_round": 10, "subsample": 0}, "subsample", "must be in (0, 1]"),
        ({"num_round": 10, "max_depth": "three"}, "max_depth", "must be an integer"),
        ({"num_round": 10, "max_depth": 2.5}, "max_depth", "must be an integer"),
        ({"num_round": 10, "scale_pos_weight": "heavy"}, "scale_pos_weight", "must be a number"),
        ({"num_round": 10, "scale_pos_weight": "nan"}, "scale_pos_weight", "must be a number"),
        ({"num_round": 10, "scale_pos_weight": 0}, "scale_pos_weight", "must be in (0, +inf)"),  # open at 0
        ({"num_round": 0}, "num_round", "must be in [1, +inf)"),
        ({"num_round": True}, "num_round", "boolean"),
        ({"eta": 0.1}, "num_round", "is required"),
        ({"num_round": 10, "etaa": 0.1}, "etaa", "did you mean 'eta'?"),
        ({"num_round": 10, "objective": "binary:logistik"}, "objective", "must be one of"),
        ({"num_round": 10, "eval_metric": "acu", "objective": "binary:logistic"}, "eval_metric", "did you mean 'auc'?"),
        ({"num_round": 10, "eval_metric": "auc"}, "eval_metric", "classification and ranking"),
        ({"num_round": 10, "eval_metric": "rmse@2"}, "eval_metric", "'@' parameter"),
        ({"num_round": 10, "objective": "multi:softprob"}, "num_class", "needs hyperparameter 'num_class'"),
        ({"num_round": 10, "num_class": 3}, "num_class", "multi-class objectives"),
        ({"num_round": 10, "monotone_constraints": "(1,0)"}, "monotone_constraints", "tree_method"),
        ({"num_round": 10, "monotone_constraints": "(1,2)", "tree_method": "hist"}, "monotone_constraints", "-1, 0 and 1"),
        ({"num_round": 10, "eta": 0.1, "learning_rate": 0.2}, "learning_rate", "both set 'eta'"),
        ({"num_round": 10, "updater": "grow_colmaker,bogus"}, "updater", "'bogus'"),
    ],
)
def test_invalid_hyperparameters_are_refused_naming_them(hyperparameters, name, words):
    with pytest.raises(InvalidHyperparameter) as refused:
        validate_hyperparameters(hyperparameters)
    assert refused.value.name == name
    message = str(refused.value)
    assert words in message and name in message
    assert DOC_URL in message and "\n" not in message


def test_a_positive_weight_however_small_is_accepted():
    """Near miss of scale_pos_weight 0, refused: the interval (0, +inf) is open at 0 only."""
    assert validate_hyperparameters({"num_round": 10, "scale_pos_weight": 0.001})["scale_pos_weight"] == "0.001"


def test_the_error_is_a_workshop_error_and_a_value_error():
    with pytest.raises(WorkshopError):
        validate_hyperparameters({"num_round": "many"})
    with pytest.raises(ValueError):
        validate_hyperparameters({"num_round": "many"})


def test_the_plan_hands_xgboost_typed_parameters():
    plan = training_plan(WORKSHOP)
    assert plan.num_round == 100
    assert plan.params == {
        "max_depth": 3, "eta": 0.1, "eval_metric": ["auc"], "scale_pos_weight": 2.0, "subsample": 0.5,
        "objective": "binary:logistic",
    }
    assert plan.early_stopping_rounds is None and not plan.csv_weights


def test_the_plan_separates_container_metrics_and_drops_what_xgboost_3_removed():
    plan = training_plan({"num_round": 3, "eval_metric": "f1,error@0.7", "objective": "reg:linear",
                          "predictor": "cpu_predictor", "csv_weights": 1, "early_stopping_rounds": 4})
    assert plan.native_metrics == ["error@0.7"] and plan.container_metrics == ["f1"]
    assert plan.params["objective"] == "reg:squarederror"
    assert "predictor" not in plan.params and any("predictor" in note for note in plan.notes)
    assert plan.csv_weights and plan.early_stopping_rounds == 4
    assert training_plan({"num_round": 3, "eval_metric": "accuracy"}).params["disable_default_eval_metric"] == 1


@pytest.mark.parametrize("extra", [{"tree_method": "gpu_hist"}, {"_kfold": 3}])
def test_what_only_aws_can_run_is_valid_but_not_planned(extra):
    hyperparameters = {"num_round": 3, **extra}
    validate_hyperparameters(hyperparameters)
    with pytest.raises(UnsupportedByEmulator):
        training_plan(hyperparameters)


# --- a tuning job's objective, as the container handles _tuning_objective_metric (algorithm_mode/train.py) ---


def test_the_tuning_objective_joins_eval_metric_sorted_and_drives_early_stopping():
    plan = training_plan({"num_round": "10", "objective": "binary:logistic", "eval_metric": "logloss",
                          "early_stopping_rounds": "3", "_tuning_objective_metric": "validation:auc"})
    assert plan.native_metrics == ["auc", "logloss"]  # get_union_metrics sorts the union
    assert plan.early_stopping_metric == "auc"  # the objective's, not eval_metric's last


def test_early_stopping_follows_eval_metric_last_without_a_tuning_objective():
    plan = training_plan({"num_round": "10", "objective": "binary:logistic", "eval_metric": "auc,logloss",
                          "early_stopping_rounds": "3"})
    assert plan.early_stopping_metric == "logloss"
    alone = training_plan({"num_round": "10", "early_stopping_rounds": "3"})
    assert alone.early_stopping_metric is None and any("no effect without eval_metric" in n for n in alone.notes)


@pytest.mark.parametrize("objective, accepted", [("validation:auc", True), ("train:auc", False), ("validation:auc-pr", False)])
def test_the_tuning_objective_must_be_a_validation_metric_of_the_algorithm(objective, accepted):
    hp = {"num_round": "10", "objective": "binary:logistic", "_tuning_objective_metric": objective}
    if accepted:
        assert training_plan(hp).native_metrics == ["auc"]
    else:
        with pytest.raises(InvalidHyperparameter, match="_tuning_objective_metric"):
            training_plan(hp)


def test_auc_as_tuning_objective_needs_a_classification_objective():
    with pytest.raises(InvalidHyperparameter, match="only be applied for classification"):
        training_plan({"num_round": "10", "objective": "reg:squarederror", "_tuning_objective_metric": "validation:auc"})

"""What differs between the image versions (vgsales.algorithm.versions): each versioned hyperparameter accepted by
the images that list it and refused, with the versions that do, by the ones next to them."""

from __future__ import annotations

import pytest

from vgsales.algorithm.hyperparameters import InvalidHyperparameter, training_plan, validate_hyperparameters
from vgsales.algorithm.versions import image_version, tag_version

REGISTRY = "683313688378.dkr.ecr.us-east-1.amazonaws.com"


@pytest.mark.parametrize(("image", "version"), [
    ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", (1, 0, 1)),  # the legacy image
    ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", (1, 0, 1)),
    (f"{REGISTRY}/sagemaker-xgboost:0.90-2-cpu-py3", (1, 0, 1)),  # read as 1.0-1 (versions.py)
    (f"{REGISTRY}/sagemaker-xgboost:1.2-1", (1, 2, 1)),
    (f"{REGISTRY}/sagemaker-xgboost:3.2-0", (3, 2, 0)),
    (f"{REGISTRY}/sagemaker-xgboost@sha256:{'0' * 64}", None),  # no tag: the newest
    (f"{REGISTRY}/xgboost-custom:1.7-1", (1, 7, 1)),  # only the repository named exactly xgboost is the legacy one
], ids=["legacy latest", "legacy 1", "0.90-2", "1.2-1", "3.2-0", "digest", "look-alike repository"])
def test_an_images_version_comes_from_its_repository_and_tag(image, version):
    assert image_version(image) == version


# name -> (the last version that refuses it, the first that accepts it, the last that accepts it, the first that
# refuses it again); None where there is no such version.
BOUNDARIES = {
    "silent": (None, "0.90-1", "1.0-1", "1.2-1"),
    "aft_loss_distribution": ("1.0-1", "1.2-1", "3.2-0", None),
    "single_precision_histogram": ("1.0-1", "1.2-1", "1.5-1", "1.7-1"),
    "_nfold": ("1.0-1", "1.2-1", "1.2-1", "1.2-2"),
    "sampling_method": ("1.2-2", "1.3-1", "3.2-0", None),
    "use_dask_gpu_training": ("1.5-1", "1.7-1", "3.2-0", None),
}
VALUES = {"silent": "1", "aft_loss_distribution": "normal", "single_precision_histogram": "true", "_nfold": "3",
          "sampling_method": "uniform", "use_dask_gpu_training": "false"}  # fmt: skip


@pytest.mark.parametrize("name", BOUNDARIES)
def test_a_versioned_hyperparameter_is_accepted_exactly_where_the_container_lists_it(name):
    before, first, last, after = BOUNDARIES[name]
    hyperparameters = {"num_round": "5", name: VALUES[name]}
    for accepted in (first, last):
        assert validate_hyperparameters(hyperparameters, tag_version(accepted))[name] == VALUES[name], accepted
    for refused in (before, after):
        if refused is None:
            continue
        with pytest.raises(InvalidHyperparameter) as error:
            validate_hyperparameters(hyperparameters, tag_version(refused))
        assert error.value.name == name
        assert f"in image {refused};" in str(error.value), str(error.value)


def test_the_newest_image_is_the_default_and_silent_is_refused_there_with_where_it_exists():
    with pytest.raises(InvalidHyperparameter) as error:
        validate_hyperparameters({"num_round": "5", "silent": "0"})
    assert error.value.problem == ("Hyperparameter 'silent' is not a hyperparameter of the built-in XGBoost algorithm in "
                                   "the newest image; it is one in images up to 1.0-1 (and the legacy image).")


def test_silent_on_the_legacy_image_trains_and_is_noted_as_having_no_effect():
    plan = training_plan({"num_round": "5", "silent": "1"}, image_version("x/xgboost:latest"))
    assert "silent" not in plan.params
    assert any("silent=1 has no effect" in note for note in plan.notes)

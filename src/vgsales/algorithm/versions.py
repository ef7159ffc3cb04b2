"""What differs between the versions of SageMaker's built-in XGBoost image, by the tag of the image a job or model
names: one table, each entry read from aws/sagemaker-xgboost-container at the tags that differ.

The SDK resolves `xgboost` to the legacy image (repository `xgboost`, tags `1` and `latest`, XGBoost 0.72) or to
`sagemaker-xgboost:<xgboost version>-<build>` (0.90-1, 0.90-2, 1.0-1, 1.2-1, 1.2-2, 1.3-1, 1.5-1, 1.7-1, 3.0-5,
3.2-0). The repository's history starts at v1.0-1; the legacy image and 0.90-x predate it, and AWS's documentation
of their hyperparameters (which lists `silent`) matches 1.0-1's, so they are read as 1.0-1 here. A tag newer than
the newest read (3.2-0 after v3.0-5) behaves as the newest: the changes it brings are not known to the emulator.

Importing this module imports nothing heavy.
"""

from __future__ import annotations

import re

Version = tuple[int, int, int]

# The version the legacy image and 0.90-x are read as (see above), and the newest read from the repository.
LEGACY = (1, 0, 1)
NEWEST_READ = (3, 0, 5)
_TAG = re.compile(r"^(\d+)\.(\d+)-(\d+)")

# serve.py: from v1.2-2 real-time answers go through sagemaker-containers' encoders.encode and honour Accept (one
# score per line for CSV); before, they are comma-joined whatever the Accept (serving.py reads this).
ENCODERS_FROM: Version = (1, 2, 2)

# Hyperparameters that only some versions accept: name -> (first version, last version), None for open ends.
# algorithm_mode/hyperparameter_validation.py at each tag:
# - v1.2-1 drops `silent` (XGBoost 1.x removed it; `verbosity` replaces it) and adds the AFT survival
#   parameters, `deterministic_histogram`, `single_precision_histogram` and `_nfold`;
# - v1.2-2 renames the cross-validation parameter `_nfold` to `_kfold` and adds `_num_cv_round`;
# - v1.3-1 adds `prob_buffer_row` and `sampling_method`;
# - v1.7-1 drops `single_precision_histogram` and adds `use_dask_gpu_training`;
# - v1.5-1 and v3.0-5 change no name.
HYPERPARAMETERS_BY_VERSION: dict[str, tuple[Version | None, Version | None]] = {
    "silent": (None, (1, 0, 1)),
    "aft_loss_distribution": ((1, 2, 1), None),
    "aft_loss_distribution_scale": ((1, 2, 1), None),
    "deterministic_histogram": ((1, 2, 1), None),
    "single_precision_histogram": ((1, 2, 1), (1, 5, 1)),
    "_nfold": ((1, 2, 1), (1, 2, 1)),
    "_kfold": ((1, 2, 2), None),
    "_num_cv_round": ((1, 2, 2), None),
    "prob_buffer_row": ((1, 3, 1), None),
    "sampling_method": ((1, 3, 1), None),
    "use_dask_gpu_training": ((1, 7, 1), None),
}


def tag_version(tag: str) -> Version | None:
    """The version of a `sagemaker-xgboost` tag ("1.7-1"), None for a tag that names none."""
    match = _TAG.match(tag)
    if match is None:
        return None
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return LEGACY if version < LEGACY else version


def _name_and_tag(image: str) -> str:
    """An image URI's last path component without its digest: `repository` or `repository:tag`."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1]


def image_repository(image: str) -> str:
    """The repository name of an image URI, without registry, namespace, tag or digest."""
    return _name_and_tag(image).partition(":")[0]


def image_tag(image: str) -> str | None:
    """The tag of an image URI, None for one named by digest or without a tag."""
    _, colon, tag = _name_and_tag(image).partition(":")
    return tag if colon else None


def image_version(image: str | None) -> Version | None:
    """The algorithm version of an image URI (registry/repository:tag): LEGACY for the legacy repository `xgboost`
    and for 0.90-x, the tag's version for `sagemaker-xgboost`, None for an image without a version tag (a digest,
    or no image): such an image is read as the newest."""
    if image_repository(image or "") == "xgboost":
        return LEGACY
    return tag_version(image_tag(image or "") or "")


def version_text(version: Version) -> str:
    return f"{version[0]}.{version[1]}-{version[2]}"


def image_text(version: Version | None) -> str:
    """An image by its version, for messages: "image 1.7-1", or "the newest image" for one without a tag."""
    return "the newest image" if version is None else f"image {version_text(version)}"


def accepts_hyperparameter(name: str, version: Version | None) -> bool:
    """Whether the image of this version lists the hyperparameter (None: the newest)."""
    first, last = HYPERPARAMETERS_BY_VERSION.get(name, (None, None))
    effective = version or NEWEST_READ
    return (first is None or effective >= first) and (last is None or effective <= last)


def versions_accepting(name: str) -> str:
    """In words, which versions list a hyperparameter: for a refusal's hint."""
    first, last = HYPERPARAMETERS_BY_VERSION.get(name, (None, None))
    if first is None and last is not None:
        return f"images up to {version_text(last)} (and the legacy image)"
    if last is None and first is not None:
        return f"images from {version_text(first)} on"
    if first is not None and last is not None:
        return f"images {version_text(first)} to {version_text(last)}" if first != last else f"image {version_text(first)}"
    return "every image"

"""Fixes for the gaps in moto that Terraform and the SageMaker SDK hit.

Each module patches one area and names the moto gap at each fix; tests/emulator/test_compat.py holds a
test per fix that fails if moto changes underneath it. install() is idempotent.
"""

from __future__ import annotations

from . import iam, s3_policy, s3_versions, sagemaker

MODULES = (s3_policy, s3_versions, sagemaker, iam)


def install() -> None:
    for module in MODULES:
        module.install()

"""Fixes for the gaps in moto that Terraform and the SageMaker SDK hit, one module per area.

Each module names the moto gap at each fix; tests/emulator/test_compat.py holds a test per fix that fails if
moto changes underneath it. The SageMaker and IAM fixes are parts of the emulator's backend and response
classes (sagemaker.py, services.py); the S3 ones replace attributes that moto's S3 shares between requests
(s3_policy.py, s3_versions.py), installed by services.install().
"""

"""Fixes for the gaps in moto that Terraform and the SageMaker SDK hit, one module per area.

Each module names the moto gap at each fix; tests/emulator/test_compat.py (and test_compat_s3_versions.py,
test_presigned.py) hold a canary per fix that fails once moto changes underneath it. The fixes are parts of the
emulator's backend and response classes: sagemaker.py (notebook instances, tags, response shapes), s3.py (bucket
policies with s3_policy.py, delete markers with s3_versions.py) and services.py (SimulatePrincipalPolicy with
iam.py), which registers them with moto; s3_presigned.py (presigned S3 URLs) is called from access.py.
"""

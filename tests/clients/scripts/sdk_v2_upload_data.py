"""`Session().upload_data(path, key_prefix=...)`, then the S3 URI built from the same prefix, as AWS's sample
notebooks write it (for example `s3://{bucket}/{prefix}/train`), with SageMaker SDK v2. Arguments: a file to
upload. Prints one JSON line: the URI upload_data returned, the one the code built, and whether an object is there.

The SDK's config (SAGEMAKER_USER_CONFIG_OVERRIDE, from `invoke emulator.env`) names the stack's bucket. Had it
also named a DefaultS3ObjectKeyPrefix, the SDK would have put that in front of the key, and the URI the code built
would hold nothing.
"""

import json
import os
import sys

import boto3
import sagemaker

session = sagemaker.Session()
bucket = session.default_bucket()
prefix = "sdk-v2-upload-data"
returned = session.upload_data(sys.argv[1], key_prefix=f"{prefix}/train")
built = f"s3://{bucket}/{prefix}/train/{os.path.basename(sys.argv[1])}"
listed = boto3.client("s3").list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/train/").get("KeyCount", 0)
print(json.dumps({"returned": returned, "built": built, "objects_under_built_prefix": listed}))

"""Content types, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_content_types.py names them."""

JSON = "application/json"
CSV = "text/csv"
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"
NPY = "application/x-npy"
UTF8_TYPES = [JSON, CSV]

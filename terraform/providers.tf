# Endpoint and credentials come from the environment only (AWS_PROFILE or AWS_ACCESS_KEY_ID...,
# AWS_ENDPOINT_URL and AWS_CA_BUNDLE for a local emulator), so the same configuration serves AWS and the
# emulator. The defaults of s3_use_path_style and provider_max_retries are right for AWS.
provider "aws" {
  region            = var.region
  s3_use_path_style = var.s3_use_path_style
  max_retries       = var.provider_max_retries

  default_tags {
    tags = local.tags
  }
}

# A platform team's stack for running the workshop pipeline from CI or a laptop: a locked-down bucket and a
# least-privilege SageMaker execution role, no notebook instance.
provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

module "data_bucket" {
  source = "../../modules/data-bucket"

  bucket_prefix = "${var.name_prefix}-data-"
}

module "execution_role" {
  source = "../../modules/execution-role"

  name                     = "${var.name_prefix}-sagemaker"
  bucket_arn               = module.data_bucket.bucket_arn
  resource_name_prefix     = var.name_prefix
  permissions_boundary_arn = var.permissions_boundary_arn
}

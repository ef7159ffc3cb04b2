locals {
  # "vgsales:stack" is the one tag that identifies the stack (src/vgsales/discovery.py): teardown removes only
  # what carries it with exactly this value. It goes last, so nothing in var.tags can replace it.
  tags = merge({ Project = "vgsales-workshop" }, var.tags, { "vgsales:stack" = var.name_prefix })

  notebook_instance_name = "${var.name_prefix}-notebook"
  notebook_bundle_prefix = "${var.data_prefix}/notebook-bundle/"
  notebook_bundle_files  = var.notebook_bundle_dir == null ? toset([]) : fileset(var.notebook_bundle_dir, "**")
  notebook_bundle_s3_uri = "s3://${module.data_bucket.bucket_name}/${local.notebook_bundle_prefix}"
}

module "data_bucket" {
  source = "./modules/data-bucket"

  bucket_prefix           = "${var.name_prefix}-"
  force_destroy           = true
  versioning_enabled      = var.bucket_versioning_enabled
  kms_key_arn             = var.kms_key_arn
  deny_insecure_transport = var.bucket_deny_insecure_transport
  lifecycle_rules_enabled = var.bucket_lifecycle_rules_enabled
}

module "execution_role" {
  source = "./modules/execution-role"

  name                      = "${var.name_prefix}-sagemaker-execution"
  bucket_arn                = module.data_bucket.bucket_arn
  resource_name_prefix      = var.name_prefix
  stack_tag                 = { key = "vgsales:stack", value = var.name_prefix }
  notebook_instance_names   = var.create_notebook_instance ? [local.notebook_instance_name] : []
  kms_key_arn               = var.kms_key_arn
  extra_managed_policy_arns = var.extra_managed_policy_arns
  permissions_boundary_arn  = var.permissions_boundary_arn
}

resource "aws_s3_object" "notebook_bundle" {
  #checkov:skip=CKV_AWS_186:Objects inherit the bucket's default encryption, SSE-S3 unless kms_key_arn is set.
  for_each = local.notebook_bundle_files

  bucket      = module.data_bucket.bucket_name
  key         = "${local.notebook_bundle_prefix}${each.value}"
  source      = "${var.notebook_bundle_dir}/${each.value}"
  source_hash = filemd5("${var.notebook_bundle_dir}/${each.value}")
  kms_key_id  = var.kms_key_arn
}

module "notebook_instance" {
  source = "./modules/notebook-instance"
  count  = var.create_notebook_instance ? 1 : 0

  name                    = local.notebook_instance_name
  region                  = var.region
  role_arn                = module.execution_role.role_arn
  instance_type           = var.notebook_instance_type
  volume_size             = var.notebook_volume_size
  platform_identifier     = var.notebook_platform_identifier
  direct_internet_access  = var.notebook_direct_internet_access
  subnet_id               = var.notebook_subnet_id
  security_group_ids      = var.notebook_security_group_ids
  kms_key_id              = var.kms_key_arn
  default_code_repository = var.notebook_default_code_repository
  idle_timeout_minutes    = var.idle_timeout_minutes
  sdk_default_tags        = local.tags
  notebook_bundle_s3_uri  = length(local.notebook_bundle_files) > 0 ? local.notebook_bundle_s3_uri : null

  # The keys are the root's output names, so that notebooks and the CLI read the same settings.
  stack_settings = {
    bucket_name = module.data_bucket.bucket_name
    data_prefix = var.data_prefix
    region      = var.region
    role_arn    = module.execution_role.role_arn
    name_prefix = var.name_prefix
  }

  # on-create copies the bundle once, when the instance is created: it must be in the bucket by then.
  depends_on = [aws_s3_object.notebook_bundle]
}

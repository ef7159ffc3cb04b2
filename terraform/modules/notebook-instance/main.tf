# Read only when the caller does not pass the region: a module without data sources can wait for other
# resources (depends_on) and still be fully known at plan time.
data "aws_region" "current" {
  count = var.region == null ? 1 : 0
}

locals {
  # id, not name: name is deprecated in provider 6 and id holds the region in both 5 and 6.
  region                = var.region != null ? var.region : data.aws_region.current[0].id
  lifecycle_config_name = coalesce(var.lifecycle_config_name, "${var.name}-lifecycle")

  stack_env = join("\n", [
    for key, value in var.stack_settings : "export VGSALES_${upper(key)}='${value}'"
  ])

  on_create_script = templatefile("${path.module}/scripts/on-create.sh", {
    bundle_s3_uri    = var.notebook_bundle_s3_uri == null ? "" : var.notebook_bundle_s3_uri
    workspace_folder = var.workspace_folder
    region           = local.region
  })
  on_start_script = templatefile("${path.module}/scripts/on-start.sh", {
    stack_json           = jsonencode(var.stack_settings)
    stack_env            = local.stack_env
    idle_timeout_minutes = var.idle_timeout_minutes
    region               = local.region
    # The SageMaker SDK's default bucket: the original workshop notebook calls Session().default_bucket().
    sdk_bucket = lookup(var.stack_settings, "bucket_name", "")
    sdk_tags   = var.sdk_default_tags
    # The kernel the bundle's notebooks name (src/vgsales/infra/bundle.py INSTANCE_KERNEL; a test holds them equal).
    workspace_folder    = var.workspace_folder
    kernel_name         = "vgsales"
    kernel_display_name = "Python 3 (vgsales)"
  })

  console_domain = (
    startswith(local.region, "cn-") ? "console.amazonaws.cn" :
    startswith(local.region, "us-gov-") ? "console.amazonaws-us-gov.com" : "console.aws.amazon.com"
  )
  console_url = "https://${local.region}.${local.console_domain}/sagemaker/home?region=${local.region}#/notebook-instances/${aws_sagemaker_notebook_instance.this.name}"
}

resource "aws_sagemaker_notebook_instance_lifecycle_configuration" "this" {
  name      = local.lifecycle_config_name
  on_create = base64encode(local.on_create_script)
  on_start  = base64encode(local.on_start_script)
  tags      = var.tags

  lifecycle {
    precondition {
      condition     = length(local.lifecycle_config_name) <= 63
      error_message = "The lifecycle configuration name \"${local.lifecycle_config_name}\" is longer than SageMaker's 63 characters: shorten name or set lifecycle_config_name."
    }
    precondition {
      # SageMaker limits the base64-encoded script, not the script itself.
      condition     = length(base64encode(local.on_create_script)) <= 16384 && length(base64encode(local.on_start_script)) <= 16384
      error_message = "A lifecycle script is longer than SageMaker's limit of 16384 base64-encoded characters."
    }
  }
}

resource "aws_sagemaker_notebook_instance" "this" {
  #checkov:skip=CKV_AWS_22:The volume is encrypted with an AWS-managed key unless kms_key_id is set; a customer key is optional for a workshop.
  #checkov:skip=CKV_AWS_122:Direct internet access is the workshop default so that pip works; set direct_internet_access = "Disabled" and subnet_id for VPC-only placement.
  #checkov:skip=CKV2_AWS_68:False positive: the check reads a "policy" attribute that aws_iam_role does not have; the execution-role module's policy grants no Action "*" (tests/execution_role.tftest.hcl asserts it).
  name                   = var.name
  role_arn               = var.role_arn
  instance_type          = var.instance_type
  volume_size            = var.volume_size
  platform_identifier    = var.platform_identifier
  root_access            = var.root_access
  direct_internet_access = var.direct_internet_access
  subnet_id              = var.subnet_id
  security_groups        = length(var.security_group_ids) > 0 ? var.security_group_ids : null
  kms_key_id             = var.kms_key_id
  lifecycle_config_name  = aws_sagemaker_notebook_instance_lifecycle_configuration.this.name

  default_code_repository = var.default_code_repository

  instance_metadata_service_configuration {
    minimum_instance_metadata_service_version = "2"
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.direct_internet_access == "Enabled" || var.subnet_id != null
      error_message = "direct_internet_access = \"Disabled\" needs subnet_id: without direct access the instance reaches S3 and the SageMaker API only through a VPC."
    }
    precondition {
      condition     = length(var.security_group_ids) == 0 || var.subnet_id != null
      error_message = "security_group_ids apply to the instance's interface in subnet_id: set subnet_id too."
    }
  }
}

variable "region" {
  description = "AWS region of the stack. Must offer SageMaker notebook instances."
  type        = string
  default     = "us-east-1"
  nullable    = false

  validation {
    condition = contains([
      "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
      "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
      "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
      "ap-southeast-3", "ap-south-1", "ap-east-1", "af-south-1", "me-south-1", "me-central-1", "il-central-1",
    ], var.region)
    error_message = "region must be an AWS region that offers SageMaker notebook instances, for example us-east-1, us-east-2, us-west-2 or eu-west-1 (the workshop's four)."
  }
}

variable "name_prefix" {
  description = "Start of every resource name in the stack: the bucket (\"<name_prefix>-\" plus a unique suffix), the role, the notebook instance and the pipeline's training jobs, models and endpoints. Also the value of the vgsales:stack tag that identifies the stack. The same rules as src/vgsales/settings.py (NAME_PREFIX_RULES); tests/settings/name_prefixes.json holds the table both are tested against."
  type        = string
  default     = "vgsales"
  nullable    = false

  validation {
    condition     = length(var.name_prefix) >= 3 && length(var.name_prefix) <= 24
    error_message = "name_prefix must be 3 to 24 characters long: the pipeline appends up to 35 characters (deploy's endpoint config, \"-config-20261101-120000-a1b2-c3d4e5\") and SageMaker names end at 63."
  }

  validation {
    condition     = can(regex("^[a-z0-9-]*$", var.name_prefix))
    error_message = "name_prefix may contain only lowercase letters, digits and hyphens: S3 bucket names allow no upper case or underscores, and SageMaker names allow no dots."
  }

  validation {
    condition     = can(regex("^[a-z]", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter."
  }

  validation {
    condition     = !endswith(var.name_prefix, "-")
    error_message = "name_prefix must not end with a hyphen: SageMaker names built from it cannot."
  }

  validation {
    condition     = !strcontains(var.name_prefix, "--")
    error_message = "name_prefix must not contain two hyphens in a row (S3 reserves some such names)."
  }

  validation {
    condition     = !can(regex("^(sthree-|amzn-s3-demo-)", var.name_prefix))
    error_message = "name_prefix must not start with \"sthree-\" or \"amzn-s3-demo-\": S3 reserves these bucket name prefixes."
  }
}

variable "data_prefix" {
  description = "Key prefix in the stack's bucket under which the pipeline keeps its data, models and the notebook bundle."
  type        = string
  default     = "video-game-sales"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$", var.data_prefix)) && length(var.data_prefix) <= 200
    error_message = "data_prefix must be up to 200 characters of folder names (letters, digits, . _ -) separated by single slashes, with no slash at either end, for example \"video-game-sales\"."
  }
}

variable "tags" {
  description = "Tags for every resource of the stack, on top of Project and vgsales:stack (the stack's identity, always name_prefix)."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.tags) : !startswith(lower(key), "aws:")])
    error_message = "tags must not use keys starting with \"aws:\", which AWS reserves."
  }

  validation {
    condition     = !contains(keys(var.tags), "vgsales:stack")
    error_message = "tags must not set \"vgsales:stack\": it identifies the stack for teardown and is always name_prefix."
  }
}

variable "create_notebook_instance" {
  description = "Create the notebook instance. The CLI pipeline needs only the bucket and the role; skipping the notebook is cheaper."
  type        = bool
  default     = true
  nullable    = false
}

variable "notebook_instance_type" {
  description = "Instance type of the notebook instance."
  type        = string
  default     = "ml.t3.medium"
  nullable    = false

  validation {
    condition     = startswith(var.notebook_instance_type, "ml.")
    error_message = "notebook_instance_type must be a SageMaker instance type, which starts with \"ml.\" (for example ml.t3.medium), not an EC2 type."
  }
}

variable "notebook_volume_size" {
  description = "Size of the notebook's ~/SageMaker volume in GB."
  type        = number
  default     = 5
  nullable    = false
}

variable "notebook_platform_identifier" {
  description = "Notebook platform, for example notebook-al2023-v1 (needs aws provider 6). null means AWS's default, AL2023 since 2026-05-15."
  type        = string
  default     = null
}

variable "notebook_direct_internet_access" {
  description = "\"Enabled\" or \"Disabled\". Disabled needs notebook_subnet_id in a VPC with an S3 gateway endpoint and a SageMaker API interface endpoint."
  type        = string
  default     = "Enabled"
  nullable    = false
}

variable "notebook_subnet_id" {
  description = "Subnet for the notebook instance; null keeps it outside your VPCs."
  type        = string
  default     = null
}

variable "notebook_security_group_ids" {
  description = "Security groups for the notebook's interface in notebook_subnet_id."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "notebook_default_code_repository" {
  description = "Git repository cloned into ~/SageMaker when the notebook is created."
  type        = string
  default     = null
}

variable "idle_timeout_minutes" {
  description = "Stop the notebook instance after this many idle minutes. 0 turns idle auto-stop off."
  type        = number
  default     = 60
  nullable    = false
}

variable "notebook_bundle_dir" {
  description = "Local folder with the notebook bundle (the workshop notebook, requirements.txt, wheels). Its files are uploaded to s3://<bucket>/<data_prefix>/notebook-bundle/, which on-create copies into ~/SageMaker/video-game-sales/. null uploads nothing."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key for the bucket (SSE-KMS) and the notebook volume. null uses SSE-S3 and an AWS-managed volume key."
  type        = string
  default     = null
}

variable "bucket_versioning_enabled" {
  description = "Keep previous versions of objects in the stack's bucket (expired after 30 days)."
  type        = bool
  default     = true
  nullable    = false
}

variable "bucket_lifecycle_rules_enabled" {
  description = "Give the bucket its lifecycle rule (abort incomplete multipart uploads, expire old versions). The local target turns it off (the setting terraform.bucket_lifecycle_rule chooses): after creating a rule, provider 5.x always waits at least 55 s (10 identical reads 5 s apart), which would dominate a local run; `invoke rehearse` keeps it."
  type        = bool
  default     = true
  nullable    = false
}

variable "bucket_deny_insecure_transport" {
  description = "Deny non-TLS requests to the bucket. Keep it on for AWS; turn it off only for an emulator that ignores the aws:SecureTransport condition (plain moto denies every request with it; the project's emulator evaluates it)."
  type        = bool
  default     = true
  nullable    = false
}

variable "extra_managed_policy_arns" {
  description = "Managed policies to attach to the execution role besides its least-privilege policy."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the execution role, where an organisation requires one."
  type        = string
  default     = null
}

variable "s3_use_path_style" {
  description = "Address S3 as http(s)://endpoint/bucket instead of bucket.endpoint. Needed by local emulators; AWS wants false."
  type        = bool
  default     = false
  nullable    = false
}

variable "provider_max_retries" {
  description = "How often the aws provider retries a failed call. AWS's default is 25; an emulator wants 1 or 2 so that an unsupported call fails in seconds, not minutes."
  type        = number
  default     = 25
  nullable    = false

  validation {
    condition     = var.provider_max_retries >= 0 && floor(var.provider_max_retries) == var.provider_max_retries
    error_message = "provider_max_retries must be a whole number, 0 or more."
  }
}

variable "name" {
  description = "Name of the IAM role."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.name))
    error_message = "name must be 1 to 64 characters of letters, digits and +=,.@_- (IAM role naming rules)."
  }
}

variable "path" {
  description = "IAM path of the role."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^/([!-~]+/)?$", var.path)) && length(var.path) <= 512
    error_message = "path must start and end with a slash, for example \"/\" or \"/workshops/\"."
  }
}

variable "bucket_arn" {
  description = "ARN of the stack's bucket. The role may read and write this bucket and nothing else in S3."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]+$", var.bucket_arn))
    error_message = "bucket_arn must be the ARN of a bucket (arn:aws:s3:::NAME), not of an object or prefix."
  }
}

variable "resource_name_prefix" {
  description = "SageMaker training jobs, models, endpoint configs and endpoints that the role may manage must be named \"<resource_name_prefix>-...\"."
  type        = string
  nullable    = false

  validation {
    # SageMaker writes names into ARNs in lower case, so an upper-case prefix would never match.
    condition     = can(regex("^[a-z0-9](-*[a-z0-9])*$", var.resource_name_prefix)) && length(var.resource_name_prefix) <= 50
    error_message = "resource_name_prefix must be at most 50 lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "notebook_instance_names" {
  description = "Notebook instances that run as this role. The role may describe and stop these (the idle auto-stop job calls StopNotebookInstance on its own instance)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ecr_repository_names" {
  description = "ECR repositories the role may pull images from. SageMaker's built-in algorithm images (XGBoost: sagemaker-xgboost) live in AWS-owned accounts that differ by region, so the account part is a wildcard."
  type        = list(string)
  default     = ["sagemaker-*"]
  nullable    = false
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the bucket, if any. The role gets Decrypt and GenerateDataKey on it."
  type        = string
  default     = null
}

variable "extra_managed_policy_arns" {
  description = "Managed policies to attach in addition to the least-privilege inline policy, for example a team's data-access policy."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary for the role, where an organisation requires one."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for the role."
  type        = map(string)
  default     = {}
  nullable    = false
}

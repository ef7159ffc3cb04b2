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

variable "stack_tag" {
  description = "The tag that marks a SageMaker resource as this stack's, whatever its name. When set, the role may create training, tuning and transform jobs, models, endpoint configs and endpoints that carry this tag with this value (aws:RequestTag) and use those that carry it (aws:ResourceTag), and the name prefix grants nothing; the SageMaker SDK's default names work when its config adds the tag; the tag itself can be neither changed nor removed. Null: the name decides (resource_name_prefix)."
  type = object({
    key   = string
    value = string
  })
  default = null

  validation {
    # SageMaker's tag pattern (API_Tag); "aws:" keys are AWS's own and cannot be set.
    condition = var.stack_tag == null ? true : (
      can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{1,128}$", var.stack_tag.key))
      && can(regex("^[\\p{L}\\p{Z}\\p{N}_.:/=+@-]{1,256}$", var.stack_tag.value))
      && !startswith(lower(var.stack_tag.key), "aws:")
    )
    error_message = "stack_tag must have a key of 1 to 128 and a value of 1 to 256 letters, digits, spaces and _.:/=+-@ (SageMaker's tag pattern), and a key that does not start with \"aws:\"."
  }
}

variable "notebook_instance_names" {
  description = "Notebook instances that run as this role. The role may describe and stop these (the idle auto-stop job calls StopNotebookInstance on its own instance)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ecr_repository_names" {
  description = "ECR repositories of the algorithm images the role may pull, in the registry account of the stack's region (algorithm_image_accounts)."
  type        = list(string)
  default     = ["sagemaker-xgboost"]
  nullable    = false

  validation {
    condition     = alltrue([for name in var.ecr_repository_names : can(regex("^[a-z0-9][a-z0-9._/-]*$", name))])
    error_message = "ecr_repository_names must be ECR repository names such as \"sagemaker-xgboost\", without wildcards."
  }
}

variable "algorithm_image_accounts" {
  description = "The AWS-owned account of each region's registry of SageMaker's built-in XGBoost images (1.x and later). Copied from the SageMaker SDK's image URI config (image_uri_config/xgboost.json); a test keeps them equal. Add a region here to use one that is not listed."
  type        = map(string)
  default = {
    "af-south-1"     = "510948584623"
    "ap-east-1"      = "651117190479"
    "ap-northeast-1" = "354813040037"
    "ap-northeast-2" = "366743142698"
    "ap-northeast-3" = "867004704886"
    "ap-south-1"     = "720646828776"
    "ap-southeast-1" = "121021644041"
    "ap-southeast-2" = "783357654285"
    "ap-southeast-3" = "951798379941"
    "ca-central-1"   = "341280168497"
    "eu-central-1"   = "492215442770"
    "eu-north-1"     = "662702820516"
    "eu-south-1"     = "978288397137"
    "eu-west-1"      = "141502667606"
    "eu-west-2"      = "764974769150"
    "eu-west-3"      = "659782779980"
    "il-central-1"   = "898809789911"
    "me-central-1"   = "272398656194"
    "me-south-1"     = "801668240914"
    "sa-east-1"      = "737474898029"
    "us-east-1"      = "683313688378"
    "us-east-2"      = "257758044811"
    "us-west-1"      = "746614075791"
    "us-west-2"      = "246618743249"
  }
  nullable = false

  validation {
    condition     = alltrue([for account in values(var.algorithm_image_accounts) : can(regex("^[0-9]{12}$", account))])
    error_message = "algorithm_image_accounts must map region names to 12-digit AWS account ids."
  }
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

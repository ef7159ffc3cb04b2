variable "name" {
  description = "Name of the notebook instance."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", var.name)) && length(var.name) <= 53
    error_message = "name must be at most 53 letters, digits and hyphens, starting and ending with a letter or digit (SageMaker naming rules; the lifecycle configuration adds \"-lifecycle\" and must stay within 63)."
  }
}

variable "role_arn" {
  description = "ARN of the IAM role the notebook runs as (see the execution-role module)."
  type        = string
  nullable    = false
}

variable "region" {
  description = "Region of the instance, written into the lifecycle scripts. null reads it from the provider."
  type        = string
  default     = null
}

variable "instance_type" {
  description = "Instance type. t2 types are being retired; ml.t3.medium is the cheapest current type."
  type        = string
  default     = "ml.t3.medium"
  nullable    = false

  validation {
    condition     = startswith(var.instance_type, "ml.")
    error_message = "instance_type must be a SageMaker instance type, which starts with \"ml.\" (for example ml.t3.medium), not an EC2 type."
  }
}

variable "volume_size" {
  description = "Size of the ML storage volume (~/SageMaker) in GB."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.volume_size >= 5 && var.volume_size <= 16384 && floor(var.volume_size) == var.volume_size
    error_message = "volume_size must be a whole number of GB from 5 to 16384."
  }
}

variable "platform_identifier" {
  description = "Platform (operating system and Jupyter) of the instance, for example notebook-al2023-v1. null means AWS's default, which is AL2023 since 2026-05-15. Provider 5.x knows only the al1/al2 values; 6.x accepts al2023."
  type        = string
  default     = null
}

variable "root_access" {
  description = "Whether users of the notebook get root access. Lifecycle scripts always run as root."
  type        = string
  default     = "Disabled"
  nullable    = false

  validation {
    condition     = contains(["Enabled", "Disabled"], var.root_access)
    error_message = "root_access must be \"Enabled\" or \"Disabled\"."
  }
}

variable "direct_internet_access" {
  description = "\"Enabled\" gives the instance internet access through SageMaker. \"Disabled\" needs subnet_id, and the VPC must reach S3 (a gateway endpoint) and the SageMaker API (an interface endpoint)."
  type        = string
  default     = "Enabled"
  nullable    = false

  validation {
    condition     = contains(["Enabled", "Disabled"], var.direct_internet_access)
    error_message = "direct_internet_access must be \"Enabled\" or \"Disabled\"."
  }
}

variable "subnet_id" {
  description = "Subnet to place the instance in. null leaves it outside your VPCs."
  type        = string
  default     = null
}

variable "security_group_ids" {
  description = "Security groups for the instance's network interface in subnet_id. Empty uses the VPC's default group."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "kms_key_id" {
  description = "KMS key that encrypts the ML storage volume. null uses an AWS-managed key."
  type        = string
  default     = null
}

variable "default_code_repository" {
  description = "Git repository (a URL or the name of a SageMaker code repository) cloned into ~/SageMaker at creation."
  type        = string
  default     = null
}

variable "lifecycle_config_name" {
  description = "Name of the lifecycle configuration. null means \"<name>-lifecycle\"."
  type        = string
  default     = null
}

variable "idle_timeout_minutes" {
  description = "Stop the instance after Jupyter has been idle this many minutes with no kernel busy. 0 turns idle auto-stop off."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.idle_timeout_minutes >= 0 && floor(var.idle_timeout_minutes) == var.idle_timeout_minutes
    error_message = "idle_timeout_minutes must be a whole number of minutes, 0 or more (0 turns idle auto-stop off)."
  }
}

variable "notebook_bundle_s3_uri" {
  description = "S3 folder whose files on-create copies into ~/SageMaker/<workspace_folder> (notebooks, a requirements.txt, wheels). null copies nothing."
  type        = string
  default     = null

  validation {
    condition     = var.notebook_bundle_s3_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]+/[!-~]*$", var.notebook_bundle_s3_uri))
    error_message = "notebook_bundle_s3_uri must look like s3://BUCKET/FOLDER/ (printable characters, no spaces) or be null."
  }

  validation {
    condition     = var.notebook_bundle_s3_uri == null || !can(regex("'", var.notebook_bundle_s3_uri))
    error_message = "notebook_bundle_s3_uri must not contain a single quote."
  }
}

variable "workspace_folder" {
  description = "Folder under ~/SageMaker that on-create fills with the bundle."
  type        = string
  default     = "video-game-sales"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]*$", var.workspace_folder))
    error_message = "workspace_folder must be one folder name of letters, digits, dots, underscores and hyphens."
  }
}

variable "sdk_default_tags" {
  description = "Tags that the SageMaker SDK's config (written by on-start) adds to every training, tuning and transform job, model, endpoint config and endpoint the SDK creates, unless the code gives the same key. With the execution role's stack_tag among them, code that keeps the SDK's default names runs as the role."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "stack_settings" {
  description = "Settings that on-start writes to ~/.vgsales/stack.json and, as VGSALES_<KEY> variables, to ~/.vgsales/stack.env, so that notebooks find the stack without manual edits."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for key in keys(var.stack_settings) : can(regex("^[a-z][a-z0-9_]*$", key))])
    error_message = "stack_settings keys must be lowercase letters, digits and underscores, starting with a letter (each becomes an environment variable name)."
  }

  validation {
    condition     = alltrue([for value in values(var.stack_settings) : !can(regex("['\\n\\r]", value))])
    error_message = "stack_settings values must not contain single quotes or line breaks."
  }
}

variable "tags" {
  description = "Tags for the notebook instance and its lifecycle configuration."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "bucket_prefix" {
  description = "Start of the bucket name. AWS appends a 26-character unique suffix, so the name is globally unique without a random provider."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.bucket_prefix) >= 1 && length(var.bucket_prefix) <= 37
    error_message = "bucket_prefix must be 1 to 37 characters long: AWS appends 26 characters and S3 bucket names end at 63."
  }

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]*$", var.bucket_prefix))
    error_message = "bucket_prefix may contain only lowercase letters, digits, dots and hyphens, and must start with a letter or digit (S3 bucket naming rules)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the bucket with every object and object version in it, so that teardown never stops at BucketNotEmpty."
  type        = bool
  default     = true
  nullable    = false
}

variable "versioning_enabled" {
  description = "Keep previous versions of overwritten or deleted objects. Turning it off later suspends versioning; S3 cannot unversion a bucket."
  type        = bool
  default     = true
  nullable    = false
}

variable "noncurrent_version_expiration_days" {
  description = "Delete previous object versions this many days after they were replaced. null keeps them forever."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days == null || try(var.noncurrent_version_expiration_days >= 1, false)
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1, or null."
  }
}

variable "lifecycle_rules_enabled" {
  description = "Create the lifecycle rule (abort incomplete multipart uploads, expire noncurrent versions). Turn off only for throw-away buckets: after creating a rule, provider 5.x always waits at least 55 s (10 identical reads 5 s apart), on AWS as anywhere."
  type        = bool
  default     = true
  nullable    = false
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Abort multipart uploads that were not completed after this many days, so their parts stop costing storage."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number of days, at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of a KMS key for default encryption (SSE-KMS with an S3 bucket key). null uses SSE-S3 (AES256)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or null."
  }
}

variable "deny_insecure_transport" {
  description = "Attach a bucket policy that denies every request not made over TLS. Keep it on for AWS; emulators that ignore the aws:SecureTransport condition deny every request with it."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default     = {}
  nullable    = false
}

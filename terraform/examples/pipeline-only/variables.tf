variable "region" {
  description = "AWS region for the bucket and the role's SageMaker permissions."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of the bucket, the role, and the SageMaker jobs, models and endpoints the role may manage."
  type        = string
  default     = "team-a-vgsales"
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary that the organisation requires on new roles, if any."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = { Team = "analytics" }
}

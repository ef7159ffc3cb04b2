variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "vgsales-private"
}

variable "availability_zone" {
  description = "Availability zone of the private subnet. null means the region's zone \"a\"."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "Address range of the new VPC."
  type        = string
  default     = "10.42.0.0/16"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}

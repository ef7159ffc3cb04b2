output "bucket_name" {
  description = "Name of the stack's bucket."
  value       = module.data_bucket.bucket_name
}

output "bucket_arn" {
  description = "ARN of the stack's bucket."
  value       = module.data_bucket.bucket_arn
}

output "role_arn" {
  description = "ARN of the SageMaker execution role."
  value       = module.execution_role.role_arn
}

output "role_name" {
  description = "Name of the SageMaker execution role."
  value       = module.execution_role.role_name
}

output "role_policy_json" {
  description = "The execution role's least-privilege policy as JSON, for review or a policy linter."
  value       = module.execution_role.policy_json
}

output "notebook_instance_name" {
  description = "Name of the notebook instance, or null when create_notebook_instance is false."
  value       = try(module.notebook_instance[0].notebook_instance_name, null)
}

output "notebook_console_url" {
  description = "AWS console page of the notebook instance (Open JupyterLab), or null without a notebook."
  value       = try(module.notebook_instance[0].console_url, null)
}

output "lifecycle_config_name" {
  description = "Name of the notebook's lifecycle configuration, or null without a notebook."
  value       = try(module.notebook_instance[0].lifecycle_config_name, null)
}

output "notebook_bundle_s3_uri" {
  description = "S3 folder that on-create copies into ~/SageMaker/video-game-sales/."
  value       = local.notebook_bundle_s3_uri
}

output "region" {
  description = "Region of the stack."
  value       = var.region
}

output "data_prefix" {
  description = "Key prefix of the pipeline's data in the bucket."
  value       = var.data_prefix
}

output "name_prefix" {
  description = "Start of every resource name in the stack."
  value       = var.name_prefix
}

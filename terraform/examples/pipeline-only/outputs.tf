output "bucket_name" {
  description = "Bucket for the pipeline's data and models."
  value       = module.data_bucket.bucket_name
}

output "role_arn" {
  description = "Execution role to pass to SageMaker training jobs and models."
  value       = module.execution_role.role_arn
}

output "role_policy_json" {
  description = "The role's policy, for review."
  value       = module.execution_role.policy_json
}

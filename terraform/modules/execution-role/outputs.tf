output "role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.this.arn
}

output "role_name" {
  description = "Name of the execution role."
  value       = aws_iam_role.this.name
}

output "policy_json" {
  description = "The role's inline policy as JSON, for review or a policy linter (known at plan time)."
  value       = jsonencode(local.policy)
}

output "trust_policy_json" {
  description = "The role's trust policy as JSON."
  value       = aws_iam_role.this.assume_role_policy
}

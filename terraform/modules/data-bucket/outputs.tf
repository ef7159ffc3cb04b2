output "bucket_name" {
  description = "Name of the bucket (the prefix plus AWS's unique suffix)."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the bucket."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}

output "policy_json" {
  description = "The bucket policy as JSON, or null when no policy is attached."
  value       = try(aws_s3_bucket_policy.this[0].policy, null)
}

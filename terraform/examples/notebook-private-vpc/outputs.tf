output "bucket_name" {
  description = "Bucket of the stack; upload the notebook bundle to s3://<bucket_name>/notebook-bundle/ before the instance is created."
  value       = module.data_bucket.bucket_name
}

output "notebook_console_url" {
  description = "AWS console page of the notebook instance."
  value       = module.notebook_instance.console_url
}

output "subnet_id" {
  description = "The private subnet of the notebook instance."
  value       = aws_subnet.private.id
}

output "notebook_instance_name" {
  description = "Name of the notebook instance."
  value       = aws_sagemaker_notebook_instance.this.name
}

output "notebook_instance_arn" {
  description = "ARN of the notebook instance."
  value       = aws_sagemaker_notebook_instance.this.arn
}

output "notebook_instance_url" {
  description = "URL of the instance's Jupyter (opening it needs a presigned URL or the console)."
  value       = aws_sagemaker_notebook_instance.this.url
}

output "console_url" {
  description = "AWS console page of the notebook instance, with its Open JupyterLab button."
  value       = local.console_url
}

output "lifecycle_config_name" {
  description = "Name of the lifecycle configuration."
  value       = aws_sagemaker_notebook_instance_lifecycle_configuration.this.name
}

output "on_create_script" {
  description = "The rendered on-create script, for review."
  value       = local.on_create_script
}

output "on_start_script" {
  description = "The rendered on-start script, for review."
  value       = local.on_start_script
}

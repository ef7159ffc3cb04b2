"""Long-lived infrastructure: driving the Terraform configuration under terraform/."""

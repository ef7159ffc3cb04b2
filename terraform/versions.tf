terraform {
  # 1.7 for mock_provider in tests/*.tftest.hcl.
  required_version = ">= 1.7"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7"
    }
  }
}

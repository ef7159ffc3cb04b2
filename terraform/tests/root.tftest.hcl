# The workshop stack as `invoke setup` applies it, against a mock provider: no AWS account needed.
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { id = "us-east-1", name = "us-east-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      id  = "vgsales-20261101000000000000000001"
      arn = "arn:aws:s3:::vgsales-20261101000000000000000001"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution" }
  }
}

run "workshop_stack" {
  command = apply

  variables {
    notebook_bundle_dir = "tests/fixtures/notebook-bundle"
  }

  assert {
    condition = (
      output.bucket_name == "vgsales-20261101000000000000000001"
      && output.role_arn == "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"
      && output.role_name == "vgsales-sagemaker-execution"
      && output.notebook_instance_name == "vgsales-notebook"
      && output.lifecycle_config_name == "vgsales-notebook-lifecycle"
      && output.region == "us-east-1"
      && output.data_prefix == "video-game-sales"
      && output.name_prefix == "vgsales"
    )
    error_message = "The outputs must describe the stack that invoke and the notebook use."
  }

  assert {
    condition     = output.notebook_console_url == "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1#/notebook-instances/vgsales-notebook"
    error_message = "The console URL must open the notebook's page."
  }

  assert {
    condition     = module.data_bucket.bucket_name == output.bucket_name && output.bucket_arn == "arn:aws:s3:::vgsales-20261101000000000000000001"
    error_message = "The bucket comes from the data-bucket module."
  }

  assert {
    condition = toset([for object in aws_s3_object.notebook_bundle : object.key]) == toset([
      "video-game-sales/notebook-bundle/requirements.txt",
      "video-game-sales/notebook-bundle/workshop.ipynb",
    ])
    error_message = "Every file of the bundle folder must be uploaded under <data_prefix>/notebook-bundle/."
  }

  assert {
    condition     = strcontains(module.notebook_instance[0].on_create_script, "\nBUNDLE_URI='s3://vgsales-20261101000000000000000001/video-game-sales/notebook-bundle/'\n")
    error_message = "on-create must copy the uploaded bundle."
  }

  assert {
    condition = strcontains(module.notebook_instance[0].on_start_script, jsonencode({
      bucket_name = "vgsales-20261101000000000000000001"
      data_prefix = "video-game-sales"
      name_prefix = "vgsales"
      region      = "us-east-1"
      role_arn    = "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"
    }))
    error_message = "on-start must write stack.json with the root outputs' names and values."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(output.role_policy_json).Statement :
      statement.Resource == ["arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/vgsales-notebook"]
    ])
    error_message = "The role may stop its own notebook (idle auto-stop)."
  }
}

run "pipeline_only" {
  command = apply

  variables {
    create_notebook_instance = false
    name_prefix              = "team-a-vgsales"
    region                   = "eu-west-1"
  }

  assert {
    condition     = length(module.notebook_instance) == 0 && output.notebook_instance_name == null && output.notebook_console_url == null && output.lifecycle_config_name == null
    error_message = "create_notebook_instance = false must create no notebook and output nulls."
  }

  assert {
    condition     = length(aws_s3_object.notebook_bundle) == 0
    error_message = "Without notebook_bundle_dir nothing is uploaded."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(output.role_policy_json).Statement : contains(statement.Action, "sagemaker:StopNotebookInstance")
    ])
    error_message = "Without a notebook the role must not be able to stop notebook instances."
  }

  assert {
    condition     = module.data_bucket.bucket_name != null && module.execution_role.role_name == "team-a-vgsales-sagemaker-execution"
    error_message = "The bucket and the role are named from the prefix."
  }
}

run "rejects_a_region_without_notebook_instances" {
  command = plan

  variables {
    region = "us-gov-east-1"
  }

  expect_failures = [var.region]
}

# One case per rule, each checked for its message, is in tests/terraform/test_terraform.py.
run "rejects_a_prefix_with_upper_case" {
  command = plan

  variables {
    name_prefix = "VGSales"
  }

  expect_failures = [var.name_prefix]
}

run "rejects_a_prefix_too_long_for_sagemaker_names" {
  command = plan

  variables {
    name_prefix = "video-game-sales-workshop"
  }

  expect_failures = [var.name_prefix]
}

run "rejects_an_ec2_instance_type" {
  command = plan

  variables {
    notebook_instance_type = "t3.medium"
  }

  expect_failures = [var.notebook_instance_type]
}

run "rejects_a_data_prefix_with_slashes_at_the_ends" {
  command = plan

  variables {
    data_prefix = "/video-game-sales/"
  }

  expect_failures = [var.data_prefix]
}

run "rejects_tags_that_would_replace_the_stack_identity" {
  command = plan

  variables {
    tags = { "vgsales:stack" = "someone-else" }
  }

  expect_failures = [var.tags]
}

run "rejects_tags_in_the_aws_namespace_whatever_their_case" {
  command = plan

  variables {
    tags = { "AWS:owner" = "me" }
  }

  expect_failures = [var.tags]
}

run "keeps_tags_that_only_look_like_the_aws_namespace" {
  command = plan

  variables {
    tags = { "aws-team" = "ml", "awsome:owner" = "me", "team:aws:owner" = "me" }
  }
}

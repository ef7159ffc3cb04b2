# Plans and applies against a mock provider: no AWS account and no network needed.
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { id = "eu-west-1", name = "eu-west-1" }
  }
}

variables {
  name                   = "vgsales-notebook"
  role_arn               = "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"
  notebook_bundle_s3_uri = "s3://vgsales-20261101000000000000000001/video-game-sales/notebook-bundle/"
  stack_settings = {
    bucket_name = "vgsales-20261101000000000000000001"
    data_prefix = "video-game-sales"
    region      = "eu-west-1"
    role_arn    = "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"
    name_prefix = "vgsales"
  }
}

run "secure_defaults" {
  command = apply

  assert {
    condition     = aws_sagemaker_notebook_instance.this.root_access == "Disabled"
    error_message = "Root access must be off by default."
  }

  assert {
    condition     = one(aws_sagemaker_notebook_instance.this.instance_metadata_service_configuration).minimum_instance_metadata_service_version == "2"
    error_message = "The instance must accept IMDSv2 only."
  }

  assert {
    condition = (
      aws_sagemaker_notebook_instance.this.lifecycle_config_name == aws_sagemaker_notebook_instance_lifecycle_configuration.this.name
      && aws_sagemaker_notebook_instance_lifecycle_configuration.this.name == "vgsales-notebook-lifecycle"
    )
    error_message = "The lifecycle configuration must be attached to the instance."
  }

  assert {
    condition     = aws_sagemaker_notebook_instance.this.instance_type == "ml.t3.medium" && aws_sagemaker_notebook_instance.this.volume_size == 5
    error_message = "Defaults: ml.t3.medium with a 5 GB volume."
  }

  assert {
    condition     = aws_sagemaker_notebook_instance.this.direct_internet_access == "Enabled" && aws_sagemaker_notebook_instance.this.subnet_id == null
    error_message = "Without a subnet the instance keeps direct internet access."
  }

  assert {
    condition     = base64decode(aws_sagemaker_notebook_instance_lifecycle_configuration.this.on_create) == output.on_create_script
    error_message = "on_create must be the rendered on-create script."
  }

  assert {
    condition = alltrue([
      for script in [output.on_create_script, output.on_start_script] :
      startswith(script, "#!/bin/bash\n") && !strcontains(script, "\r") && length(base64encode(script)) <= 16384
    ])
    error_message = "Lifecycle scripts must be bash with LF endings and within SageMaker's 16384 base64 characters."
  }

  assert {
    condition = strcontains(
      base64decode(aws_sagemaker_notebook_instance_lifecycle_configuration.this.on_start),
      "\n${jsonencode(var.stack_settings)}\nVGSALES_STACK_JSON\n",
    )
    error_message = "on-start must write the stack settings as JSON."
  }

  assert {
    condition     = strcontains(output.on_start_script, "\nexport VGSALES_BUCKET_NAME='vgsales-20261101000000000000000001'\n")
    error_message = "on-start must export the stack settings for shells."
  }

  assert {
    condition     = strcontains(output.on_start_script, "\nIDLE_TIMEOUT_MINUTES=60\n") && strcontains(output.on_start_script, "\nREGION='eu-west-1'\n")
    error_message = "on-start must stop the instance after 60 idle minutes by default, in the instance's region."
  }

  assert {
    condition     = strcontains(output.on_create_script, "\nBUNDLE_URI='${var.notebook_bundle_s3_uri}'\n") && strcontains(output.on_create_script, "/SageMaker/video-game-sales\"\n")
    error_message = "on-create must copy the bundle into ~/SageMaker/video-game-sales."
  }

  assert {
    condition     = output.console_url == "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/notebook-instances/vgsales-notebook"
    error_message = "The console URL must open the instance's page in its region."
  }
}

run "vpc_placement_without_internet" {
  command = plan

  variables {
    direct_internet_access = "Disabled"
    subnet_id              = "subnet-0123456789abcdef0"
    security_group_ids     = ["sg-0123456789abcdef0"]
    kms_key_id             = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    idle_timeout_minutes   = 0
    region                 = "eu-west-1"
    platform_identifier    = "notebook-al2-v3"
  }

  assert {
    condition     = aws_sagemaker_notebook_instance.this.platform_identifier == "notebook-al2-v3"
    error_message = "An explicit platform_identifier must reach the instance."
  }

  assert {
    condition = (
      aws_sagemaker_notebook_instance.this.direct_internet_access == "Disabled"
      && aws_sagemaker_notebook_instance.this.subnet_id == "subnet-0123456789abcdef0"
      && aws_sagemaker_notebook_instance.this.security_groups == toset(["sg-0123456789abcdef0"])
      && aws_sagemaker_notebook_instance.this.kms_key_id == var.kms_key_id
    )
    error_message = "Subnet, security groups and the volume key must reach the instance."
  }

  assert {
    condition     = length(data.aws_region.current) == 0 && strcontains(output.on_start_script, "\nIDLE_TIMEOUT_MINUTES=0\n")
    error_message = "A given region needs no lookup, and idle_timeout_minutes = 0 reaches on-start."
  }
}

run "rejects_an_ec2_instance_type" {
  command = plan

  variables {
    instance_type = "t3.medium"
  }

  expect_failures = [var.instance_type]
}

run "rejects_no_internet_without_a_subnet" {
  command = plan

  variables {
    direct_internet_access = "Disabled"
  }

  expect_failures = [aws_sagemaker_notebook_instance.this]
}

run "rejects_a_negative_idle_timeout" {
  command = plan

  variables {
    idle_timeout_minutes = -5
  }

  expect_failures = [var.idle_timeout_minutes]
}

run "rejects_settings_that_would_break_the_env_file" {
  command = plan

  variables {
    stack_settings = { bucket_name = "it's" }
  }

  expect_failures = [var.stack_settings]
}

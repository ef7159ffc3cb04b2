# Plans and applies against a mock provider: no AWS account and no network needed.
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
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution" }
  }
}

variables {
  name                    = "vgsales-sagemaker-execution"
  bucket_arn              = "arn:aws:s3:::vgsales-20261101000000000000000001"
  resource_name_prefix    = "vgsales"
  notebook_instance_names = ["vgsales-notebook"]
}

run "least_privilege_policy" {
  command = apply

  assert {
    condition = (
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "sagemaker.amazonaws.com"
      && jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Action == "sts:AssumeRole"
      && jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Effect == "Allow"
      && length(jsondecode(aws_iam_role.this.assume_role_policy).Statement) == 1
    )
    error_message = "Only sagemaker.amazonaws.com may assume the role."
  }

  assert {
    condition = (
      jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEqualsIfExists["aws:SourceAccount"] == "123456789012"
      && jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.ArnLikeIfExists["aws:SourceArn"] == "arn:aws:sagemaker:us-east-1:123456789012:*"
    )
    error_message = "SageMaker may assume the role only on behalf of this account and region (confused-deputy protection)."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
      if contains(statement.Action, "ecr:BatchGetImage")
    ])) == toset(["arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"])
    error_message = "Images may be pulled only from the XGBoost algorithm repository in the region's registry account."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
      if contains(statement.Action, "logs:PutLogEvents")
      ])) == toset([
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs:log-stream:vgsales-*",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TransformJobs:log-stream:vgsales-*",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/vgsales-*:log-stream:*",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/NotebookInstances:log-stream:vgsales-notebook/*",
    ])
    error_message = "Log events may be written only to the streams of this stack's jobs, endpoints and notebook instance."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
      if contains(statement.Action, "logs:CreateLogStream")
      ])) == toset([
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TransformJobs",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/vgsales-*",
      "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/NotebookInstances",
    ])
    error_message = "Log groups may be used only where SageMaker logs this stack's jobs, endpoints and notebook instance."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for resource in statement.Resource :
        resource == var.bucket_arn || resource == "${var.bucket_arn}/*"
      ] if anytrue([for action in statement.Action : startswith(action, "s3:")])
    ]))
    error_message = "S3 permissions must be limited to the stack's bucket and its objects."
  }

  assert {
    condition = toset(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Action
      if contains(statement.Resource, "*")
      ])) == toset([
      "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics",
      "cloudwatch:ListMetrics",
      "cloudwatch:PutMetricData",
      "ec2:CreateNetworkInterface",
      "ec2:CreateNetworkInterfacePermission",
      "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission",
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "ecr:GetAuthorizationToken",
      "sagemaker:ListEndpointConfigs",
      "sagemaker:ListEndpoints",
      "sagemaker:ListHyperParameterTuningJobs",
      "sagemaker:ListModels",
      "sagemaker:ListTrainingJobs",
      "sagemaker:ListTransformJobs",
    ])
    error_message = "Resource \"*\" is allowed only for actions that AWS cannot scope to a resource."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      contains(statement.Action, "cloudwatch:PutMetricData") == can(statement.Condition.StringLikeIfExists["cloudwatch:namespace"])
    ])
    error_message = "PutMetricData must be limited to SageMaker's metric namespaces."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      try(statement.Condition.StringEqualsIfExists["aws:RequestedRegion"], "") == "us-east-1"
      if contains(statement.Action, "ec2:CreateNetworkInterface")
    ])
    error_message = "The network interface actions of VPC-placed jobs must be limited to the stack's region."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for resource in statement.Resource : startswith(resource, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/")
      ] if anytrue([for action in statement.Action : startswith(action, "logs:")])
    ]))
    error_message = "CloudWatch Logs permissions must be limited to SageMaker's log groups in this account and region."
  }

  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : [
        for resource in statement.Resource : (
          startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:training-job/vgsales-")
          || startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/vgsales-")
          || startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:transform-job/vgsales-")
          || startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:model/vgsales-")
          || startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/vgsales-")
          || startswith(resource, "arn:aws:sagemaker:us-east-1:123456789012:endpoint/vgsales-")
        )
      ] if contains(statement.Action, "sagemaker:CreateTrainingJob")
    ]))
    error_message = "Training, tuning and transform jobs, models, endpoint configs and endpoints must be scoped to the name prefix."
  }

  assert {
    condition = length(setsubtract([
      "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig",
      "sagemaker:CreateEndpoint", "sagemaker:DeleteEndpoint", "sagemaker:InvokeEndpoint", "sagemaker:AddTags",
      "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob",
      "sagemaker:StopHyperParameterTuningJob", "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
      "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
      ], flatten([
        for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Action
    ]))) == 0
    error_message = "The role must be able to run the whole pipeline: train, create a model, deploy, invoke, clean up."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Action == ["iam:PassRole"]
      && statement.Resource == ["arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"]
      && try(statement.Condition.StringEquals["iam:PassedToService"], "") == "sagemaker.amazonaws.com"
    ])
    error_message = "iam:PassRole must be allowed for this role only, and only towards SageMaker."
  }

  assert {
    condition = length([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement
      if contains(statement.Action, "iam:PassRole")
    ]) == 1
    error_message = "No other statement may grant iam:PassRole."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Resource == ["arn:aws:iam::123456789012:role/vgsales-sagemaker-execution"]
      if anytrue([for action in statement.Action : startswith(action, "iam:")])
      ]) && anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Action == ["iam:GetRole", "iam:SimulatePrincipalPolicy"]
    ])
    error_message = "The role may read and simulate itself (SDK v3's role check), and no IAM action may reach any other role."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      contains(statement.Action, "sagemaker:StopNotebookInstance")
      && statement.Resource == ["arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/vgsales-notebook"]
    ])
    error_message = "The notebook may stop itself (idle auto-stop) and nothing else."
  }

  assert {
    condition     = output.policy_json == aws_iam_role_policy.this.policy && output.role_arn == aws_iam_role.this.arn
    error_message = "The outputs must show the applied policy and the role ARN."
  }

  assert {
    condition     = length(aws_iam_role_policy_attachment.extra) == 0
    error_message = "No managed policy is attached unless asked for."
  }
}

run "tag_based_access" {
  command = plan

  variables {
    stack_tag = { key = "vgsales:stack", value = "vgsales" }
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      try(statement.Sid, "") == "TaggedPipelineCreate" && contains(statement.Action, "sagemaker:CreateTrainingJob")
      && contains(statement.Resource, "arn:aws:sagemaker:us-east-1:123456789012:training-job/*")
      && try(statement.Condition, {}) == { StringEquals = { "aws:RequestTag/vgsales:stack" = "vgsales" } }
    ])
    error_message = "Resources of any name may be created only with the stack's tag and value in the request."
  }

  assert {
    condition = alltrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      (
        try(statement.Condition.StringEquals["aws:RequestTag/vgsales:stack"], "") == "vgsales"
        || try(statement.Condition.StringEquals["aws:ResourceTag/vgsales:stack"], "") == "vgsales"
        || (
          try(statement.Condition.StringEqualsIfExists["aws:ResourceTag/vgsales:stack"], "") == "vgsales"
          && statement.Action == ["sagemaker:DescribeEndpoint"]
        )
      )
      if anytrue([for resource in statement.Resource : strcontains(resource, ":sagemaker:") && !strcontains(resource, "notebook-instance")])
    ])
    error_message = "Every grant on the pipeline's SageMaker resources must require the stack's tag, in the request or on the resource; only DescribeEndpoint may pass where the resource has none (deletion waiters)."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      anytrue([for resource in statement.Resource : strcontains(resource, "/vgsales-*")])
    ])
    error_message = "With stack_tag, no grant goes by the name prefix: a neighbour stack's prefix can start with ours."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      try(statement.Sid, "") == "TaggedPipelineResources" && contains(statement.Action, "sagemaker:DeleteEndpoint")
      && contains(statement.Action, "sagemaker:DescribeModel") && !contains(statement.Action, "sagemaker:AddTags")
    ])
    error_message = "Using, reading and deleting need the stack's tag on the resource."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      try(statement.Sid, "") == "TaggedPipelineTags"
      && try(statement.Condition["ForAllValues:StringNotEqualsIgnoreCase"]["aws:TagKeys"], []) == ["vgsales:stack"]
    ])
    error_message = "The stack's tag may be neither changed nor removed on a tagged resource."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      try(statement.Sid, "") == "TagOnCreate" && statement.Action == ["sagemaker:AddTags"]
      && contains(try(statement.Condition.StringEquals["sagemaker:TaggingAction"], []), "CreateTrainingJob")
      && !contains(try(statement.Condition.StringEquals["sagemaker:TaggingAction"], []), "AddTags")
    ])
    error_message = "Tags on create need AddTags, allowed only as part of a create."
  }

  assert {
    condition = contains(flatten([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : statement.Resource
      if contains(statement.Action, "logs:GetLogEvents")
    ]), "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/TrainingJobs:log-stream:*")
    error_message = "Jobs of any name log to streams of any name in SageMaker's job groups."
  }
}

run "extra_managed_policies_and_kms" {
  command = plan

  variables {
    extra_managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSageMakerCanvasFullAccess"]
    kms_key_arn               = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    notebook_instance_names   = []
  }

  assert {
    condition     = keys(aws_iam_role_policy_attachment.extra) == ["arn:aws:iam::aws:policy/AmazonSageMakerCanvasFullAccess"]
    error_message = "Each extra managed policy must be attached."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement :
      statement.Resource == [var.kms_key_arn] && contains(statement.Action, "kms:Decrypt")
    ])
    error_message = "A bucket KMS key must be usable by the role."
  }

  assert {
    condition = !anytrue([
      for statement in jsondecode(aws_iam_role_policy.this.policy).Statement : contains(statement.Action, "sagemaker:StopNotebookInstance")
    ])
    error_message = "Without a notebook the role must not be able to stop notebook instances."
  }
}

run "refuses_a_region_without_a_known_algorithm_registry" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = { id = "xx-nowhere-1", name = "xx-nowhere-1" }
  }

  expect_failures = [aws_iam_role_policy.this]
}

run "rejects_an_object_arn_as_bucket" {
  command = plan

  variables {
    bucket_arn = "arn:aws:s3:::vgsales-bucket/data/*"
  }

  expect_failures = [var.bucket_arn]
}

run "rejects_a_stack_tag_in_awss_own_namespace" {
  command = plan

  variables {
    stack_tag = { key = "AWS:stack", value = "vgsales" }
  }

  expect_failures = [var.stack_tag]
}

run "rejects_an_uppercase_resource_prefix" {
  command = plan

  variables {
    resource_name_prefix = "VGSales"
  }

  expect_failures = [var.resource_name_prefix]
}

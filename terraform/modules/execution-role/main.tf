data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # id, not name: name is deprecated in provider 6 and id holds the region in both 5 and 6.
  region  = data.aws_region.current.id
  account = data.aws_caller_identity.current.account_id

  # Built from parts rather than read from aws_iam_role.this.arn, so that the policy is known at plan time.
  role_arn = "arn:${local.partition}:iam::${local.account}:role${var.path}${var.name}"

  sagemaker_arn_prefix = "arn:${local.partition}:sagemaker:${local.region}:${local.account}"
  pipeline_types       = ["training-job", "hyper-parameter-tuning-job", "transform-job", "model", "endpoint-config", "endpoint"]
  pipeline_resource_arns = [
    for type in local.pipeline_types : "${local.sagemaker_arn_prefix}:${type}/${var.resource_name_prefix}-*"
  ]
  # Any name: with stack_tag, the tag (not the name) is what makes a resource this stack's.
  tagged_resource_arns = [for type in local.pipeline_types : "${local.sagemaker_arn_prefix}:${type}/*"]
  tagged               = var.stack_tag != null
  request_tag          = local.tagged ? "aws:RequestTag/${var.stack_tag.key}" : ""
  resource_tag         = local.tagged ? "aws:ResourceTag/${var.stack_tag.key}" : ""
  tag_key              = local.tagged ? var.stack_tag.key : ""
  tag_value            = local.tagged ? var.stack_tag.value : ""

  pipeline_actions = [
    "sagemaker:AddTags",
    "sagemaker:CreateEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DeleteEndpoint",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:DeleteModel",
    "sagemaker:DeleteTags",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DescribeEndpointConfig",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:InvokeEndpoint",
    "sagemaker:ListTags",
    "sagemaker:ListTrainingJobsForHyperParameterTuningJob",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
    "sagemaker:UpdateEndpoint",
  ]
  tagging_actions = ["sagemaker:AddTags", "sagemaker:DeleteTags"]
  create_actions  = [for action in local.pipeline_actions : action if startswith(action, "sagemaker:Create")]
  use_actions     = [for action in local.pipeline_actions : action if !startswith(action, "sagemaker:Create") && !contains(local.tagging_actions, action)]
  notebook_instance_arns = [
    for name in var.notebook_instance_names : "${local.sagemaker_arn_prefix}:notebook-instance/${lower(name)}"
  ]

  # The registry of the algorithm images in this region: an AWS-owned account that differs by region.
  algorithm_image_account = lookup(var.algorithm_image_accounts, local.region, "")

  # SageMaker's log groups and streams (the SageMaker developer guide, "Log Amazon SageMaker AI events with
  # CloudWatch"): jobs log to one group per job type, each job to streams "<job name>/<host>"; an endpoint to
  # its own group, one stream per variant and instance; a notebook instance to streams "<name>/<log>".
  log_group_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group"
  job_log_groups = ["/aws/sagemaker/TrainingJobs", "/aws/sagemaker/TransformJobs"]
  # With stack_tag, jobs and endpoints may have any name, and so may their streams and groups: CloudWatch Logs
  # has no tag condition on a stream, and SageMaker creates the groups untagged, so the job groups' streams and
  # the endpoint groups are SageMaker's all (in this account and region), as AWS's own execution role policies
  # grant them. This is the one place where the role reaches past its stack.
  job_stream_name     = local.tagged ? "*" : "${var.resource_name_prefix}-*"
  endpoint_group_name = local.tagged ? "*" : "${var.resource_name_prefix}-*"
  log_groups = concat(
    [for group in local.job_log_groups : "${local.log_group_arn}:${group}"],
    ["${local.log_group_arn}:/aws/sagemaker/Endpoints/${local.endpoint_group_name}"],
    length(var.notebook_instance_names) == 0 ? [] : ["${local.log_group_arn}:/aws/sagemaker/NotebookInstances"],
  )
  log_streams = concat(
    [for group in local.job_log_groups : "${local.log_group_arn}:${group}:log-stream:${local.job_stream_name}"],
    ["${local.log_group_arn}:/aws/sagemaker/Endpoints/${local.endpoint_group_name}:log-stream:*"],
    [for name in var.notebook_instance_names : "${local.log_group_arn}:/aws/sagemaker/NotebookInstances:log-stream:${name}/*"],
  )

  trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SageMakerAssumesRole"
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Confused-deputy protection (IAM user guide, "The confused deputy problem"): SageMaker may assume the
      # role only on behalf of this account, in this region. IfExists, because SageMaker does not document
      # that every feature (notebook instances among them) sets these keys; where it sets them, they must match.
      Condition = {
        StringEqualsIfExists = { "aws:SourceAccount" = local.account }
        ArnLikeIfExists      = { "aws:SourceArn" = "${local.sagemaker_arn_prefix}:*" }
      }
    }]
  }

  statements = concat(
    [
      {
        Sid      = "StackBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
        Resource = [var.bucket_arn]
      },
      {
        Sid    = "StackBucketObjects"
        Effect = "Allow"
        Action = [
          "s3:AbortMultipartUpload",
          "s3:DeleteObject",
          "s3:GetObject",
          "s3:ListMultipartUploadParts",
          "s3:PutObject",
        ]
        Resource = ["${var.bucket_arn}/*"]
      },
      {
        # Actions on a log group (the service authorization reference lists CreateLogStream and
        # DescribeLogStreams there), on SageMaker's groups of this stack only.
        Sid      = "SageMakerLogGroups"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams"]
        Resource = local.log_groups
      },
      {
        # Writing and reading events, on the streams of this stack's jobs, endpoints and notebook instances.
        Sid      = "SageMakerLogStreams"
        Effect   = "Allow"
        Action   = ["logs:GetLogEvents", "logs:PutLogEvents"]
        Resource = local.log_streams
      },
      {
        # PutMetricData has no resource-level permissions; the namespace condition is the scope. IfExists,
        # because a real PutMetricData always names its namespace (so the scope holds), while the SageMaker SDK
        # v3's role check (iam_role_resolver) simulates the action with no context and would otherwise fail.
        Sid       = "SageMakerMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringLikeIfExists = { "cloudwatch:namespace" = ["/aws/sagemaker/*", "aws/sagemaker/*"] } }
      },
      {
        # Reading back what SageMaker published: the SDK's TrainingJobAnalytics (GetMetricStatistics) and
        # endpoint dashboards. CloudWatch's read actions have no resource-level permissions and no namespace
        # condition key, so they are account-wide reads of metrics, never of data.
        Sid      = "SageMakerMetricsRead"
        Effect   = "Allow"
        Action   = ["cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"]
        Resource = ["*"]
      },
      {
        # A job placed in a VPC (VpcConfig) runs on network interfaces that SageMaker creates with this role
        # (the SageMaker developer guide, "Give SageMaker AI access to resources in your Amazon VPC"). Resource
        # "*" because the subnets and security groups are the job's, not known here; limited to this region.
        # The SDK v3 role check simulates these for every training role.
        Sid    = "VpcPlacedJobs"
        Effect = "Allow"
        Action = [
          "ec2:CreateNetworkInterface",
          "ec2:CreateNetworkInterfacePermission",
          "ec2:DeleteNetworkInterface",
          "ec2:DeleteNetworkInterfacePermission",
          "ec2:DescribeDhcpOptions",
          "ec2:DescribeNetworkInterfaces",
          "ec2:DescribeSecurityGroups",
          "ec2:DescribeSubnets",
          "ec2:DescribeVpcs",
        ]
        Resource  = ["*"]
        Condition = { StringEqualsIfExists = { "aws:RequestedRegion" = local.region } }
      },
      {
        # GetAuthorizationToken is account-wide by design: it has no resource to scope to.
        Sid      = "EcrLogin"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = ["*"]
      },
      {
        Sid      = "EcrPullAlgorithmImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = [for repo in var.ecr_repository_names : "arn:${local.partition}:ecr:${local.region}:${local.algorithm_image_account}:repository/${repo}"]
      },
    ],
    # Without stack_tag, the name decides: resources named "<prefix>-*". With it, the tag decides (below); a name
    # alone is never enough, since a neighbour stack's prefix can start with ours ("vgsales-ci-", "vgsales-").
    [for statement in [{
      Sid      = "PipelineResources"
      Effect   = "Allow"
      Action   = local.pipeline_actions
      Resource = local.pipeline_resource_arns
    }] : statement if !local.tagged],
    [
      {
        # List actions have no resource-level permissions in SageMaker.
        Sid    = "PipelineListing"
        Effect = "Allow"
        Action = [
          "sagemaker:ListEndpointConfigs",
          "sagemaker:ListEndpoints",
          "sagemaker:ListHyperParameterTuningJobs",
          "sagemaker:ListModels",
          "sagemaker:ListTrainingJobs",
          "sagemaker:ListTransformJobs",
        ]
        Resource = ["*"]
      },
      {
        # Code running as the role (a notebook) reads its own ARN and path, and SageMaker SDK v3's ModelTrainer
        # and ModelBuilder simulate the role's own policy before they submit anything; without these two the
        # SDK only warns that it cannot tell.
        Sid      = "OwnRoleCheck"
        Effect   = "Allow"
        Action   = ["iam:GetRole", "iam:SimulatePrincipalPolicy"]
        Resource = [local.role_arn]
      },
      {
        # Training jobs and models run as this role, so whoever creates them must be allowed to pass it.
        Sid       = "PassThisRoleToSageMaker"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [local.role_arn]
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      },
    ],
    # Tag-based access control (the SageMaker developer guide, "Authorization based on SageMaker AI tags"):
    # resources of any name, as long as they carry the stack's tag.
    [for statement in [
      {
        Sid       = "TaggedPipelineCreate"
        Effect    = "Allow"
        Action    = local.create_actions
        Resource  = local.tagged_resource_arns
        Condition = { StringEquals = { (local.request_tag) = local.tag_value } }
      },
      {
        # A create that carries tags also needs AddTags, with sagemaker:TaggingAction naming the create.
        Sid      = "TagOnCreate"
        Effect   = "Allow"
        Action   = ["sagemaker:AddTags"]
        Resource = local.tagged_resource_arns
        Condition = {
          StringEquals = {
            "sagemaker:TaggingAction" = [for action in local.create_actions : trimprefix(action, "sagemaker:")]
            (local.request_tag)       = local.tag_value
          }
        }
      },
      {
        # Everything but creating and tagging, on what carries the stack's tag.
        Sid       = "TaggedPipelineResources"
        Effect    = "Allow"
        Action    = local.use_actions
        Resource  = local.tagged_resource_arns
        Condition = { StringEquals = { (local.resource_tag) = local.tag_value } }
      },
      {
        # DescribeEndpoint also where the tag is absent, so that a describe of an endpoint that no longer exists
        # gets SageMaker's "Could not find" rather than AccessDenied: what waiters for a deletion (boto3's
        # endpoint_deleted, sagemaker-core's wait_for_delete) and clean-ups wait for. An untagged endpoint's
        # description (its config's name, variants, status) is readable; nothing else of it is.
        Sid       = "EndpointDeletionWaits"
        Effect    = "Allow"
        Action    = ["sagemaker:DescribeEndpoint"]
        Resource  = ["${local.sagemaker_arn_prefix}:endpoint/*"]
        Condition = { StringEqualsIfExists = { (local.resource_tag) = local.tag_value } }
      },
      {
        # Other tags may change; the stack's tag may not (in any case), so nothing leaves or joins the stack.
        Sid      = "TaggedPipelineTags"
        Effect   = "Allow"
        Action   = local.tagging_actions
        Resource = local.tagged_resource_arns
        Condition = {
          StringEquals                             = { (local.resource_tag) = local.tag_value }
          "ForAllValues:StringNotEqualsIgnoreCase" = { "aws:TagKeys" = [local.tag_key] }
        }
      },
    ] : statement if local.tagged],
    length(local.notebook_instance_arns) == 0 ? [] : [{
      Sid      = "OwnNotebookInstance"
      Effect   = "Allow"
      Action   = ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"]
      Resource = local.notebook_instance_arns
    }],
    var.kms_key_arn == null ? [] : [{
      Sid      = "BucketKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
    }],
  )

  policy = { Version = "2012-10-17", Statement = local.statements }
}

resource "aws_iam_role" "this" {
  name                 = var.name
  path                 = var.path
  description          = "SageMaker execution role, limited to the resources of one workshop stack."
  assume_role_policy   = jsonencode(local.trust_policy)
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "least-privilege"
  role   = aws_iam_role.this.id
  policy = jsonencode(local.policy)

  lifecycle {
    precondition {
      condition     = local.algorithm_image_account != ""
      error_message = "No registry account of SageMaker's algorithm images is known for region ${local.region}: add it to algorithm_image_accounts (the SageMaker SDK's image_uri_config/xgboost.json lists them)."
    }
  }
}

resource "aws_iam_role_policy_attachment" "extra" {
  for_each = toset(var.extra_managed_policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = each.value
}

# The notebook instance without direct internet access, in a private subnet. The instance reaches:
#  - S3 (the bundle that on-create copies, the pipeline's data) through a gateway endpoint;
#  - the SageMaker API (training, hosting, the idle auto-stop's StopNotebookInstance), SageMaker Runtime
#    (InvokeEndpoint) and CloudWatch Logs through interface endpoints.
# PyPI is out of reach: put the wheels that requirements.txt needs into the bundle's wheels/ folder.
provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

resource "aws_vpc" "this" {
  #checkov:skip=CKV2_AWS_11:Flow logs need a log group or bucket of their own; add them where policy requires.
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints answer on the services' own DNS names

  tags = { Name = var.name_prefix }
}

# Takes every rule away from the VPC's default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.vpc_cidr, 8, 1)
  availability_zone = coalesce(var.availability_zone, "${var.region}a")

  tags = { Name = "${var.name_prefix}-private" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name_prefix}-private" }
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_security_group" "notebook" {
  name        = "${var.name_prefix}-notebook"
  description = "SageMaker notebook instance: HTTPS to the VPC endpoints only"
  vpc_id      = aws_vpc.this.id

  egress {
    description = "HTTPS to the interface endpoints"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description     = "HTTPS to S3 through the gateway endpoint"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    prefix_list_ids = [aws_vpc_endpoint.s3.prefix_list_id]
  }
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-endpoints"
  description = "Interface endpoints: HTTPS from the notebook instance"
  vpc_id      = aws_vpc.this.id

  ingress {
    description     = "HTTPS from the notebook instance"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    security_groups = [aws_security_group.notebook.id]
  }
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${var.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private.id]
}

resource "aws_vpc_endpoint" "interface" {
  for_each = toset(["sagemaker.api", "sagemaker.runtime", "logs"])

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${var.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = [aws_subnet.private.id]
  security_group_ids  = [aws_security_group.endpoints.id]
  private_dns_enabled = true
}

module "data_bucket" {
  source = "../../modules/data-bucket"

  bucket_prefix = "${var.name_prefix}-"
}

module "execution_role" {
  source = "../../modules/execution-role"

  name                    = "${var.name_prefix}-sagemaker"
  bucket_arn              = module.data_bucket.bucket_arn
  resource_name_prefix    = var.name_prefix
  notebook_instance_names = ["${var.name_prefix}-notebook"]
}

module "notebook_instance" {
  source = "../../modules/notebook-instance"

  name                   = "${var.name_prefix}-notebook"
  region                 = var.region
  role_arn               = module.execution_role.role_arn
  direct_internet_access = "Disabled"
  subnet_id              = aws_subnet.private.id
  security_group_ids     = [aws_security_group.notebook.id]
  notebook_bundle_s3_uri = "s3://${module.data_bucket.bucket_name}/notebook-bundle/"

  stack_settings = {
    bucket_name = module.data_bucket.bucket_name
    region      = var.region
    role_arn    = module.execution_role.role_arn
    name_prefix = var.name_prefix
  }

  # The endpoints must exist before on-create runs, or it cannot reach S3 and the instance fails to start.
  depends_on = [aws_vpc_endpoint.s3, aws_vpc_endpoint.interface, aws_route_table_association.private]
}

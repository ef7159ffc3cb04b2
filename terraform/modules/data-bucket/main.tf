locals {
  bucket_arn = aws_s3_bucket.this.arn

  deny_insecure_transport_statement = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "s3:*"
    Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }

  policy_statements = var.deny_insecure_transport ? [local.deny_insecure_transport_statement] : []
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket; the workshop bucket holds only reproducible training data.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles cost for data that the pipeline can rebuild from its source.
  #checkov:skip=CKV_AWS_145:SSE-S3 is the default on purpose (no key cost or key policy); pass kms_key_arn for SSE-KMS.
  #checkov:skip=CKV2_AWS_62:Nothing consumes bucket event notifications in this stack.
  bucket_prefix = var.bucket_prefix
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = var.versioning_enabled ? "Enabled" : "Suspended"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  # Optional only because provider 5.x always waits at least 55 s after creating a rule (a 10 s delay, then
  # 10 identical reads 5 s apart, on AWS too); the local target turns it off to keep `invoke setup` fast.
  # Keep it on for real buckets.
  count = var.lifecycle_rules_enabled ? 1 : 0

  bucket = aws_s3_bucket.this.id

  rule {
    id     = "housekeeping"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }

    dynamic "noncurrent_version_expiration" {
      for_each = var.versioning_enabled && var.noncurrent_version_expiration_days != null ? [var.noncurrent_version_expiration_days] : []

      content {
        noncurrent_days = noncurrent_version_expiration.value
      }
    }
  }

  # The noncurrent-version expiry means something only once versioning is configured (the provider docs ask
  # for this order).
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_policy" "this" {
  count = length(local.policy_statements) > 0 ? 1 : 0

  bucket = aws_s3_bucket.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.policy_statements })

  # S3 refuses a bucket policy while the public access block is being written.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Plans and applies against a mock provider: no AWS account and no network needed.
mock_provider "aws" {
  mock_resource "aws_s3_bucket" {
    defaults = {
      id     = "vgsales-20261101000000000000000001"
      arn    = "arn:aws:s3:::vgsales-20261101000000000000000001"
      bucket = "vgsales-20261101000000000000000001"
    }
  }
}

variables {
  bucket_prefix = "vgsales-"
}

run "defaults_lock_the_bucket_down" {
  command = apply

  assert {
    condition     = aws_s3_bucket.this.bucket_prefix == "vgsales-" && aws_s3_bucket.this.force_destroy
    error_message = "The bucket must be named from the prefix and be destroyable with its contents."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"
    error_message = "Default encryption must be SSE-S3 when no KMS key is given."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Enabled"
    error_message = "Versioning must be on by default."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.this.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs must be disabled (BucketOwnerEnforced)."
  }

  assert {
    condition = anytrue([
      for rule in aws_s3_bucket_lifecycle_configuration.this[0].rule :
      rule.status == "Enabled" && try(one(rule.abort_incomplete_multipart_upload).days_after_initiation, 0) == 7
    ])
    error_message = "A lifecycle rule must abort incomplete multipart uploads after 7 days."
  }

  assert {
    condition = anytrue([
      for rule in aws_s3_bucket_lifecycle_configuration.this[0].rule :
      try(one(rule.noncurrent_version_expiration).noncurrent_days, 0) == 30
    ])
    error_message = "Previous versions must expire after 30 days by default."
  }

  assert {
    condition = anytrue([
      for statement in jsondecode(aws_s3_bucket_policy.this[0].policy).Statement :
      statement.Effect == "Deny" && statement.Principal == "*" && statement.Action == "s3:*"
      && statement.Condition.Bool["aws:SecureTransport"] == "false"
      && toset(statement.Resource) == toset([
        "arn:aws:s3:::vgsales-20261101000000000000000001",
        "arn:aws:s3:::vgsales-20261101000000000000000001/*",
      ])
    ])
    error_message = "The bucket policy must deny every request to the bucket and its objects that is not made over TLS."
  }

  assert {
    condition     = output.bucket_name == "vgsales-20261101000000000000000001" && output.bucket_arn == "arn:aws:s3:::vgsales-20261101000000000000000001"
    error_message = "The outputs must name the bucket."
  }
}

run "kms_key_switches_to_sse_kms" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }

  assert {
    condition = (
      one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
      && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
      && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    )
    error_message = "A KMS key must switch default encryption to SSE-KMS with a bucket key."
  }
}

run "versioning_can_be_turned_off" {
  command = plan

  variables {
    versioning_enabled = false
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.this.versioning_configuration).status == "Suspended"
    error_message = "versioning_enabled = false must suspend versioning."
  }

  assert {
    condition     = length(one(aws_s3_bucket_lifecycle_configuration.this[0].rule).noncurrent_version_expiration) == 0
    error_message = "Without versioning there are no previous versions to expire."
  }
}

run "tls_policy_can_be_left_out_for_emulators" {
  command = plan

  variables {
    deny_insecure_transport = false
  }

  assert {
    condition     = length(aws_s3_bucket_policy.this) == 0
    error_message = "deny_insecure_transport = false must attach no bucket policy."
  }
}

run "rejects_an_uppercase_prefix" {
  command = plan

  variables {
    bucket_prefix = "VGSales-"
  }

  expect_failures = [var.bucket_prefix]
}

run "rejects_a_prefix_too_long_for_the_unique_suffix" {
  command = plan

  variables {
    bucket_prefix = "a-prefix-that-is-far-too-long-for-s3-x"
  }

  expect_failures = [var.bucket_prefix]
}

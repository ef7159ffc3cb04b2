"""Jobs and endpoints act as their execution role: what SageMaker does in S3 and CloudWatch Logs on a user's behalf
is authorised as the role's, with the same evaluation as a request the role signs.

A training job (each training job of a tuning job too) acts as its RoleArn; a transform job and an endpoint act
as the ExecutionRoleArn of their model. Each action is decided as access.py decides a request signed by a session
of the role: the role's inline and attached policies (compat/policy.py) must allow it, and an explicit Deny there
or in the bucket's policy (compat/s3_policy.py) refuses it. SageMaker reaches S3 over TLS, so aws:SecureTransport
is true (the stack's bucket policy denies requests without it).

The actions and resources are those of the Service Authorization Reference, as access.py authorises clients':
s3:ListBucket on the bucket (with s3:prefix), s3:GetObject and s3:PutObject on the object; logs:CreateLogGroup
(when the group does not exist yet) and logs:CreateLogStream on the log group, logs:PutLogEvents on the stream.

The role is looked up at every action, not once per job: a role deleted while a job runs fails the job at its
next action, as the role's credentials stop working on AWS. An ARN that names no role (a deleted one, or a user,
such as the emulator's administrative identity, which a job never acts as) fails the job with RoleUnavailable.
While IAM is not enforced (moto used without the emulator's server, access.enforced()), nothing is checked, as
for clients.

Nothing here looks a backend up: the checks run in job threads, and moto's BackendDict lookups take its global
lock (see backends.ServiceAccess), so ActingRole reads the IAM backend it was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from moto.iam.models import IAMBackend, Role
from moto.s3.models import FakeBucket

from . import access
from .compat import policy, s3_policy
from .shapes import Json

ASSUMING_SERVICE = "sagemaker.amazonaws.com"


# SageMaker's FailureReasons when the job's role may not read or write S3 (training.py). S3's refusal is quoted
# as "(AccessDenied: Access Denied)", as in "ClientError: Data download failed:Unable to download object s3://...
# (AccessDenied: Access Denied)" (aws/amazon-sagemaker-examples#4384); an upload fails as "ClientError: Artifact
# upload failed:..." (aws/amazon-sagemaker-operator-for-k8s#22, aws/amazon-sagemaker-examples#3650), the rest of
# which is the emulator's, after the download's.
S3_ACCESS_DENIED = "(AccessDenied: Access Denied)"

class AccessDenied(PermissionError):
    """The acting role may not take an action; ``target`` is what the job named (an s3:// URI)."""

    def __init__(self, action: str, target: str, role_arn: str) -> None:
        super().__init__(f"{role_arn} is not allowed {action} on {target}")
        self.action = action
        self.target = target
        self.role_arn = role_arn


class RoleUnavailable(Exception):
    """No role has the job's role ARN: SageMaker cannot act as it. The text is SageMaker's.

    A training job whose role SageMaker cannot assume fails with "ClientError: SageMaker was unable to assume the
    role '<arn>'" (aws/sagemaker-python-sdk issues #35 and #43); CreateTransformJob refuses a missing role with
    "Could not assume role <arn>. Please ensure that the role exists and allows principal
    'sagemaker.amazonaws.com' to assume the role." (awslabs/predictive-maintenance-using-machine-learning#3).
    The first sentence of one and the advice of the other.
    """

    def __init__(self, role_arn: str) -> None:
        super().__init__(
            f"SageMaker was unable to assume the role '{role_arn}'. Please ensure that the role exists and allows "
            f"principal '{ASSUMING_SERVICE}' to assume the role."
        )
        self.role_arn = role_arn


class ActingRole:
    """The identity a job or an endpoint acts as: one role of one account's IAM."""

    def __init__(self, iam: IAMBackend, role_arn: str | None, region: str) -> None:
        self._iam = iam
        self.arn = role_arn or ""
        self._region = region

    def authorise(
        self,
        action: str,
        target: str,
        resource: str,
        bucket: FakeBucket | None = None,
        context: Mapping[str, str] | None = None,
    ) -> None:
        """Raise AccessDenied unless the role may take the action (RoleUnavailable if there is no such role)."""
        if not self.allows(action, resource, bucket, context):
            raise AccessDenied(action, target, self.arn)

    def allows(
        self,
        action: str,
        resource: str,
        bucket: FakeBucket | None = None,
        context: Mapping[str, str] | None = None,
    ) -> bool:
        if not access.enforced():
            return True
        role = self._role()
        conditions = {
            "aws:securetransport": "true",
            "aws:requestedregion": self._region,
            "aws:principalarn": role.arn,
            "aws:principalaccount": self._iam.account_id,
            **(context or {}),
        }
        documents = [access.policy_document(found) for found in _policies(role)]
        if policy.evaluate(documents, action, resource, conditions).decision is not policy.Decision.ALLOWED:
            return False
        if bucket is None:
            return True
        return s3_policy.bucket_policy_decision(bucket, action, resource, conditions) is not policy.Decision.EXPLICIT_DENY

    def _role(self) -> Role:
        # A copy of the values, taken at once: a request thread may create or delete roles meanwhile.
        for role in list(self._iam.roles.values()):
            if role.arn == self.arn:
                return role
        raise RoleUnavailable(self.arn)


def _policies(role: Role) -> Iterable[Json]:
    """The role's inline policies, then its attached ones, as moto collects them for a session of the role
    (moto/iam/access_control.py, AssumedRoleAccessKey.collect_policies), which access.py evaluates."""
    return [*list(role.policies.values()), *list(role.managed_policies.values())]

"""Where the emulator meets moto: one seam per service, installed in one place, in the order install() states.

moto serves a service with a backend class, held by the service's BackendDict (which builds one per account and
region), and a response class, whose dispatch its urls module routes requests to (moto/core/base_backend.py,
BaseBackend.urls; moto/moto_server/werkzeug_app.py, create_backend_app). The emulator's services are subclasses
of both, registered there:

- SageMaker: sagemaker.SageMakerBackend (jobs, endpoints, notebook instances) and sagemaker.SageMakerService
- SageMaker Runtime: hosting.RuntimeService (InvokeEndpoint)
- S3: compat/s3.S3Backend (bucket policies evaluated with AWS's rules, delete markers) and s3_policy.S3Service
- IAM: IamService (SimulatePrincipalPolicy; the resource it authorises on)
- CloudWatch Logs: LogsService (the resource each action authorises on)

moto's access control is shared by every service (a mixin of every response class, and a module function), so
access.py replaces those three attributes in place (compat/_patching.py), after the services. Each moto gap
the emulator works around has a canary test in tests/emulator.

A piece that fails to install stops the emulator with a message that names it: plain moto never answers in
the emulator's place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import moto
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import ActionResult, BaseResponse
from moto.iam import urls as iam_urls
from moto.iam.responses import IamResponse
from moto.logs import urls as logs_urls
from moto.logs.responses import LogsResponse
from moto.s3 import urls as s3_urls
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.sts import urls as sts_urls
from moto.sts.responses import TokenResponse
from moto.sagemaker import urls as sagemaker_urls
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime import urls as runtime_urls
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from ..errors import WorkshopError
from . import access
from .compat import iam
from .compat.s3 import S3Backend
from .compat.s3_policy import S3Service
from .hosting import RuntimeService
from .shapes import Json
from .sagemaker import SageMakerBackend, SageMakerService

log = logging.getLogger(__name__)


class IamService(IamResponse):
    """IAM: SimulatePrincipalPolicy, which moto lacks (compat/iam.py), authorised on the principal it simulates."""

    def simulate_principal_policy(self) -> ActionResult:
        return iam.simulate_principal_policy(self)

    def _determine_resource(self) -> str:
        # Authorised on the RoleName its handler acts on (_get_param): moto's reads the first RoleName of the query
        # string and form body, its handlers the parsed parameter, so a GetRole (or PutRolePolicy) signed for the
        # caller's own role with a second RoleName acted on the second, unchecked.
        simulated = access.iam_resource(self)
        if simulated:
            return simulated
        role_name = self._get_param("RoleName")
        return self._resolve_resource_arn(str(role_name)) if role_name else "*"


class StsService(TokenResponse):
    """STS, authorised on the role that AssumeRole hands out: moto's check reads the first RoleArn of the query
    string, its handler the parsed parameter, so a second RoleArn was assumed without its check."""

    def _determine_resource(self) -> str:
        role_arn = self._get_param("RoleArn") if self._get_action() == "AssumeRole" else None
        return str(role_arn) if role_arn else "*"


class LogsService(LogsResponse):
    """CloudWatch Logs, authorised on the log group or stream each action acts on (moto: on "*"), with the
    parameters its handlers act on: both read them from access.logs_parameters, the JSON body only."""

    def _determine_resource(self) -> str:
        return access.logs_resource(self)

    def _get_param(self, param_name: str, if_none: Json = None) -> Json:
        # moto's BaseResponse._get_param reads the URL's query string first, then the body decoded as a form
        # (which a JSON string value holding "&logGroupName=..." feeds), then the JSON body.
        return access.logs_parameters(self).get(param_name, if_none)

    def _get_action(self) -> str:
        # moto's reads ?Action= in the URL before X-Amz-Target; the JSON protocol names it only in the header.
        return access.json_protocol_action(self)


class InstallError(WorkshopError):
    """A piece of the emulator could not be installed into moto."""


@dataclass(frozen=True)
class Seam:
    """One service: the response class its routes dispatch to and, for a service with state, its backend class."""

    service: str
    routes: ModuleType  # moto's urls module of the service
    moto_response: type[BaseResponse]
    response: type[BaseResponse]
    backends: BackendDict[BaseBackend] | None = None
    backend: type[BaseBackend] | None = None

    def install(self) -> None:
        if self.backends is not None and self.backend is not None:
            self._register_backend(self.backends, self.backend)
        replaced = 0
        for path, handler in self.routes.url_paths.items():
            if getattr(handler, "__self__", None) in (self.moto_response, self.response):
                # The same dispatcher (dispatch, or S3's bucket_dispatch, key_dispatch...) of the emulator's class.
                self.routes.url_paths[path] = getattr(self.response, handler.__name__)
                replaced += 1
        if not replaced:
            raise InstallError(f"moto {moto.__version__} routes no {self.service} request to "
                               f"{self.moto_response.__name__}; the emulator cannot serve {self.service}.")

    @staticmethod
    def _register_backend(backends: BackendDict[BaseBackend], backend: type[BaseBackend]) -> None:
        """The BackendDict builds its backends from this class from now on (and after every moto reset)."""
        for account_id, region, existing in backends.iter_backends():
            if not isinstance(existing, backend):
                raise InstallError(f"moto's own {backends.service_name} backend already exists for account "
                                   f"{account_id} in {region}; the emulator must be installed before anything uses "
                                   "moto in this process.")
        backends.backend = backend
        for account in backends.values():
            account.backend = backend


# Order: the services (each independent of the others), then what they share. Access control comes last: its
# resource ARNs are the services' (each response class's _determine_resource).
SEAMS = (
    Seam("sagemaker", sagemaker_urls, SageMakerResponse, SageMakerService, sagemaker_backends, SageMakerBackend),
    Seam("sagemaker-runtime", runtime_urls, SageMakerRuntimeResponse, RuntimeService),
    Seam("s3", s3_urls, S3Response, S3Service, s3_backends, S3Backend),
    Seam("iam", iam_urls, IamResponse, IamService),
    Seam("sts", sts_urls, TokenResponse, StsService),
    Seam("logs", logs_urls, LogsResponse, LogsService),
)
SHARED: tuple[tuple[str, Callable[[], None]], ...] = (("access control (access.py)", access.install),)

def install() -> None:
    """Install every piece, in the order above. Idempotent: a second call changes nothing."""
    pieces: list[tuple[str, Callable[[], None]]] = [(f"the {seam.service} service", seam.install) for seam in SEAMS]
    for name, piece in pieces + list(SHARED):
        try:
            piece()
        except InstallError:
            raise
        except Exception as exc:
            raise InstallError(f"The local emulator could not install {name} into moto {moto.__version__}: "
                               f"{type(exc).__name__}: {exc}") from exc

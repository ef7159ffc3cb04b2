"""Requests and responses of the model server, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_worker.py
defines them: Response defaults to application/json; Request's content_type defaults to application/json, its accept
to SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (for none or */*), and its content is text for JSON and CSV, bytes otherwise.

Local difference: the real classes are Flask's (Flask 1.1.1 with Werkzeug 0.15.6 in the image); these are Werkzeug's
own, which Flask's are made of, and a Request is made from a WSGI environ (vgsales_script_serve builds one per
request) rather than from Flask's request context. The Worker Flask app is not here: vgsales_script_serve answers
the requests.
"""

from __future__ import annotations

import warnings
from http import client as http_client

from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response as _WerkzeugResponse

from sagemaker_containers import _content_types, _env, _mapping

env = _env.ServingEnv()


def default_healthcheck_fn():  # type: () -> Response
    """Ping is default health-check handler. Returns 200 with no content."""
    return Response(status=http_client.OK)


class Response(_WerkzeugResponse):
    """A response; its mimetype defaults to application/json (a text/* one gets '; charset=utf-8')."""

    default_mimetype = _content_types.JSON

    def __init__(self, response=None, accept=None, status=http_client.OK, headers=None, mimetype=None,
                 direct_passthrough=False):  # fmt: skip
        if accept:
            warnings.warn('ignoring deprecated "accept" argument to Response.__init__', DeprecationWarning)
        super().__init__(response, status, headers, mimetype, None, direct_passthrough)


class Request(_WerkzeugRequest, _mapping.MappingMixin):
    """The request object used to read request data: content_type, accept and content."""

    default_mimetype = _content_types.JSON

    def __init__(self, environ=None, serving_env=None):  # type: (dict, _env.ServingEnv) -> None
        if environ is None:
            raise RuntimeError("a Request is made from the WSGI environ of one request (there is no Flask context here)")
        super().__init__(environ)

        serving_env = serving_env or env

        self._default_accept = serving_env.default_accept

    @property
    def content_type(self):  # type: () -> str
        """The header 'ContentType' or 'Content-Type'; 'application/json' without either."""
        return self.headers.get("ContentType") or self.headers.get("Content-Type") or _content_types.JSON

    @property
    def accept(self):  # type: () -> str
        """The header 'Accept', or SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT when it is missing or */*."""
        accept = self.headers.get("Accept")

        if not accept or accept == _content_types.ANY:
            return self._default_accept
        else:
            return accept

    @property
    def content(self):  # type: () -> object
        """The request's data: text (UTF-8) for application/json and text/csv exactly, bytes for anything else."""
        as_text = self.content_type in _content_types.UTF8_TYPES

        return self.get_data(as_text=as_text)

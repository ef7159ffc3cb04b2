"""The model server of an inference script, run by the emulator as `<python> -m vgsales_script_serve` with the image's
environment (vgsales_script_image), SAGEMAKER_BASE_DIR, SAGEMAKER_PROGRAM, SAGEMAKER_SUBMIT_DIRECTORY and SM_MODEL_DIR.

What it serves is what a worker of the XGBoost image serves (aws/sagemaker-xgboost-container v3.0-5 serving.py main()
with sagemaker-containers v2.8.6.post2): the user's module imported from /opt/ml/code (filled from
SAGEMAKER_SUBMIT_DIRECTORY when empty; an import error is ImportModuleError, as _server.start's), wrapped by
serving._user_module_transformer, model_fn called once with the model directory; then each request goes through
Transformer.transform and Flask's handling of what it returns (Flask 1.1.1 make_response, handle_exception):
- a Response as it is; a str or bytes as a text/html body (Flask's default); a dict as JSON;
- an exception (any error of the user's functions, XGBoost's default functions included: they reach here as
  ClientError), None or another type: logged as "Exception on /invocations [POST]" with its traceback, and
  answered 500 with Werkzeug 0.15.6's InternalServerError page (text/html), as the image's Flask answers it.

It speaks with the emulator over two inherited file descriptors, VGSALES_SERVE_FDS="<in_fd>,<out_fd>" (stdout and
stderr stay the user's, for the endpoint's log). A message is one line of JSON (UTF-8, ending in \\n) followed by
exactly `length` bytes:
- first, once the module is imported and model_fn returned: {"ready": true, "length": 0}; or, when that failed,
  {"ready": false, "error": "<one paragraph: what failed, the exception's type and message>", "length": 0} and
  exit status 1;
- then, for each request {"content_type": <str|null>, "accept": <str|null>, "length": n} + body, the answer
  {"status": <int>, "content_type": <str>, "length": m} + body. A null content_type is no Content-Type header
  (application/json to the Transformer); a null accept, as */*, is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT;
- end of input: exit status 0.
One request at a time, in this one process (the image runs a gunicorn worker per CPU, each with its own model_fn).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys

import vgsales_script_image

MODULE = "vgsales_script_serve"
FDS_ENV = "VGSALES_SERVE_FDS"
# Werkzeug 0.15.6 exceptions.InternalServerError.get_body() and get_headers(), which Flask 1.1.1 answers with.
INTERNAL_SERVER_ERROR = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
    "<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request. Either the server is "
    "overloaded or there is an error in the application.</p>\n"
)
INTERNAL_SERVER_ERROR_TYPE = "text/html"


class NotReady(Exception):
    """The model server cannot serve; the message is the paragraph the emulator reports."""


def main() -> int:
    vgsales_script_image.exec_with_image_env(MODULE, serving=True)
    try:
        in_fd, out_fd = (int(part) for part in os.environ[FDS_ENV].split(","))
    except (KeyError, ValueError):
        print(f"{MODULE}: {FDS_ENV} must name the input and output file descriptors, as '<in_fd>,<out_fd>'",
              file=sys.stderr)  # fmt: skip
        return 2
    with os.fdopen(in_fd, "rb") as requests, os.fdopen(out_fd, "wb") as answers:
        try:
            server = ModelServer.load()
        except NotReady as error:
            send(answers, {"ready": False, "error": str(error)})
            return 1
        send(answers, {"ready": True})
        return server.serve(requests, answers)


def send(answers, header: dict, body: bytes = b"") -> None:
    answers.write(json.dumps({**header, "length": len(body)}).encode("utf-8") + b"\n" + body)
    answers.flush()


def describe(error: BaseException) -> str:
    """'ClientError: FileNotFoundError: [Errno 2] ...' on one line: the type, the wrapped error's, the message."""
    inner = error.args[0] if error.args and isinstance(error.args[0], BaseException) else None
    text = f"{type(error).__name__}: " + (f"{type(inner).__name__}: {inner}" if inner is not None else f"{error}")
    return " ".join(text.split())


class ModelServer:
    def __init__(self, transformer, serving_env, module_name: str) -> None:
        self.transformer = transformer
        self.serving_env = serving_env
        self.log = logging.getLogger(module_name)  # Flask 1.1's app.logger: the app's name, the module's

    @classmethod
    def load(cls) -> ModelServer:
        """Import the user's module, build its Transformer and call model_fn; NotReady says what failed."""
        from sagemaker_containers import _env, _errors, _files

        serving_env = _env.ServingEnv()
        program = serving_env.user_entry_point
        if serving_env.module_name is None:
            raise NotReady(
                "SAGEMAKER_PROGRAM is not set: without an inference script the XGBoost container serves its built-in "
                "algorithm (algorithm mode), which this model server does not."
            )
        try:
            from sagemaker_xgboost_container import serving

            _files.download_and_extract(serving_env.module_dir, _env.code_dir)
            if _env.code_dir not in sys.path:  # where the container's pip install puts the module
                sys.path.insert(0, _env.code_dir)
            try:
                user_module = importlib.import_module(serving_env.module_name)
            except Exception as error:  # _modules.import_module's error in the container's _server.start
                raise _errors.ImportModuleError(error) from error
        except Exception as error:
            logging.getLogger(MODULE).error("Importing %s failed", serving_env.module_name, exc_info=True)
            raise NotReady(
                f"The model server could not import the inference script {program} (module {serving_env.module_name} "
                f"in {_env.code_dir}): {describe(error)}."
            ) from None
        try:
            transformer = serving._user_module_transformer(user_module)
        except Exception as error:
            raise NotReady(f"The model server could not use the inference script {program}: {describe(error)}.") from None
        model_dir = os.environ.get("SM_MODEL_DIR") or _env.model_dir
        try:
            transformer.initialize(model_dir)
        except Exception as error:
            logging.getLogger(MODULE).error("model_fn failed", exc_info=True)
            has_own = hasattr(user_module, "model_fn")
            what = f"model_fn({model_dir}) of {program}" if has_own else (
                f"{program} has no model_fn, and the XGBoost container provides none")
            raise NotReady(f"The model server could not load the model: {what}: {describe(error)}.") from None
        return cls(transformer, serving_env, serving_env.module_name)

    def serve(self, requests, answers) -> int:
        while True:
            line = requests.readline()
            if not line:
                return 0
            try:
                header = json.loads(line)
                length = int(header["length"])
            except (ValueError, KeyError, TypeError):
                print(f"{MODULE}: not a request header: {line[:200]!r}", file=sys.stderr)
                return 1
            body = requests.read(length) if length else b""
            if len(body) < length:
                print(f"{MODULE}: the input ended within a request's body", file=sys.stderr)
                return 1
            status, content_type, payload = self.answer(body, header.get("content_type"), header.get("accept"))
            try:
                send(answers, {"status": status, "content_type": content_type}, payload)
            except BrokenPipeError:
                return 0

    def answer(self, body: bytes, content_type: str | None, accept: str | None) -> tuple[int, str, bytes]:
        """What the image's worker answers to POST /invocations with this body and these headers."""
        from sagemaker_containers import _worker
        from werkzeug.test import EnvironBuilder

        headers = {name: value for name, value in (("Content-Type", content_type), ("Accept", accept)) if value is not None}
        environ = EnvironBuilder(path="/invocations", method="POST", data=body, headers=headers).get_environ()
        try:
            response = flask_response(self.transformer.transform(_worker.Request(environ, self.serving_env)), environ)
            return response.status_code, response.headers.get("Content-Type", ""), response.get_data()
        except (Exception, SystemExit):
            self.log.error("Exception on /invocations [POST]", exc_info=True)
            return 500, INTERNAL_SERVER_ERROR_TYPE, INTERNAL_SERVER_ERROR.encode("utf-8")


def flask_response(rv, environ):
    """Flask 1.1.1 Flask.make_response for what Transformer.transform returned (never a tuple: it converts those)."""
    from werkzeug.wrappers import Response

    if rv is None:
        raise TypeError(
            "The view function did not return a valid response. The function either returned None or ended without a "
            "return statement."
        )
    if isinstance(rv, Response):
        return rv
    if isinstance(rv, (str, bytes, bytearray)):
        return Response(rv, mimetype="text/html")  # Flask's Response: text/html; charset=utf-8
    if isinstance(rv, dict):  # jsonify, as Flask 1.1 configures it by default
        return Response(json.dumps(rv, separators=(",", ":"), sort_keys=True) + "\n", mimetype="application/json")
    if callable(rv):
        return Response.force_type(rv, environ)
    raise TypeError(
        "The view function did not return a valid response. The return type must be a string, dict, tuple, Response "
        f"instance, or WSGI callable, but it was a {rv.__class__.__name__}."
    )


if __name__ == "__main__":
    sys.exit(main())

"""The console's pages (Flask, Jinja2 templates in templates/, CSS and the live-update script in static/).

Every request needs the console's token: the URL `invoke console` prints carries it once (``?token=``), which
sets a cookie (HttpOnly, SameSite=Strict, named after the port, since cookies do not tell ports apart) and redirects
to the same page without it, as Jupyter's token login does; anything else is refused with 403. Nothing here writes
a secret into a page or a log: the presigned URL of Open JupyterLab goes to the browser as a redirect only.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, abort, g, jsonify, redirect, render_template, request, send_file

from ..context import Context
from ..errors import WorkshopError
from ..infra import notebook_access
from . import charts, reads, text

ENDED = frozenset({"Completed", "Failed", "Stopped"})
CONTENT_TYPES = ("text/x-libsvm", "text/csv")
LANGUAGE_COOKIE = "vgsales_console_lang"
# Nothing but the console's own files, no inline script or style, and no page of another origin may frame it.
CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'"
# Each list page: its heading (text.TEXT), the status field of its rows (None: the kind has none), its detail page.
LISTS = {
    "training-jobs": ("training_jobs", "TrainingJobStatus", "training_job"),
    "tuning-jobs": ("tuning_jobs", "HyperParameterTuningJobStatus", "tuning_job"),
    "transform-jobs": ("transform_jobs", "TransformJobStatus", "transform_job"),
    "models": ("models", None, "model"),
    "endpoint-configs": ("endpoint_configs", None, "endpoint_config"),
    "endpoints": ("endpoints", "EndpointStatus", "endpoint"),
}


def create_app(ctx: Context, token: str, port: int) -> Flask:
    app = Flask(__name__)
    session_cookie = f"vgsales_console_{port}"
    session_value = hmac.new(token.encode(), b"vgsales console session", hashlib.sha256).hexdigest()

    origin = f"http://127.0.0.1:{port}"

    @app.before_request
    def authorise() -> Response | None:
        given = request.args.get("token")
        if given is not None:
            if not hmac.compare_digest(given.encode(), token.encode()):
                return _forbidden()
            kept = {key: value for key, value in request.args.items() if key != "token"}
            # A path, never "//host": the redirect stays on the console.
            answer = redirect("/" + quote(request.path.lstrip("/\\")) + (f"?{urlencode(kept)}" if kept else ""))
            answer.set_cookie(session_cookie, session_value, httponly=True, samesite="Strict", path="/")
            return answer
        if not hmac.compare_digest(request.cookies.get(session_cookie, "").encode(), session_value.encode()):
            return _forbidden()
        # SameSite does not tell ports apart: another server on 127.0.0.1 (a JupyterLab among them) is the same
        # site, and its pages could post to the console with the cookie. A post must come from the console's pages.
        if request.method == "POST" and not _from_the_console(origin):
            return _forbidden()
        wanted = request.args.get("lang")
        g.lang = text.choose(wanted if wanted in text.TEXT else request.cookies.get(LANGUAGE_COOKIE),
                             request.headers.get("Accept-Language", ""))  # fmt: skip
        return None

    @app.after_request
    def headers_and_language(answer: Response) -> Response:
        wanted = request.args.get("lang")
        if wanted in text.TEXT:
            answer.set_cookie(LANGUAGE_COOKIE, wanted, samesite="Strict", path="/")
        answer.headers["Cache-Control"] = "no-store"
        answer.headers["X-Content-Type-Options"] = "nosniff"
        answer.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return answer

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        lang = getattr(g, "lang", text.DEFAULT)
        words = text.TEXT[lang]
        return {
            "t": lambda key: words[key], "lang": lang, "languages": text.LANGUAGES, "ctx": ctx,
            "aws_console": (lambda kind, name: _aws_console(ctx.region, kind, name)) if ctx.target.costs_money else None,
            "when": _when, "took": _took,
            "in_language": lambda code: "?" + urlencode({**request.args, "lang": code}),
            "size": _size,
        }  # fmt: skip

    @app.errorhandler(reads.NotFound)
    def not_found(error: reads.NotFound) -> tuple[str, int]:
        return render_template("message.html", heading="not_found", detail=str(error)), 404

    @app.errorhandler(WorkshopError)
    @app.errorhandler(ClientError)
    @app.errorhandler(BotoCoreError)
    def unreadable(error: Exception) -> tuple[str, int]:
        return render_template("message.html", heading="error", detail=str(error)), 502

    # --- the stack ------------------------------------------------------------------------------------------
    @app.get("/")
    def stack() -> str:
        return render_template("stack.html", view=reads.stack_view(ctx))

    @app.post("/notebook")
    def open_notebook() -> Response:
        """Open JupyterLab: a presigned URL, handed to the browser as a redirect and shown nowhere."""
        return redirect(notebook_access.presigned_url(ctx), code=303)

    # --- lists ------------------------------------------------------------------------------------------------
    for kind, (heading, status_field, detail) in LISTS.items():
        app.add_url_rule(f"/{kind}", f"list_{kind}", _lister(ctx, kind, heading, status_field, detail))

    # --- one resource -------------------------------------------------------------------------------------------
    @app.get("/training-jobs/<name>")
    def training_job(name: str) -> str:
        return render_template("training_job.html", job=reads.training_job(ctx, name), **_training_parts(ctx, name))

    @app.get("/training-jobs/<name>/live")
    def training_job_live(name: str) -> Response:
        job = reads.training_job(ctx, name)
        parts = _training_parts(ctx, name)
        # The whole log each time, not what came since: several hosts' streams are merged by time, and an event
        # that reaches CloudWatch late lands between lines already shown.
        return jsonify({
            "parts": {
                "status": render_template("fragments/training_status.html", job=job),
                "chart": str(parts["chart"]),
            },
            "log": parts["log"].lines,
            "done": job["TrainingJobStatus"] in ENDED,
        })  # fmt: skip

    @app.get("/tuning-jobs/<name>")
    def tuning_job(name: str) -> str:
        return render_template("tuning_job.html", **_tuning_parts(ctx, name))

    @app.get("/tuning-jobs/<name>/live")
    def tuning_job_live(name: str) -> Response:
        parts = _tuning_parts(ctx, name)
        status = parts["tuning"].described["HyperParameterTuningJobStatus"]
        return jsonify({
            "parts": {"progress": render_template("fragments/tuning_progress.html", **parts)},
            "done": status in ENDED,
        })  # fmt: skip

    @app.get("/transform-jobs/<name>")
    def transform_job(name: str) -> str:
        return render_template("transform_job.html", job=reads.transform_job(ctx, name),
                               log=reads.transform_log(ctx, name))  # fmt: skip

    @app.get("/models/<name>")
    def model(name: str) -> str:
        return render_template("model.html", model=reads.model(ctx, name))

    @app.get("/endpoint-configs/<name>")
    def endpoint_config(name: str) -> str:
        return render_template("endpoint_config.html", config=reads.endpoint_config(ctx, name))

    @app.route("/endpoints/<name>", methods=["GET", "POST"])
    def endpoint(name: str) -> str:
        described = reads.endpoint(ctx, name)
        answer = None
        content_type = request.form.get("content_type", CONTENT_TYPES[0])
        samples = reads.sample_rows(ctx)
        row = samples.get(content_type, "")
        if request.method == "POST":
            if content_type not in CONTENT_TYPES:
                abort(400)
            row = request.form.get("row", "").strip()
            answer = reads.invoke(ctx, name, content_type, row)
        series = reads.endpoint_metrics(ctx, described)
        words = text.TEXT[g.lang]
        metric_charts = {
            metric: charts.line_chart({metric: [(point.timestamp() / 60, value) for point, value in points]},
                                      x_label=words["minute"], empty=words["no_invocations"], x_format=_minute)
            for metric, points in series.items()
        }  # fmt: skip
        return render_template("endpoint.html", endpoint=described, charts=metric_charts, answer=answer, row=row,
                               content_type=content_type, content_types=CONTENT_TYPES, samples=samples)  # fmt: skip

    # --- S3 ---------------------------------------------------------------------------------------------------
    @app.get("/s3")
    def s3() -> str:
        prefix = request.args.get("prefix", "")
        return render_template("s3.html", folder=reads.folder(ctx, prefix, request.args.get("next")))

    @app.get("/s3/object")
    def s3_object() -> Response:
        key = request.args.get("key", "")
        found = reads.download(ctx, key)
        name = key.rsplit("/", 1)[-1] or "object"
        return send_file(found["Body"], mimetype=found.get("ContentType") or "application/octet-stream",
                         as_attachment=True, download_name=name)  # fmt: skip

    # --- the evaluation and the clean-up ----------------------------------------------------------------------
    @app.get("/evaluation")
    def evaluation() -> str:
        return render_template("evaluation.html", evaluation=reads.evaluation(ctx))

    @app.get("/evaluation/<image>.png")
    def evaluation_image(image: str) -> Response:
        found = reads.evaluation(ctx)
        if found is None or image not in found.images:
            abort(404)
        return send_file(found.images[image], mimetype=mimetypes.types_map[".png"])

    @app.get("/cleanup")
    def cleanup() -> str:
        return render_template("cleanup.html", plan=reads.cleanup(ctx))

    return app


def _lister(ctx: Context, kind: str, heading: str, status_field: str | None, detail: str):
    def page() -> str:
        found = reads.listing(ctx, kind, request.args.get("next"))
        return render_template("list.html", listing=found, kind=kind, heading=heading, status_field=status_field,
                               detail=detail)  # fmt: skip

    return page


def _training_parts(ctx: Context, name: str) -> dict[str, Any]:
    log = reads.job_log(ctx, name)
    words = text.TEXT[g.lang]
    chart = charts.line_chart(log.rounds, x_label=words["round"], empty=words["no_rounds"], x_format=lambda x: f"{x:.0f}")
    return {"log": log, "chart": chart}


def _tuning_parts(ctx: Context, name: str) -> dict[str, Any]:
    tuning = reads.tuning_job(ctx, name)
    words = text.TEXT[g.lang]
    chart = charts.line_chart({tuning.objective: tuning.over_time}, x_label=words["completion_order"],
                              empty=words["no_jobs_completed"], x_format=lambda x: f"{x:.0f}")  # fmt: skip
    return {"tuning": tuning, "chart": chart}


def _from_the_console(origin: str) -> bool:
    """A browser says where a request comes from: Sec-Fetch-Site, else Origin (older browsers)."""
    fetched_from = request.headers.get("Sec-Fetch-Site")
    if fetched_from is not None:
        return fetched_from == "same-origin"
    return request.headers.get("Origin") == origin


def _forbidden() -> tuple[str, int]:
    lang = text.choose(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language", ""))
    return render_template("forbidden.html", message=text.TEXT[lang]["forbidden"], lang=lang), 403


def _aws_console(region: str, kind: str, name: str) -> str:
    """The same resource's page in the AWS console (the aws target only)."""
    base = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#"
    return {
        "training-jobs": f"{base}/jobs/{name}",
        "tuning-jobs": f"{base}/hyper-tuning-jobs/{name}",
        "transform-jobs": f"{base}/transform-jobs/{name}",
        "models": f"{base}/models/{name}",
        "endpoint-configs": f"{base}/endpointConfig/{name}",
        "endpoints": f"{base}/endpoints/{name}",
        "notebook-instances": f"{base}/notebook-instances/{name}",
        "roles": f"https://console.aws.amazon.com/iam/home#/roles/details/{name}",
        "buckets": f"https://s3.console.aws.amazon.com/s3/buckets/{name}?region={region}",
    }[kind]


def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _took(value: Any) -> str:
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


def _size(value: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def _minute(value: float) -> str:
    return datetime.fromtimestamp(value * 60, timezone.utc).strftime("%H:%M")


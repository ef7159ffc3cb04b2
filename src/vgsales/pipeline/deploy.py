"""`invoke deploy`: model -> endpoint config -> endpoint, through sagemaker-core.

Names derive from the training job and the serving settings, so running deploy again for the same model
and settings finds everything in place and changes nothing; a new model (or new settings) gets a new
config and the one endpoint is updated to it, then the config and model it replaced are removed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from botocore.exceptions import ClientError
from sagemaker.core.resources import Endpoint, EndpointConfig, Model
from sagemaker.core.shapes import ContainerDefinition, ProductionVariant, ProductionVariantServerlessConfig
from sagemaker.core.utils.exceptions import FailedStatusError

from ..context import Context
from ..discovery import sdk_tags
from ..errors import WorkshopError
from ..output import console, library_displays_off, step
from ..records import DataRecord, EndpointRecord, StackRecord, TrainingRecord
from ..settings import Settings

VARIANT = "AllTraffic"


def endpoint_name(settings: Settings) -> str:
    return f"{settings.name_prefix}-endpoint"


def _names(settings: Settings, training_job: str) -> tuple[str, str]:
    """Model and endpoint config names: `<prefix>-model-<run>`, `<prefix>-config-<run>-<hash>`, where <run> is
    the training job's `YYYYmmdd-HHMMSS-xxxx` (records.run_name)."""
    stamp = "-".join(training_job.rsplit("-", 3)[-3:])
    serving = json.dumps(
        [settings.deploy.instance_type, settings.deploy.instance_count, settings.deploy.serverless and vars(settings.deploy.serverless)],
        default=str,
    )
    digest = hashlib.sha256(serving.encode()).hexdigest()[:6]
    return f"{settings.name_prefix}-model-{stamp}", f"{settings.name_prefix}-config-{stamp}-{digest}"


def run(ctx: Context) -> EndpointRecord:
    settings, state = ctx.settings, ctx.state
    stack = state.read(StackRecord)
    training = state.read(TrainingRecord)
    model_name, config_name = _names(settings, training.training_job_name)
    name = endpoint_name(settings)
    tags = sdk_tags(settings)
    ensure_model(ctx, stack, training)
    if _get(ctx, EndpointConfig, config_name) is None:
        with step(f"Creating endpoint config {config_name}"):
            EndpointConfig.create(
                endpoint_config_name=config_name, production_variants=[_variant(settings, model_name)], tags=tags,
                **_on(ctx),
            )
    endpoint = _get(ctx, Endpoint, name)
    replaced = None
    if endpoint is not None and endpoint.endpoint_status == "Failed":
        failed_config = endpoint.endpoint_config_name
        # The step's spinner is the one live display while the SDK waits, not the SDK's own wait panel.
        with step(f"Removing failed endpoint {name}"), library_displays_off():
            endpoint.delete()
            endpoint.wait_for_delete(poll=1)
        endpoint = None
        if failed_config != config_name:  # it served nothing, and would linger until teardown
            _remove_replaced(ctx, failed_config, keep_model=model_name)
    if endpoint is None:
        with step(f"Creating endpoint {name}"):
            endpoint = Endpoint.create(endpoint_name=name, endpoint_config_name=config_name, tags=tags, **_on(ctx))
            _wait_in_service(endpoint)
    elif endpoint.endpoint_config_name != config_name:
        replaced = endpoint.endpoint_config_name
        with step(f"Updating endpoint {name} to {config_name}"):
            endpoint.endpoint_config_name = config_name
            endpoint.update()
            _wait_in_service(endpoint)
        if endpoint.endpoint_config_name != config_name:
            _update_failed(ctx, endpoint, config_name, model_name)
    elif endpoint.endpoint_status != "InService":
        with step(f"Waiting for endpoint {name}"):
            _wait_in_service(endpoint)
    else:
        console.print(f"Endpoint {name} already serves {model_name}: nothing to change.")
    if replaced:
        _remove_replaced(ctx, replaced, keep_model=model_name)
    record = EndpointRecord(
        endpoint_name=name,
        endpoint_config_name=config_name,
        model_name=model_name,
        training_job_name=training.training_job_name,
        region=settings.region,
    )
    state.write(record)
    data = state.read(DataRecord) if state.has(DataRecord) else None
    row = sample_row(Path(data.test_split)) if data else "0:75 1:7.6"
    manifest = data.manifest if data else "manifest.json (written by `invoke data`)"
    console.print(usage_snippets(name, settings.region, row, ctx.target.client_setup, manifest), soft_wrap=True)
    return record


def ensure_model(ctx: Context, stack: StackRecord, training: TrainingRecord) -> str:
    """The SageMaker model of the training record, created unless it exists; its name. An endpoint serves it,
    and `invoke evaluate` with `via: transform` runs a batch transform job on it."""
    model_name, _ = _names(ctx.settings, training.training_job_name)
    if _get(ctx, Model, model_name) is None:
        with step(f"Creating model {model_name}"):
            Model.create(
                model_name=model_name,
                primary_container=ContainerDefinition(image=training.image, model_data_url=training.model_data_url),
                execution_role_arn=stack.role_arn,
                tags=sdk_tags(ctx.settings),
                **_on(ctx),
            )
    return model_name


def _variant(settings: Settings, model_name: str) -> ProductionVariant:
    serverless = settings.deploy.serverless
    if serverless is not None:
        return ProductionVariant(
            variant_name=VARIANT,
            model_name=model_name,
            serverless_config=ProductionVariantServerlessConfig(
                memory_size_in_mb=serverless.memory_mb, max_concurrency=serverless.max_concurrency
            ),
        )
    return ProductionVariant(
        variant_name=VARIANT,
        model_name=model_name,
        initial_instance_count=settings.deploy.instance_count,
        instance_type=settings.deploy.instance_type,
    )


def _on(ctx: Context) -> dict:
    """What every sagemaker-core call takes to act on the context's target (its resources keep it for later calls)."""
    return {"session": ctx.aws.session, "region": ctx.region}


def _get(ctx: Context, resource_class, name: str):
    try:
        return resource_class.get(name, **_on(ctx))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return None
        # As the stack's execution role (the notebook instance's identity), whose policy reaches resources by the
        # stack's tag, IAM denies Describe on a name that does not exist (there is no tag to match), as it does on
        # one of another stack: either way it is none of this stack's. Creating it then says which it was.
        if exc.response["Error"]["Code"] == "AccessDeniedException":
            return None
        raise


def _wait_in_service(endpoint: Endpoint) -> None:
    try:
        # Always inside a step: its spinner is the one live display; the SDK's wait panel would be a second one.
        with library_displays_off():
            endpoint.wait_for_status("InService", poll=1)
    except FailedStatusError:
        endpoint.refresh()
        raise WorkshopError(
            f"Endpoint {endpoint.endpoint_name} failed to come up: {endpoint.failure_reason}. "
            "Check the model artifact of the training job (or run `invoke train` for a new one), then run "
            "`invoke deploy` again (it replaces the failed endpoint), or `invoke teardown`."
        ) from None


def _update_failed(ctx: Context, endpoint: Endpoint, config_name: str, model_name: str) -> None:
    """A failed update rolls back: the endpoint is InService again, but on the model it served before."""
    serving = endpoint.endpoint_config_name
    reason = endpoint.failure_reason or "no reason given"
    # The new config and model serve nothing; the ones still serving are left alone.
    _remove_replaced(ctx, config_name, keep_model=_models_of(ctx, serving))
    raise WorkshopError(
        f"Updating endpoint {endpoint.endpoint_name} to model {model_name} failed: {reason}. The update was rolled "
        f"back, so the endpoint still serves its previous configuration {serving}. Check the model artifact of the "
        "training job (or run `invoke train` for a new one), then run `invoke deploy` again."
    )


def _models_of(ctx: Context, config_name: str) -> set[str]:
    config = _get(ctx, EndpointConfig, config_name)
    return {variant.model_name for variant in config.production_variants} if config is not None else set()


def _remove_replaced(ctx: Context, config_name: str, keep_model: str | set[str]) -> None:
    """The config (and its model) an update replaced serve nothing now; leaving them would only clutter."""
    config = _get(ctx, EndpointConfig, config_name)
    if config is None:
        return
    models = {variant.model_name for variant in config.production_variants}
    config.delete()
    keep = {keep_model} if isinstance(keep_model, str) else keep_model
    for model_name in models - keep:
        model = _get(ctx, Model, model_name)
        if model is not None:
            model.delete()


def sample_row(test_split: Path) -> str:
    """The first row of the held-out test split as the endpoint takes it: libsvm features without the label."""
    with open(test_split, encoding="utf-8") as handle:
        first = handle.readline().strip()
    return first.partition(" ")[2]


def csv_row(libsvm_row: str, n_features: int) -> str:
    """The same row as a text/csv request: every feature in the manifest's order, an absent one left empty.

    Empty, not 0: XGBoost (and the built-in container) reads an empty CSV field as missing, as libsvm's absent
    feature is, while 0 is a value; for one-hot columns and scores that changes the prediction."""
    fields = [""] * n_features
    for pair in libsvm_row.split():
        index, _, value = pair.partition(":")
        fields[int(index)] = value
    return ",".join(fields)


def usage_snippets(
    name: str, region: str, row: str, client_setup: str | None = None, manifest: str = "manifest.json"
) -> str:
    """How to call the endpoint, with a real row; commands that paste into a shell as printed.

    The AWS CLI line passes the body as a file (`fileb://`), which v1 and v2 both send as raw bytes; a body given
    inline is base64 in v2 unless `--cli-binary-format raw-in-base64-out`, an option v1 does not know.
    """
    setup = f"  {client_setup}\n" if client_setup else ""
    return (
        f"\nEndpoint [bold]{name}[/bold] is InService. Call it with a libsvm row, here the first row of the test "
        f"split. The feature order is in {manifest}; how to build a row, and why an absent feature must be left "
        "out rather than sent as 0: README.md, section 'Call the endpoint'.\n\n"
        "  # Python (boto3)\n"
        f"{setup}"
        f"  python3 -c \"import boto3; r = boto3.client('sagemaker-runtime', region_name='{region}').invoke_endpoint("
        f"EndpointName='{name}', ContentType='text/x-libsvm', Body=b'{row}'); print(r['Body'].read().decode())\"\n\n"
        "  # AWS CLI (v1 or v2)\n"
        f"{setup}"
        f"  printf '%s\\n' '{row}' > row.libsvm\n"
        f"  aws sagemaker-runtime invoke-endpoint --region {region} --endpoint-name {name} "
        "--content-type text/x-libsvm --body fileb://row.libsvm out.json && cat out.json\n"
    )

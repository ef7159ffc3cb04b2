"""invoke tasks: thin wiring from the command line to the vgsales package.

    invoke setup train deploy evaluate teardown     the whole workshop (local target by default)
    INVOKE_WORKSHOP_TARGET=aws invoke setup         the same on a real AWS account

Settings live under `workshop` in invoke's configuration tree (invoke.yaml beside this file, a file given
with -f, or INVOKE_WORKSHOP_* variables); see README.md.
"""

from __future__ import annotations

import json

from invoke import Collection, task

from vgsales.cli import settings_of, user_errors


@task
@user_errors
def setup(c):
    """Create the stack (bucket, role, notebook instance) with Terraform; starts the emulator on the local target."""
    from vgsales.infra import stack

    stack.setup(settings_of(c))


@task(help={"keep_emulator": "local target: leave the emptied emulator running, to inspect that nothing is left"})
@user_errors
def teardown(c, keep_emulator=False):
    """Remove everything the stack owns: endpoints, models, Terraform resources, the emulator. Safe to re-run."""
    from vgsales.infra import stack

    stack.teardown(settings_of(c), keep_emulator=keep_emulator)


@task(help={"json": "print a JSON object with a `resources` list instead of a table"})
@user_errors
def status(c, json_=False):
    """List what exists for the stack on the target, and what costs money while it runs."""
    from vgsales.infra import stack

    settings = settings_of(c)
    lines = stack.status(settings)
    if json_:
        print(json.dumps(stack.status_json(lines), indent=2))
    else:
        stack.print_status(lines, settings)


@task
@user_errors
def data(c):
    """Download and verify the dataset, preprocess it as the workshop did, upload train/validation to S3."""
    from vgsales.pipeline import data as stage

    stage.run(settings_of(c))


@task(pre=[data])
@user_errors
def train(c):
    """Train SageMaker's built-in XGBoost on the uploaded data, streaming the training log."""
    from vgsales.pipeline import train as stage

    stage.run(settings_of(c))


@task
@user_errors
def deploy(c):
    """Deploy the trained model to an endpoint (or update it to a new model) and wait until it serves."""
    from vgsales.pipeline import deploy as stage

    stage.run(settings_of(c))


@task
@user_errors
def evaluate(c):
    """Send the held-out test split to the endpoint and report accuracy, precision, recall, F1 and ROC AUC."""
    from vgsales.pipeline import evaluate as stage

    stage.run(settings_of(c))


@task(name="start")
@user_errors
def emulator_start(c):
    """Start the local AWS emulator in the background (setup does this for you)."""
    from vgsales.infra import local

    local.start(settings_of(c))


@task(name="stop")
@user_errors
def emulator_stop(c):
    """Stop the local AWS emulator; everything in it is gone (it keeps state in memory)."""
    from vgsales.infra import local

    local.stop(settings_of(c))


@task(name="status")
@user_errors
def emulator_status(c):
    """Say whether the local AWS emulator runs, where, and since when."""
    from vgsales.infra import local

    local.status(settings_of(c))


@task(
    name="env",
    help={
        "json": "print a JSON object (set, unset) instead of shell lines",
        "admin": "the emulator's administrative identity instead of the stack's execution role",
    },
)
@user_errors
def emulator_env(c, json_=False, admin=False):
    """Print the environment that points any AWS client at the emulator: eval "$(invoke emulator.env)"."""
    from vgsales.infra import local

    variables, unset = local.client_environment(settings_of(c), admin=admin)
    print(json.dumps({"set": variables, "unset": unset}, indent=2) if json_ else local.shell_lines(variables, unset))


namespace = Collection(setup, teardown, status, data, train, deploy, evaluate)
namespace.add_collection(Collection("emulator", emulator_start, emulator_stop, emulator_status, emulator_env))

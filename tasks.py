"""invoke tasks: thin wiring from the command line to the vgsales package.

    invoke setup train deploy evaluate teardown     the whole workshop (local target by default)
    invoke setup tune deploy evaluate teardown      the same with a tuned model
    INVOKE_WORKSHOP_TARGET=aws invoke setup         the same on a real AWS account
    invoke rehearse                                 the aws target's code path, answered by a local emulator

Settings live under `workshop` in invoke's configuration tree (invoke.yaml beside this file, a file given
with -f, or INVOKE_WORKSHOP_* variables); see README.md.
"""

from __future__ import annotations

import atexit
import gc
import json
from pathlib import Path

from invoke import Collection, task

from vgsales.cli import (
    check_config_files, context_of, later_stage_imports, next_step, register_tasks, settings_of, user_errors,
)
from vgsales.settings import FILE_ONLY as SETTINGS_FILE_ONLY, variable_of

# At exit, the interpreter's last garbage collection walks every object of boto3, pandas and the SageMaker SDK:
# 0.4 s of each command, for memory the process hands back anyway. Frozen objects are skipped; atexit handlers
# (logging's flush among them, registered earlier, so run later) still run, and every file is closed by `with`.
atexit.register(gc.freeze)

# Appended to each task's --help: settings are not options, they come from invoke's configuration. The
# example sets one of the task's own settings, so that it can be copied as it is.
HOW_TO_SET = """
    Set one with its environment variable, for example
        {example}
    or in a YAML file under `workshop:` given with `invoke -f my-settings.yaml {task}`. Defaults and
    what each means: invoke.yaml; all of them: README.md, section Configuration."""


def _with_settings(*names: str, example: tuple[str, str], task: str | None = None):
    """Name the settings that apply to a task in its --help, with an example that sets ``example`` = (setting,
    value) on the command line of ``task`` (default: the function's name)."""
    assert example[0] in names, "the example sets one of the task's own settings"

    def decorate(body):
        width = max(len(name) for name in names) + len("workshop.")
        listed = "\n".join(
            f"      {'workshop.' + name:<{width}}  "
            + ("(a mapping: in a -f file)" if name in FILE_ONLY else variable_of(f"workshop.{name}"))
            for name in names
        )
        invoked_as = task or body.__name__
        command = f"{variable_of('workshop.' + example[0])}={example[1]} invoke {invoked_as}"
        how = HOW_TO_SET.format(example=command, task=invoked_as)
        body.__doc__ = f"{body.__doc__}\n\n    Settings that apply:\n{listed}\n{how}"
        return body

    return decorate


COMMON = ("target", "region", "name_prefix", "state_dir")
# Settings whose default is an empty mapping (settings.FILE_ONLY), and the ranges, a mapping of names you choose.
FILE_ONLY = (*SETTINGS_FILE_ONLY, "tuning.ranges")


@task
@user_errors
@_with_settings(*COMMON, "confirm", "tags", "terraform.create_notebook_instance", "terraform.notebook_instance_type",
                "terraform.idle_timeout_minutes", "terraform.plugin_mirror", "emulator.host", "emulator.port",
                example=("terraform.create_notebook_instance", "false"))
def setup(c):
    """Create the stack (bucket, role, notebook instance) with Terraform; starts the emulator on the local target."""
    from vgsales.infra import stack

    # When later stages follow in this same invocation, their imports happen while Terraform applies.
    stack.setup(context_of(c), while_applying=later_stage_imports())
    next_step(c, "train", "prepares the data, then trains; after it, `deploy` and `evaluate`")


@task(help={"keep_emulator": "local target: leave the emptied emulator running, to inspect that nothing is left"})
@user_errors
# Not target=aws: copied as it is, that example would remove real resources.
@_with_settings(*COMMON, example=("state_dir", "/tmp/my-workshop"))
def teardown(c, keep_emulator=False):
    """Remove everything the stack owns: endpoints, models, Terraform resources, the emulator. Safe to re-run."""
    from vgsales.infra import stack

    stack.teardown(context_of(c), keep_emulator=keep_emulator)
    next_step(c, "setup", "to start again; `status` shows that nothing is left")


@task(help={"json": "print a JSON object with a `resources` list instead of a table"})
@user_errors
@_with_settings(*COMMON, example=("target", "aws"))
def status(c, json_=False):
    """List what exists for the stack on the target, and what costs money while it runs."""
    from vgsales.infra import stack

    ctx = context_of(c)
    lines = stack.status(ctx)
    if json_:
        print(json.dumps(stack.status_json(lines), indent=2))
        return
    stack.print_status(lines, ctx)
    if lines:
        next_step(c, "teardown", "removes all of it")
    else:
        next_step(c, "setup", "creates the stack")


@task(help={"no_browser": "only print the URL (for CI and remote shells); it signs in once, within 5 minutes"})
@user_errors
@_with_settings(*COMMON, example=("target", "aws"))
def notebook(c, no_browser=False):
    """Open JupyterLab on the stack's notebook instance (the console's Open JupyterLab): a presigned URL."""
    from vgsales.browser import open_privately
    from vgsales.infra import notebook_access

    url = notebook_access.presigned_url(context_of(c))
    print(url)
    if not no_browser and not open_privately(url, "notebook"):
        print("No browser found here: open the URL above in one (it signs in once, within 5 minutes).")
    next_step(c, "train", "or run the workshop notebook in that JupyterLab")


@task(help={"no_browser": "only print the URL (for CI and remote shells)",
            "port": "the port on 127.0.0.1 to serve on (default: any free one)"})
@user_errors
@_with_settings(*COMMON, example=("target", "aws"))
def console(c, no_browser=False, port=0):
    """Watch the stack in a web console on this machine (training, tuning, endpoints, the bucket, the evaluation,
    what teardown would remove), in Traditional Chinese or English, until Ctrl-C. It changes nothing of the stack."""
    from vgsales.browser import open_privately
    from vgsales.console.server import ConsoleServer

    served = ConsoleServer(context_of(c), port=int(port))
    print(served.url)
    if not no_browser and not open_privately(served.url, "console"):
        print("No browser found here: open the URL above in one.")
    print("Serving the console on 127.0.0.1 only; Ctrl-C stops it.")
    served.serve_forever()
    print("Console stopped.")


@task
@user_errors
@_with_settings(*COMMON, "data_source", "data_sha256", "data_prefix", example=("data_source", "raw_data.csv"))
def data(c):
    """Download and verify the dataset, preprocess it as the workshop did, upload train/validation to S3."""
    from vgsales.pipeline import data as stage

    stage.run(context_of(c))
    next_step(c, "train", "trains on the uploaded train and validation splits")


@task(pre=[data])
@user_errors
@_with_settings(*COMMON, "training.image_version", "training.instance_type", "training.instance_count",
                "training.volume_size_gb", "training.max_runtime_seconds", "training.use_spot",
                "training.max_wait_seconds", "training.hyperparameters.<name>",
                example=("training.instance_type", "ml.m5.2xlarge"))
def train(c):
    """Train SageMaker's built-in XGBoost on the uploaded data, streaming the training log."""
    from vgsales.pipeline import train as stage

    ctx = context_of(c)
    stage.run(ctx)
    _next_after_training(c, ctx.settings, "the model")


@task(pre=[data])
@user_errors
@_with_settings(*COMMON, "tuning.strategy", "tuning.max_jobs", "tuning.max_parallel_jobs", "tuning.objective_metric",
                "tuning.early_stopping", "tuning.random_seed", "tuning.ranges.<name>.min", "tuning.ranges.<name>.max",
                "tuning.ranges.<name>.scaling", "tuning.ranges", "training.hyperparameters.<name>",
                "training.instance_type", "training.max_runtime_seconds", example=("tuning.max_jobs", "10"))
def tune(c):
    """Tune the hyperparameters on the validation split (a tuning job of real training jobs); deploy serves the best."""
    from vgsales.pipeline import tune as stage

    ctx = context_of(c)
    stage.run(ctx)
    _next_after_training(c, ctx.settings, "the best job's model")


def _next_after_training(c, settings, model: str) -> None:
    if settings.evaluate.via == "transform":  # evaluate brings its own compute; an endpoint would only bill
        next_step(c, "evaluate", f"scores the test split with a batch transform job on {model}; no endpoint needed")
    else:
        next_step(c, "deploy", f"serves {model} on an endpoint")


@task
@user_errors
@_with_settings(*COMMON, "deploy.instance_type", "deploy.instance_count", "deploy.serverless",
                example=("deploy.instance_type", "ml.m5.xlarge"))
def deploy(c):
    """Deploy the trained model to an endpoint (or update it to a new model) and wait until it serves."""
    from vgsales.pipeline import deploy as stage

    stage.run(context_of(c))
    next_step(c, "evaluate", "scores the held-out test split on the endpoint")


@task
@user_errors
@_with_settings(*COMMON, "evaluate.via", "evaluate.batch_size", "evaluate.content_type", "evaluate.concurrency",
                "evaluate.transform_instance_type", example=("evaluate.via", "transform"))
def evaluate(c):
    """Score the held-out test split (on the endpoint, or via a batch transform job) and report the metrics."""
    from vgsales.pipeline import evaluate as stage

    stage.run(context_of(c))
    next_step(c, "teardown", "removes the stack and any endpoint when you are done; endpoints bill by the hour on AWS")


@task(name="start")
@user_errors
@_with_settings("state_dir", "emulator.host", "emulator.port", example=("emulator.port", "4566"), task="emulator.start")
def emulator_start(c):
    """Start the local AWS emulator in the background (setup does this for you)."""
    from vgsales.infra import local

    local.start(context_of(c))
    next_step(c, "setup", "creates the stack in it")


@task(name="stop")
@user_errors
@_with_settings("state_dir", example=("state_dir", "/tmp/other-workshop"), task="emulator.stop")
def emulator_stop(c):
    """Stop the local AWS emulator; everything in it is gone (it keeps state in memory)."""
    from vgsales.infra import local

    local.stop(context_of(c))
    next_step(c, "setup", "starts it again with a new stack")


@task(name="status")
@user_errors
@_with_settings("state_dir", example=("state_dir", "/tmp/other-workshop"), task="emulator.status")
def emulator_status(c):
    """Say whether the local AWS emulator runs, where, and since when."""
    from vgsales.infra import local

    local.status(context_of(c))


@task(
    name="env",
    help={
        "json": "print a JSON object (set, unset) instead of shell lines",
        "admin": "the emulator's administrative identity instead of the stack's execution role",
    },
)
@user_errors
@_with_settings("state_dir", example=("state_dir", "/tmp/other-workshop"), task="emulator.env")
def emulator_env(c, json_=False, admin=False):
    """Print the environment that points any AWS client at the emulator: eval "$(invoke emulator.env)"."""
    from vgsales.infra import local

    variables, unset = local.client_environment(context_of(c), admin=admin)
    print(json.dumps({"set": variables, "unset": unset}, indent=2) if json_ else local.shell_lines(variables, unset))


RECORD_HELP = "write each step's wall time and what it created to this JSON file (compare two: walkthrough.compare)"
# Every setting of the steps a walkthrough runs.
WALKTHROUGH_SETTINGS = (*COMMON, "confirm", "data_source", "training.image_version", "training.instance_type",
                        "deploy.instance_type", "evaluate.via")


@task(name="run", help={"record": RECORD_HELP})
@user_errors
# Not target=aws: copied as it is, that example would start spending (after the question).
@_with_settings(*WALKTHROUGH_SETTINGS, example=("evaluate.via", "transform"), task="walkthrough.run")
def walkthrough_run(c, record=None):
    """The whole workshop on the chosen target, each step timed: setup (twice), data, train, deploy, evaluate, status,
    teardown.

    Teardown runs after a failed step too. On the aws target this spends money: docs/aws-run.md."""
    from vgsales import walkthrough

    walkthrough.run(context_of(c), Path(record) if record else None)
    next_step(c, "status", "shows that nothing of the stack is left")


@task(name="compare", positional=["first", "second"])
@user_errors
def walkthrough_compare(c, first, second):
    """Two walkthrough records (a rehearsal and a real run) side by side, step by step."""
    from vgsales import walkthrough

    documents = [walkthrough.read_record(Path(name)) for name in (first, second)]
    print("\n".join(walkthrough.compare(*documents)))


@task(help={"record": RECORD_HELP})
@user_errors
@_with_settings("region", "name_prefix", "state_dir", "confirm", "data_source", "terraform.create_notebook_instance",
                "training.image_version", "evaluate.via", example=("region", "eu-west-1"))
def rehearse(c, record=None):
    """The workshop on the aws target's code path, setup to teardown, against a local emulator: no account needed.

    Every client talks to AWS's hostnames, which the emulator answers through its proxy; it starts and stops with
    the rehearsal. Run it in a shell without AWS credentials or a profile. What differs from AWS: docs/aws-run.md."""
    from vgsales import rehearsal

    rehearsal.rehearse(settings_of(c), Path(record) if record else None)
    next_step(c, "walkthrough.run --record aws-run.json", "the same on your account: read docs/aws-run.md first",
              target="aws")


namespace = Collection(setup, teardown, status, notebook, console, data, train, tune, deploy, evaluate, rehearse)
namespace.add_collection(Collection("emulator", emulator_start, emulator_stop, emulator_status, emulator_env))
namespace.add_collection(Collection("walkthrough", walkthrough_run, walkthrough_compare))
register_tasks(namespace)
# invoke loads invoke.yaml and the -f file after importing this module: a broken one is refused here, in one
# paragraph, instead of as the traceback of invoke's YAML parser.
check_config_files(Path(__file__).resolve().parent)

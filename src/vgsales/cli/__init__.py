"""How invoke meets the package: settings from invoke's config tree, the command line as invoke parses it, and
user errors and interrupts as clean exits.

tasks.py stays thin wiring; what it needs from invoke beyond @task lives here.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import importlib
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ConnectionError as AwsConnectionError
from invoke import Collection, Config, Executor, Exit, Program
from invoke.exceptions import ParseError
from invoke.parser import Parser

from ..context import Context
from ..errors import Interrupted, WorkshopError
from ..settings import PROJECT_DIR_ENV, Settings, workshop_of


def _project_dir() -> Path:
    """Where tasks.py and invoke.yaml live: the checkout this package is installed from (editable, as
    requirements.txt installs it), else, for a copy installed elsewhere, the folder VGSALES_PROJECT_DIR names."""
    own = Path(__file__).resolve().parents[3]
    if (own / "tasks.py").is_file():
        return own
    named = os.environ.get(PROJECT_DIR_ENV, "").strip()
    return Path(named).expanduser().resolve() if named else own


PROJECT_DIR = _project_dir()


def settings_of(c) -> Settings:
    return Settings.from_config(workshop_of(c.config), project_dir=PROJECT_DIR)


def context_of(c) -> Context:
    """The context a task runs with: its settings from invoke's configuration, its target, its run state."""
    return Context.of(settings_of(c))


# --- the command line, as invoke parses it ------------------------------------------------------------------

_tasks: Collection | None = None
_task_names: dict[Callable[..., Any], str] = {}  # a task's body (user_errors' wrapper) -> its name, "emulator.env"
# The body of the task running now, so that next_step knows whose Next line it is.
_running: contextvars.ContextVar[Callable[..., Any] | None] = contextvars.ContextVar("vgsales_task", default=None)


def register_tasks(collection: Collection) -> None:
    """tasks.py hands over its collection, so that the command line can be read the way invoke reads it."""
    global _tasks
    _tasks = collection
    _task_names.clear()
    _task_names.update({collection[name].body: name for name in collection.task_names})


def _collection() -> Collection:
    if _tasks is None:  # a test or a script reads a command line without invoke having imported tasks.py
        from invoke import FilesystemLoader

        FilesystemLoader(config=Config(lazy=True), start=str(PROJECT_DIR)).load("tasks")  # registers itself
    assert _tasks is not None, "tasks.py calls register_tasks"
    return _tasks


@dataclass(frozen=True)
class Invocation:
    """One `invoke ...` (or `vgsales ...`) command line."""

    named: tuple[str, ...]  # the tasks named on it, in order, as invoke names them ("emulator.env")
    runs: tuple[str, ...]  # what runs: each named task after its pre-tasks, each task once (invoke's dedupe)
    config_file: str | None  # the runtime settings file: -f/--config, else INVOKE_RUNTIME_CONFIG
    config_named_by: str | None = None  # "-f" or "INVOKE_RUNTIME_CONFIG"


# Core flags after which invoke runs no task (it prints something and exits).
_NO_TASKS_FLAGS = ("help", "list", "version", "complete", "print-completion-script")


def _contexts(collection: Collection) -> list[Any]:
    """The collection's parser contexts, leaving each task's option help in place: invoke's Task.arg_opts pops it
    from Task.help as it builds an argument (invoke 3.0.3), so parsing here first left `invoke --help <task>` with
    no help for any option."""
    kept = {name: dict(collection[name].help) for name in collection.task_names}
    try:
        return collection.to_contexts()
    finally:
        for name, help_ in kept.items():
            collection[name].help = help_


def invocation(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> Invocation | None:
    """The tasks and settings file of a command line (default sys.argv), parsed by invoke's own parser with
    the `invoke` command's core flags, so that a flag's value (`-f train.yaml`) is never taken for a task.
    None when it is not a command line of these tasks (a test runner's, or one invoke itself refuses)."""
    argv = list(sys.argv if argv is None else argv)
    environ = os.environ if environ is None else environ
    collection = _collection()
    core_flags = Program().initial_context  # no bundled namespace: -c and -r as well, a superset of `vgsales`'s
    try:
        core = Parser(initial=core_flags, ignore_unknown=True).parse_argv(argv[1:])
        tasks = Parser(initial=core_flags, contexts=_contexts(collection)).parse_argv(core.unparsed)
    except ParseError:
        return None
    flags_among_tasks = tasks.pop(0)  # invoke takes core flags after task names too

    def flag(name: str) -> Any:
        for context in (flags_among_tasks, core[0]):
            if context.args[name].got_value:
                return context.args[name].value
        return None

    named = () if any(flag(name) for name in _NO_TASKS_FLAGS) else tuple(context.name for context in tasks)
    executor = Executor(collection, Config(lazy=True))
    calls = executor.expand_calls(executor.normalize([context for context in tasks if context.name in named]))
    if not flag("no-dedupe"):
        calls = executor.dedupe(calls)
    runs = tuple(_task_names.get(call.task.body, call.task.name) for call in calls)
    if flag("config"):
        return Invocation(named, runs, flag("config"), "-f")
    if environ.get("INVOKE_RUNTIME_CONFIG"):
        return Invocation(named, runs, environ["INVOKE_RUNTIME_CONFIG"], "INVOKE_RUNTIME_CONFIG")
    return Invocation(named, runs, None)


# --- settings files, checked before invoke loads them --------------------------------------------------------

CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".py")  # what invoke loads, by suffix


def check_config_files(
    project_dir: Path, argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Refuse a broken invoke.yaml (in ``project_dir``, beside tasks.py) or -f file in one paragraph before invoke
    loads it.

    invoke imports tasks.py first and then loads the project's invoke.yaml and, if tasks run, the -f file; a
    YAML error there is otherwise a 48-line traceback of its parser, a missing -f file is silently skipped, and
    a file that is not a mapping fails deep inside its merge."""
    # invoke loads the first of these it finds beside tasks.py
    found = [path for path in (project_dir / f"invoke{suffix}" for suffix in CONFIG_SUFFIXES) if path.is_file()]
    problem = None
    if found:
        problem = _config_file_problem(found[0], f"The project's settings file {found[0]}", required=False)
    command = invocation(argv, environ)
    if problem is None and command is not None and command.named and command.config_file:
        path = Path(command.config_file).expanduser()
        what = f"The settings file {command.config_file} (given with {command.config_named_by})"
        problem = _config_file_problem(path, what, required=True)
    if problem is not None:
        raise Exit(f"Error: {problem}", code=1)


def _config_file_problem(path: Path, what: str, required: bool) -> str | None:
    advice = "Nothing was run. Fix the file (invoke.yaml beside tasks.py shows the layout) and run the command again."
    if not path.exists():
        if not required:
            return None
        return (
            f"{what} does not exist (looked for {path.absolute()}). Nothing was run. A relative path is "
            "taken from the folder you run the command in; check the name, or leave out -f to use the defaults."
        )
    # invoke picks its loader by the suffix as written (Config._load_file: `_load_<suffix>`), so ".YAML" is unknown.
    if path.suffix not in CONFIG_SUFFIXES:
        return (
            f"{what} has {'the suffix ' + repr(path.suffix) if path.suffix else 'no suffix'}, and invoke reads "
            "settings only from .yaml, .yml, .json or .py files. Nothing was run. Rename it to end in .yaml."
        )
    if path.suffix == ".py":
        return None  # Python: invoke runs it, and its errors are the user's own code's
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        return f"{what} cannot be read ({exc}). Nothing was run. Make it a readable UTF-8 text file."
    if path.suffix == ".json":
        try:
            data = json.loads(text)  # as invoke's json.load: an empty file is an error there too
        except json.JSONDecodeError as exc:
            return f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. {advice}"
    else:
        from invoke.util import yaml  # the YAML parser invoke loads the file with

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            return f"{what} is not valid YAML: {_yaml_problem(exc)}. {advice}"
    if data is not None and not isinstance(data, dict):
        return (
            f"{what} holds a {type(data).__name__} at the top, not a mapping of settings. Nothing was run. A "
            "settings file starts with `workshop:`, the settings indented under it, as in invoke.yaml."
        )
    return None


def _yaml_problem(exc: Exception) -> str:
    """'mapping values are not allowed here at line 3, column 9 (YAML nests ...)' from a parser error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    context = getattr(exc, "context", None)
    context = f" ({context})" if context else ""
    return (
        f"{problem}{context}{where}. YAML nests by indenting with spaces (never tabs), and a value that holds ': ' "
        "or ' #' needs quotes"
    )


# --- what runs next -----------------------------------------------------------------------------------------

# The heavy imports of the stages after setup (pandas and scikit-learn for data, sagemaker-core for train and
# deploy, matplotlib (without pyplot) for evaluate): about 2.5 s of one core.
LATER_STAGE_MODULES = {
    "data": ("pandas", "sklearn.datasets", "vgsales.pipeline.data"),
    # train runs data first, as its pre-task
    "train": ("pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.train"),
    # tune runs data first too
    "tune": ("pandas", "sklearn.datasets", "vgsales.pipeline.data", "sagemaker.core.resources", "vgsales.pipeline.tune"),
    "deploy": ("sagemaker.core.resources", "vgsales.pipeline.deploy"),
    "evaluate": ("sklearn.metrics", "vgsales.evaluation.plots", "vgsales.pipeline.evaluate"),
}


def later_stage_imports(argv: Sequence[str] | None = None) -> Callable[[], None] | None:
    """A function that imports what the tasks named after this one on the command line will need, or None.

    `invoke setup train deploy evaluate` spends most of setup waiting for Terraform, in another process; the
    interpreter is idle meanwhile, and the imports would otherwise come one after another at each stage's
    start. setup runs it in a thread while Terraform applies. Nothing but imports happens there, and a failure
    only means the stage imports the module itself, as without this."""
    command = invocation(argv)
    words = set(command.named) if command is not None else set()
    modules = list(dict.fromkeys(name for task, names in LATER_STAGE_MODULES.items() if task in words for name in names))
    if not modules:
        return None

    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the stage will import it again and report the real error
                return

    return load


def ends_invocation(argv: Sequence[str] | None = None) -> bool:
    """Whether the running task is the last that this command runs. True when that cannot be known (a task
    called outside invoke, or a command line this module cannot read), so that a Next line is never lost."""
    current = _task_names.get(_running.get())
    command = invocation(argv) if current is not None else None
    if command is None or not command.runs:
        return True
    return command.runs[-1] == current


def next_step(c, tasks: str, why: str, target: str | None = None) -> None:
    """The line a command ends with: what to run next, on the same target (or on ``target``). Only the command's
    last task prints it: in `invoke setup train`, setup's "Next: invoke train" would come while train already
    runs, and a pre-task's (data before train) never applies."""
    if not ends_invocation():
        return
    from .. import targets
    from ..output import console

    settings = settings_of(c)
    if target is not None:
        settings = dataclasses.replace(settings, target=target)
    console.print(f"Next: {targets.of(settings).command(tasks)}  ({why})", markup=False)


# --- errors and interrupts ------------------------------------------------------------------------------------


def user_errors(body):
    """Turn a WorkshopError into invoke's Exit: one clear message and exit code 1, never a traceback; an
    interrupt exits 130, like any command stopped by Ctrl-C, saying what it left behind."""

    @functools.wraps(body)
    def wrapper(c, *args, **kwargs):
        running = _running.set(wrapper)
        try:
            return body(c, *args, **kwargs)
        except Interrupted as exc:  # the task stopped what it had started; its message says what
            raise Exit(str(exc), code=exc.exit_code) from None
        except WorkshopError as exc:
            raise Exit(f"Error: {exc}", code=1) from None
        except AwsConnectionError as exc:  # the target went away mid-task, e.g. the emulator was killed
            from vgsales.infra import stack

            raise Exit(f"Error: {stack.connection_lost(context_of(c), exc)}", code=1) from None
        except KeyboardInterrupt:
            raise Exit(interrupted_message(c), code=Interrupted.exit_code) from None
        finally:
            _running.reset(running)

    return wrapper


def interrupted_message(c) -> str:
    """What a Ctrl-C that no task handled leaves: the target's resources, and whether its service still runs."""
    try:
        from .. import targets

        where = targets.of(settings_of(c))
        running = where.service.running()
    except Exception:  # noqa: BLE001 - the interrupt may have cut anything short; the message must still come
        return (
            "Interrupted. Whatever was created so far is recorded on the target; run the task again to continue, "
            "or `invoke teardown` to remove everything."
        )
    teardown, status = where.command("teardown"), where.command("status")
    if running is not None:
        return (
            f"Interrupted. What was created so far is on the target, and {where.service.description} is still "
            f"running (pid {running.pid}, at {running.url}), holding it: run the task again to continue, or "
            f"`{teardown}` to remove everything and stop it."
        )
    if where.service.description is None:  # nothing runs here: the resources are in the account
        return (
            "Interrupted. Resources created so far may still exist on AWS, and some bill while they exist: run the "
            f"task again to continue, `{status}` to see what exists, or `{teardown}` to remove everything."
        )
    return (
        f"Interrupted. {where.service.description[0].upper()}{where.service.description[1:]} is not running, so "
        f"nothing the task created is left on the target: `{where.setup_command}` starts again."
    )

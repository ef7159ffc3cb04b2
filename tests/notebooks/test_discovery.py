"""notebook.discover(): the settings a notebook finds on a notebook instance, in the project, or nowhere."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from vgsales import notebook
from vgsales.emulator import daemon
from vgsales.errors import WorkshopError
from vgsales.records import StackRecord
from vgsales.state import RunState
from vgsales.targets import local as local_target

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STACK = {
    "bucket_name": "vgsales-20261127abcdef",
    "data_prefix": "games/video-game-sales",
    "region": "eu-west-1",
    "role_arn": "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution",
    "name_prefix": "vgsales",
}


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh HOME and no workshop variables, so that nothing of the machine's own setup leaks in."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in list(os.environ):
        if name.startswith("INVOKE_") or name in (notebook.PROJECT_DIR_ENV, notebook.STACK_FILE_ENV):
            monkeypatch.delenv(name)
    return home


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder as a checkout has it: invoke.yaml at the top, the notebooks one folder down."""
    root = tmp_path / "project"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "invoke.yaml", root / "invoke.yaml")
    return root


def write_instance_stack(home: Path, stack: dict = STACK) -> Path:
    path = home / ".vgsales" / "stack.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(stack))
    return path


def bundle_folder(home: Path) -> Path:
    folder = home / "SageMaker" / "video-game-sales"
    folder.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "invoke.yaml", folder / "invoke.yaml")
    return folder


# --- on a notebook instance ---------------------------------------------------------------------------------


def test_on_a_notebook_instance_the_stack_file_gives_aws_settings(home) -> None:
    stack_file = write_instance_stack(home)
    folder = bundle_folder(home)

    workshop = notebook.discover(folder)

    settings = workshop.settings
    assert workshop.found_in == "notebook instance"
    assert workshop.origin == stack_file
    assert settings.target == "aws"
    assert settings.region == "eu-west-1"
    assert (settings.name_prefix, settings.data_prefix) == ("vgsales", "games/video-game-sales")
    assert settings.state_dir == folder / ".workshop"
    assert settings.training.hyperparameters["scale_pos_weight"] == "2.0"  # the rest comes from invoke.yaml
    # The pipeline stages read the stack from the run records, as after `invoke setup`.
    assert RunState(settings).read(StackRecord) == StackRecord(target="aws", **STACK)
    assert "s3://vgsales-20261127abcdef/games/video-game-sales/" in repr(workshop)
    assert "vgsales-sagemaker-execution" in workshop._repr_html_()


def test_on_a_notebook_instance_invoke_variables_still_apply(home, monkeypatch) -> None:
    write_instance_stack(home)
    folder = bundle_folder(home)
    monkeypatch.setenv("INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_SCALE_POS_WEIGHT", "4")
    monkeypatch.setenv("INVOKE_WORKSHOP_TARGET", "local")  # the stack file decides the target

    settings = notebook.discover(folder / "subfolder-that-does-not-matter").settings

    assert settings.training.hyperparameters["scale_pos_weight"] == "4"
    assert settings.target == "aws"


def test_notebooks_take_new_hyperparameters_by_variable_and_refuse_typos_as_tasks_do(home, monkeypatch) -> None:
    """A hyperparameter invoke.yaml does not list reaches the notebook too; a misspelt variable is refused there too."""
    write_instance_stack(home)
    folder = bundle_folder(home)
    monkeypatch.setenv("INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_GAMMA", "5")
    assert notebook.discover(folder).settings.training.hyperparameters["gamma"] == "5"

    monkeypatch.setenv("INVOKE_WORKSHOP_TRAINING_INSTANCE_TYP", "ml.m5.large")
    with pytest.raises(WorkshopError, match="INVOKE_WORKSHOP_TRAINING_INSTANCE_TYP"):
        notebook.discover(folder)


def test_a_stack_file_named_by_the_environment_is_used(home, tmp_path, monkeypatch) -> None:
    elsewhere = tmp_path / "stack.json"
    elsewhere.write_text(json.dumps({**STACK, "region": "us-west-2"}))
    monkeypatch.setenv(notebook.STACK_FILE_ENV, str(elsewhere))

    assert notebook.discover(bundle_folder(home)).settings.region == "us-west-2"


def test_a_stack_file_named_by_the_environment_must_exist(home, monkeypatch) -> None:
    monkeypatch.setenv(notebook.STACK_FILE_ENV, str(home / "missing.json"))
    with pytest.raises(WorkshopError, match="does not exist.*stop and start the instance"):
        notebook.discover(bundle_folder(home))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable"),
        (json.dumps({key: value for key, value in STACK.items() if key != "role_arn"}), "lacks role_arn"),
        (json.dumps({**STACK, "bucket_name": ""}), "lacks bucket_name"),
        (json.dumps(["a list"]), "lacks bucket_name, data_prefix"),
    ],
    ids=["not-json", "missing-key", "empty-value", "not-an-object"],
)
def test_a_broken_stack_file_says_how_to_rewrite_it(home, content, message) -> None:
    path = home / ".vgsales" / "stack.json"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(WorkshopError, match=message):
        notebook.discover(bundle_folder(home))


def test_on_a_notebook_instance_the_bundle_settings_must_be_there(home, tmp_path) -> None:
    write_instance_stack(home)
    lonely = tmp_path / "somewhere"
    lonely.mkdir()
    with pytest.raises(WorkshopError, match="no invoke.yaml beside this notebook"):
        notebook.discover(lonely)


# --- in the project (local target) --------------------------------------------------------------------------


def test_in_the_project_without_a_stack_it_says_to_run_setup(home, project) -> None:
    with pytest.raises(WorkshopError, match=r"no local stack .* Run `invoke setup` in that folder first"):
        notebook.discover(project / "notebooks")


def test_in_the_project_with_a_dead_emulator_it_says_to_run_setup(home, project) -> None:
    settings = notebook.load_settings(project)
    RunState(settings).write(StackRecord(target="local", **STACK))
    with pytest.raises(WorkshopError, match=r"emulator .* is not running.*Run `invoke setup`"):
        notebook.discover(project / "notebooks")


def test_in_the_project_with_a_running_local_stack(home, project, tmp_path, monkeypatch) -> None:
    state_dir = tmp_path / "state"
    monkeypatch.setenv("INVOKE_WORKSHOP_STATE_DIR", str(state_dir))  # as the CI test points the notebooks
    settings = notebook.load_settings(project)
    assert settings.state_dir == state_dir
    RunState(settings).write(StackRecord(target="local", **STACK))
    daemon.start(local_target.emulator_dir(settings))
    try:
        workshop = notebook.discover(project / "notebooks")
    finally:
        daemon.stop(local_target.emulator_dir(settings))
    assert workshop.found_in == "project"
    assert workshop.origin == project / "invoke.yaml"
    assert workshop.settings == settings
    assert workshop.stack.bucket_name == STACK["bucket_name"]


def test_the_project_folder_can_be_named_by_the_environment(home, project, tmp_path, monkeypatch) -> None:
    write_instance_stack(home)  # an explicit project wins even over an instance's stack file
    monkeypatch.setenv(notebook.PROJECT_DIR_ENV, str(project))
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    with pytest.raises(WorkshopError, match=re.escape(f"no local stack for the project in {project}")):
        notebook.discover(unrelated)


def test_a_project_folder_named_by_the_environment_must_hold_invoke_yaml(home, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(notebook.PROJECT_DIR_ENV, str(tmp_path))
    with pytest.raises(WorkshopError, match="no invoke.yaml there"):
        notebook.discover(tmp_path)


# --- nowhere ----------------------------------------------------------------------------------------------


def test_without_any_settings_it_says_what_to_run_first(home, tmp_path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    with pytest.raises(WorkshopError) as raised:
        notebook.discover(lonely)
    message = str(raised.value)
    assert "run `invoke setup` in the project folder first" in message
    assert notebook.PROJECT_DIR_ENV in message
    assert "~/.vgsales/stack.json" in message


def test_in_a_notebook_the_error_is_one_message_without_a_traceback(home, tmp_path) -> None:
    """What a learner sees when the setup cell runs before `invoke setup`: the message, nothing else."""
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    cell = nbformat.v4.new_code_cell("from vgsales import notebook\nworkshop = notebook.discover()")
    document = nbformat.v4.new_notebook(cells=[cell])
    client = NotebookClient(document, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(lonely)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    (error,) = [output for output in document.cells[0].outputs if output.output_type == "error"]
    assert error.ename == "WorkshopError"
    assert len(error.traceback) == 1
    assert "run `invoke setup` in the project folder first" in error.traceback[0]

"""The Terraform CLI configuration for offline provider installation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vgsales.errors import WorkshopError
from vgsales.infra.terraform_cli import (
    CLI_CONFIG_ENV,
    MIRROR_ENV,
    cli_config_env,
    mirror_from_env,
    render_cli_config,
)


def test_mirror_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    assert mirror_from_env() is None
    monkeypatch.setenv(MIRROR_ENV, "")
    assert mirror_from_env() is None
    monkeypatch.setenv(MIRROR_ENV, "/srv/mirror")
    assert mirror_from_env() == "/srv/mirror"


def test_a_mirror_gets_a_cli_config_that_installs_aws_from_it(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror with space"
    mirror.mkdir()
    env = cli_config_env(str(mirror), tmp_path / "config")
    config = Path(env[CLI_CONFIG_ENV])
    assert config.parent == tmp_path / "config"
    assert config.read_text() == render_cli_config(str(mirror))
    text = config.read_text()
    assert f'path = "{mirror}"' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text


def test_a_missing_mirror_is_a_workshop_error(tmp_path: Path) -> None:
    with pytest.raises(WorkshopError, match=MIRROR_ENV):
        cli_config_env(str(tmp_path / "nowhere"), tmp_path / "config")


def test_no_mirror_changes_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CLI_CONFIG_ENV, raising=False)
    assert cli_config_env(None, tmp_path) == {}
    existing = tmp_path / "user.tfrc"
    existing.write_text('plugin_cache_dir = "/tmp"\n')
    monkeypatch.setenv(CLI_CONFIG_ENV, str(existing))
    assert cli_config_env(None, tmp_path / "config") == {}


def test_no_mirror_neutralises_a_cli_config_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(CLI_CONFIG_ENV, str(tmp_path / "missing.tfrc"))
    env = cli_config_env(None, tmp_path / "config")
    assert Path(env[CLI_CONFIG_ENV]).read_text() == ""


def test_terraform_accepts_the_generated_config(terraform_bin: str, tmp_path: Path) -> None:
    """`terraform version` warns about a CLI configuration it cannot parse or find."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHECKPOINT_DISABLE": "1"}
    env.update(cli_config_env(str(mirror), tmp_path / "config"))
    result = subprocess.run([terraform_bin, "version"], env=env, capture_output=True, text=True, check=True)
    assert "problems with the CLI configuration" not in result.stdout + result.stderr


@pytest.fixture
def terraform_binary() -> str:
    import os
    import shutil

    binary = shutil.which("terraform")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have terraform on PATH")
        pytest.skip("terraform is not on PATH")
    return binary


def test_init_without_a_registry_or_mirror_fails_in_one_paragraph_naming_its_log(
    terraform_binary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Offline and without a mirror: our paragraph only, and Terraform's raw lines in the log it names. A proxy
    that refuses every connection makes the registry unreachable on any machine."""
    from vgsales.infra.terraform import TerraformStack

    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setenv(CLI_CONFIG_ENV, str(tmp_path / "no-such.tfrc"))
    refusing = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    stack = TerraformStack(tmp_path / "work", {**os.environ, **refusing})
    with pytest.raises(WorkshopError) as failed:
        stack.init()
    message = str(failed.value)
    assert "\n" not in message, message
    assert "cannot reach the provider registry (registry.terraform.io)" in message
    assert MIRROR_ENV in message and str(stack.log_file) in message
    assert "registry.terraform.io" in stack.log_file.read_text(), "the raw output is kept in the log"


def test_terraform_errors_are_summarised_as_one_paragraph() -> None:
    from vgsales.infra.terraform import error_summary

    boxed = (
        "╷\n│ Error: Resource precondition failed\n│ \n│   on modules/execution-role/main.tf line 223, in resource:\n"
        '│  223:       condition     = local.algorithm_image_account != ""\n│     ├────────────────\n'
        '│     │ local.algorithm_image_account is ""\n│ \n│ No registry account of SageMaker\'s algorithm images\n'
        "│ is known for region xx-east-1.\n╵\n"
    )
    assert error_summary(boxed) == (
        "Resource precondition failed: No registry account of SageMaker's algorithm images is known for region "
        "xx-east-1."
    )
    two = "Error: First problem\n\nIt broke.\n\nError: Second problem\n\n  on main.tf line 1:\n   1: x\n\nAlso broke.\n"
    assert error_summary(two) == "First problem: It broke. Second problem: Also broke."
    assert error_summary("no error block at all\nlast line") == "no error block at all last line"


def test_init_runs_again_only_when_the_configuration_changed(
    terraform_binary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The init stamp: skipped for the same files, run again when a .tf file of the root or a module changes
    (near miss: a digest of the file names only). A root without providers needs no registry."""
    from vgsales.infra.terraform import TerraformStack

    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setenv(CLI_CONFIG_ENV, str(tmp_path / "no-such.tfrc"))
    root = tmp_path / "root"
    (root / "modules" / "inner").mkdir(parents=True)
    (root / "main.tf").write_text('module "inner" {\n  source = "./modules/inner"\n}\n')
    (root / "modules" / "inner" / "main.tf").write_text('output "x" {\n  value = 1\n}\n')
    stack = TerraformStack(tmp_path / "work", dict(os.environ), root_module=root)
    assert stack.init() is True
    assert stack.init() is False, "already initialised for this configuration"
    (root / "modules" / "inner" / "main.tf").write_text('output "x" {\n  value = 2\n}\n')
    assert stack.init() is True, "a module's file changed"
    assert stack.init() is False


def test_an_interrupted_terraform_is_waited_for_before_the_task_ends(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C reaches Terraform too, which stops gracefully (writes its state, stops its provider). The task must end
    after it, not leave it to die on a closed pipe with its provider orphaned."""
    import signal
    import threading

    from support.wait import wait_until
    from vgsales.infra.terraform import TerraformStack

    pid_file, stopped = tmp_path / "terraform.pid", tmp_path / "stopped-gracefully"
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    # A Terraform that, on SIGINT, takes a moment to stop and says so in a file. It writes its pid only once its
    # trap is set: a SIGINT before the trap ended it at once (a fresh-clone run on a busy machine met that race).
    fake.write_text(f'#!/bin/sh\ntrap \'sleep 0.5; touch "{stopped}"; exit 130\' INT\n'
                    f'echo $$ > "{pid_file}"\nwhile :; do sleep 0.05; done\n')  # fmt: skip
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    terraform = TerraformStack(tmp_path / "work", dict(os.environ))

    def ctrl_c() -> None:
        pid = int(wait_until(lambda: pid_file.is_file() and pid_file.read_text().strip(), timeout=30,
                             message="the fake terraform to start"))  # fmt: skip
        os.kill(pid, signal.SIGINT)  # as the terminal sends it to the whole process group: Terraform, and
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # this process, waiting on it

    thread = threading.Thread(target=ctrl_c)
    thread.start()
    with pytest.raises(KeyboardInterrupt):
        terraform._terraform("version")
    thread.join()
    assert stopped.is_file(), "the task ended before Terraform had stopped"


def test_recorded_resources_are_listed_as_terraform_state_list_prints_them(tmp_path: Path) -> None:
    """One address per instance, with its count index or for_each key (the console's clean-up page lists them; a
    count of six identical lines said nothing), and nothing for data sources."""
    import json

    from vgsales.infra import terraform

    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps({"resources": [
        {"mode": "managed", "type": "aws_s3_object", "name": "bundle",
         "instances": [{"index_key": "a.ipynb"}, {"index_key": "bundle.json"}]},
        {"mode": "managed", "module": "module.notebook[0]", "type": "aws_sagemaker_notebook_instance", "name": "this",
         "instances": [{}]},
        {"mode": "managed", "type": "aws_iam_role", "name": "counted", "instances": [{"index_key": 0}]},
        {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [{}]},
    ]}))  # fmt: skip
    assert terraform.recorded_resources(state) == [
        'aws_s3_object.bundle["a.ipynb"]', 'aws_s3_object.bundle["bundle.json"]',
        "module.notebook[0].aws_sagemaker_notebook_instance.this", "aws_iam_role.counted[0]",
    ]
    assert terraform.recorded_resources(tmp_path / "none.tfstate") == []

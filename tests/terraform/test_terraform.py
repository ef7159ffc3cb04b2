"""Offline checks of terraform/: formatting, validation, the modules' own tests, input validation messages,
checkov, and the notebook's lifecycle scripts run in a sandbox."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import subprocess
import textwrap
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from support.wait import wait_until

TERRAFORM_DIR = Path(__file__).resolve().parents[2] / "terraform"
SCRIPTS_DIR = TERRAFORM_DIR / "modules" / "notebook-instance" / "scripts"
NOTEBOOK_NAME = "vgsales-notebook"
STACK = {
    "bucket_name": "vgsales-20261101000000000000000001",
    "data_prefix": "video-game-sales",
    "region": "us-east-1",
    "role_arn": "arn:aws:iam::123456789012:role/vgsales-sagemaker-execution",
    "name_prefix": "vgsales",
}
BUNDLE_URI = f"s3://{STACK['bucket_name']}/video-game-sales/notebook-bundle/"


# --- Terraform: fmt, validate, terraform test ---------------------------------------------------------------


def test_fmt(run_command, terraform_bin: str, terraform_env: dict[str, str]) -> None:
    completed = run_command(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color"], TERRAFORM_DIR, terraform_env
    )
    assert completed.returncode == 0, completed.describe()


def test_validate(terraform_jobs, terraform_config: str) -> None:
    terraform_jobs.init(terraform_config)
    validate = terraform_jobs.result(terraform_config, "validate")
    assert validate.returncode == 0, validate.describe()
    assert "The configuration is valid" in validate.output


def test_terraform_test(terraform_jobs, tested_terraform_config: str) -> None:
    terraform_jobs.init(tested_terraform_config)
    completed = terraform_jobs.result(tested_terraform_config, "test")
    assert completed.returncode == 0, completed.describe()
    assert " 0 failed" in completed.output and " passed" in completed.output, completed.describe()


def test_every_module_has_the_standard_layout() -> None:
    for module in sorted((TERRAFORM_DIR / "modules").iterdir()):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (module / name).is_file(), f"{module.name} has no {name}"
        assert list((module / "tests").glob("*.tftest.hcl")), f"{module.name} has no tests/*.tftest.hcl"


@pytest.mark.parametrize("config", [".", "modules/data-bucket", "modules/execution-role", "modules/notebook-instance"])
def test_readme_documents_every_input_and_output(config: str) -> None:
    folder = TERRAFORM_DIR / config
    readme = (folder / "README.md").read_text()
    for kind, file in (("variable", "variables.tf"), ("output", "outputs.tf")):
        names = re.findall(rf'^{kind} "([^"]+)"', (folder / file).read_text(), re.MULTILINE)
        assert names, f"no {kind}s found in {file}"
        missing = [name for name in names if f"| `{name}` |" not in readme]
        assert not missing, f"{config}/README.md lacks table rows for these {kind}s: {missing}"


# Each case is a root variable value that breaks exactly one rule, and words of the message naming that rule.
MESSAGE_CASES = {
    "prefix_upper_case": ("name_prefix", "vgSales", "lowercase letters, digits and hyphens"),
    "prefix_too_short": ("name_prefix", "vg", "3 to 24 characters"),
    "prefix_too_long": ("name_prefix", "video-game-sales-workshop", "SageMaker names end at 63"),
    "prefix_leading_hyphen": ("name_prefix", "-vgsales", "must start with a lowercase letter"),
    "prefix_trailing_hyphen": ("name_prefix", "vgsales-", "must not end with a hyphen"),
    "prefix_double_hyphen": ("name_prefix", "vg--sales", "two hyphens in a row"),
    "prefix_reserved": ("name_prefix", "sthree-vgsales", "S3 reserves these bucket name prefixes"),
    "region": ("region", "mars-east-1", "offers SageMaker notebook instances"),
    "instance_type": ("notebook_instance_type", "t3.medium", 'starts with "ml."'),
}


# The name prefix table that the Python settings check is held to as well (tests/settings/test_name_rules.py).
NAME_TABLE = json.loads((TERRAFORM_DIR.parent / "tests/settings/name_prefixes.json").read_text(encoding="utf-8"))["cases"]
NAME_CASES = {f"name_table_{index}": ("name_prefix", case["name"], None) for index, case in enumerate(NAME_TABLE)}


@pytest.fixture(scope="module")
def validation_errors(run_command, terraform_bin: str, terraform_env: dict[str, str],
                      terraform_workdir: Path) -> dict[str, list[dict]]:
    """Diagnostics of `terraform test -json`, one file per case: files fail independently, so one run covers all.

    The run plans a module of the root's own variables.tf and nothing else. The rules are exactly the root's (the
    file refers to nothing beyond its variables; were that to change, init or the run would fail here), and a
    module without resources needs no provider: a file that plans the whole root starts the aws provider for its
    schema, about 1 s of CPU for each of the 30 cases."""
    module = terraform_workdir.parent / "root-variables"
    (module / "tests").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(terraform_workdir / "variables.tf", module / "variables.tf")
    cases = {**MESSAGE_CASES, **NAME_CASES}
    for case, (variable, value, _) in cases.items():
        (module / "tests" / f"{case}.tftest.hcl").write_text(
            textwrap.dedent(
                f"""\
                run "{case}" {{
                  command = plan

                  variables {{
                    {variable} = {json.dumps(value)}
                  }}
                }}
                """
            )
        )
    init = run_command([terraform_bin, "init", "-backend=false", "-no-color"], module, terraform_env)
    assert init.returncode == 0, init.describe()
    completed = run_command([terraform_bin, "test", "-json"], module, terraform_env)
    assert completed.returncode != 0, completed.describe()
    errors: dict[str, list[dict]] = {case: [] for case in cases}
    for line in completed.stdout.splitlines():
        message = json.loads(line)
        if message.get("type") == "diagnostic" and message["diagnostic"]["severity"] == "error":
            errors[Path(message["@testfile"]).name.removesuffix(".tftest.hcl")].append(message["diagnostic"])
    return errors


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_validation_message_names_the_rule(validation_errors: dict[str, list[dict]], case: str) -> None:
    variable, value, words = MESSAGE_CASES[case]
    errors = validation_errors[case]
    assert [error["summary"] for error in errors] == ["Invalid value for variable"], "only the broken rule may complain"
    values = {item["traversal"]: item["statement"] for item in errors[0]["snippet"]["values"]}
    assert values == {f"var.{variable}": f"is {json.dumps(value)}"}
    assert words in " ".join(errors[0]["detail"].split())


@pytest.mark.parametrize("index", range(len(NAME_TABLE)), ids=[f"{case['name']!r}" for case in NAME_TABLE])
def test_terraform_agrees_with_the_name_prefix_table(validation_errors: dict[str, list[dict]], index: int) -> None:
    case = NAME_TABLE[index]
    refused = [error for error in validation_errors[f"name_table_{index}"] if error["summary"] == "Invalid value for variable"]
    assert bool(refused) != case["valid"], f"{case['name']!r} ({case['why']}): valid={case['valid']}, Terraform: {refused}"


# --- checkov ------------------------------------------------------------------------------------------------


def test_checkov_finds_nothing(run_command, checkov_bin: str, tmp_path: Path) -> None:
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", LOG_LEVEL="ERROR")
    completed = run_command(
        [
            checkov_bin,
            "--directory",
            str(TERRAFORM_DIR),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
        ],
        tmp_path,
        env,
    )
    assert completed.returncode in (0, 1), completed.describe()  # 1 means failed checks, reported below
    reports = json.loads(completed.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    results = [report["results"] for report in reports]
    failed = [check for result in results for check in result["failed_checks"]]
    skipped = [check for result in results for check in result["skipped_checks"]]
    passed = sum(len(result["passed_checks"]) for result in results)
    assert not failed, "\n".join(f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in failed)
    assert passed >= 40, f"checkov checked suspiciously little: {passed} passed checks"
    unexplained = [c for c in skipped if len((c["check_result"].get("suppress_comment") or "").strip()) < 20]
    assert not unexplained, (
        f"every skip needs its reason inline: {[(c['check_id'], c['resource']) for c in unexplained]}"
    )


# --- lifecycle scripts --------------------------------------------------------------------------------------

RENDER_CONFIG = """\
variable "template" {
  type = string
}

variable "vars" {
  type = any
}

output "rendered" {
  value = templatefile(var.template, var.vars)
}
"""


def render(run_command, terraform: str, env: dict[str, str], workdir: Path, script: str, variables: dict) -> str:
    """A lifecycle script rendered by Terraform's own templatefile, with the variables the module passes."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "main.tf").write_text(RENDER_CONFIG)
    (workdir / "render.tfvars.json").write_text(json.dumps({"template": str(SCRIPTS_DIR / script), "vars": variables}))
    state = workdir / "render.tfstate"
    for args in (
        ["apply", "-auto-approve", "-no-color", "-var-file=render.tfvars.json", f"-state={state}"],
        ["output", "-no-color", f"-state={state}", "-raw", "rendered"],
    ):
        completed = run_command([terraform, *args], workdir, env)
        assert completed.returncode == 0, completed.describe()
    return completed.output


# As the root module passes them: its tags, the stack's last; a value with YAML's special characters.
SDK_TAGS = {"Project": "vgsales-workshop", "team": "a: b -@x", "vgsales:stack": STACK["name_prefix"]}


def on_start_variables(idle_timeout_minutes: int = 60) -> dict:
    # The same variables as local.on_start_script in modules/notebook-instance/main.tf.
    return {
        "stack_json": json.dumps(STACK, separators=(",", ":"), sort_keys=True),
        "stack_env": "\n".join(f"export VGSALES_{key.upper()}='{value}'" for key, value in sorted(STACK.items())),
        "idle_timeout_minutes": idle_timeout_minutes,
        "region": STACK["region"],
        "sdk_bucket": STACK["bucket_name"],
        "sdk_tags": SDK_TAGS,
        "workspace_folder": "video-game-sales",
        "kernel_name": "vgsales",
        "kernel_display_name": "Python 3 (vgsales)",
    }


def on_create_variables(bundle_s3_uri: str = BUNDLE_URI) -> dict:
    # The same variables as local.on_create_script in modules/notebook-instance/main.tf.
    return {"bundle_s3_uri": bundle_s3_uri, "workspace_folder": "video-game-sales", "region": STACK["region"]}


@pytest.fixture(scope="module")
def rendered(
    run_command, terraform_bin: str, terraform_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    base = tmp_path_factory.mktemp("render")
    tf = (run_command, terraform_bin, terraform_env)
    return {
        "on-start": render(*tf, base / "on-start", "on-start.sh", on_start_variables()),
        "on-start-no-idle-stop": render(
            *tf, base / "on-start-0", "on-start.sh", on_start_variables(idle_timeout_minutes=0)
        ),
        "on-create": render(*tf, base / "on-create", "on-create.sh", on_create_variables()),
        "on-create-no-bundle": render(
            *tf, base / "on-create-none", "on-create.sh", on_create_variables(bundle_s3_uri="")
        ),
    }


def write_executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("script", ["on-create.sh", "on-start.sh"])
def test_script_sources_are_lf_and_small(script: str) -> None:
    data = (SCRIPTS_DIR / script).read_bytes()
    assert b"\r" not in data, f"{script} has CR characters: SageMaker runs it with bash, which chokes on CRLF"
    assert data.startswith(b"#!/bin/bash\n")


@pytest.mark.parametrize("name", ["on-start", "on-start-no-idle-stop", "on-create", "on-create-no-bundle"])
def test_rendered_scripts_fit_sagemaker_limits(rendered: dict[str, str], name: str) -> None:
    script = rendered[name]
    assert "\r" not in script
    assert len(script) < 16384
    # SageMaker limits the base64-encoded content that the module sends.
    assert len(script.encode()) * 4 / 3 <= 16384


@pytest.mark.parametrize("name", ["on-start", "on-start-no-idle-stop", "on-create", "on-create-no-bundle"])
def test_rendered_scripts_are_shellcheck_clean(
    run_command, shellcheck_bin: str, rendered: dict[str, str], tmp_path: Path, name: str
) -> None:
    path = tmp_path / f"{name}.sh"
    path.write_text(rendered[name])
    completed = run_command([shellcheck_bin, "--shell=bash", "--severity=style", str(path)], tmp_path, dict(os.environ))
    assert completed.returncode == 0, completed.describe()


class FakeJupyter:
    """Answers /api/status and /api/kernels like the notebook instance's Jupyter server."""

    def __init__(self) -> None:
        self.last_activity = datetime.now(timezone.utc)
        self.busy = False
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.requests.append(self.path)
                path = self.path.split("?")[0]
                stamp = fake.last_activity.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                if path == "/api/status":
                    body = {"started": stamp, "last_activity": stamp, "connections": 1, "kernels": 1}
                elif path == "/api/kernels":
                    state = "busy" if fake.busy else "idle"
                    body = [
                        {
                            "id": "k1",
                            "name": "python3",
                            "last_activity": stamp,
                            "execution_state": state,
                            "connections": 1,
                        }
                    ]
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Sandbox:
    """A notebook instance's file system and commands, in a temporary folder.

    Stubs on PATH record their arguments: aws (and, for `aws s3 cp`, copies from a local folder standing in
    for S3) and systemctl. The user is whoever runs the tests, so chown works without root.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.home = base / "home"
        self.bin = base / "bin"
        self.s3 = base / "s3"
        self.calls = base / "calls"
        for folder in (self.root, self.home, self.bin, self.s3, self.calls):
            folder.mkdir(parents=True)
        metadata = self.root / "opt/ml/metadata/resource-metadata.json"
        metadata.parent.mkdir(parents=True)
        metadata.write_text(
            json.dumps(
                {
                    "ResourceArn": f"arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/{NOTEBOOK_NAME}",
                    "ResourceName": NOTEBOOK_NAME,
                }
            )
        )
        write_executable(
            self.bin / "aws",
            textwrap.dedent(
                f"""\
                #!/bin/bash
                echo "$*" >> {self.calls}/aws
                if [ "$1 $2" = "s3 cp" ]; then
                  for arg in "$@"; do case "$arg" in s3://*) source_path="{self.s3}/${{arg#s3://}}";; esac; done
                  destination="${{*: -1}}"
                  mkdir -p "$destination" && cp -R "$source_path/." "$destination/"
                fi
                """
            ),
        )
        write_executable(self.bin / "systemctl", f'#!/bin/bash\necho "$*" >> {self.calls}/systemctl\n')
        self.user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:{os.environ['PATH']}",
            "HOME": str(self.home),
            "VGSALES_ROOT": str(self.root),
            "VGSALES_NOTEBOOK_USER": self.user,
            "VGSALES_NOTEBOOK_HOME": str(self.home),
            **extra,
        }

    def run_script(self, script: str, **extra: str) -> subprocess.CompletedProcess:
        path = self.base / "script.sh"
        path.write_text(script)
        return subprocess.run(
            ["bash", str(path)], env=self.env(**extra), capture_output=True, text=True, timeout=60, check=False
        )

    def recorded(self, command: str) -> list[str]:
        path = self.calls / command
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


@pytest.fixture
def jupyter():
    server = FakeJupyter()
    yield server
    server.close()


def test_on_start_writes_the_stack_settings(sandbox: Sandbox, rendered: dict[str, str], jupyter: FakeJupyter) -> None:
    result = sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url)
    assert result.returncode == 0, result.stderr
    # AWS stops on-start after 5 minutes, so it only writes files: it calls no AWS API and asks Jupyter nothing.
    assert sandbox.recorded("aws") == [] and jupyter.requests == []

    stack_file = sandbox.home / ".vgsales" / "stack.json"
    assert json.loads(stack_file.read_text()) == STACK
    for path in (stack_file, sandbox.home / ".vgsales" / "stack.env"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert path.owner() == sandbox.user

    # A login shell of the notebook user sees the settings through ~/.bashrc.
    shell = subprocess.run(
        ["bash", "-c", f'. "{sandbox.home}/.bashrc"; env'],
        env={"HOME": str(sandbox.home), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    variables = dict(line.split("=", 1) for line in shell.stdout.splitlines() if line.startswith("VGSALES_"))
    assert variables == {
        "VGSALES_BUCKET_NAME": STACK["bucket_name"],
        "VGSALES_DATA_PREFIX": STACK["data_prefix"],
        "VGSALES_REGION": STACK["region"],
        "VGSALES_ROLE_ARN": STACK["role_arn"],
        "VGSALES_NAME_PREFIX": STACK["name_prefix"],
        "VGSALES_STACK_FILE": str(stack_file),
    }

    # The SageMaker SDK's default bucket is the stack's, so Session().default_bucket() creates nothing.
    sdk_config = sandbox.home / ".config" / "sagemaker" / "config.yaml"
    # No DefaultS3ObjectKeyPrefix: the SDK would prefix every key it writes (upload_data), behind the code's back.
    from sagemaker.core.config.config import validate_sagemaker_config

    validate_sagemaker_config(yaml.safe_load(sdk_config.read_text()))  # the SDK's own schema, as it loads the file
    config = yaml.safe_load(sdk_config.read_text())["SageMaker"]
    assert config["PythonSDK"]["Modules"]["Session"] == {"DefaultS3Bucket": STACK["bucket_name"]}
    # The stack's tags on every resource the SDK creates: what lets the role allow the SDK's default names.
    tags = [{"Key": key, "Value": value} for key, value in SDK_TAGS.items()]
    assert {resource: config[resource]["Tags"] for resource in config if resource != "PythonSDK"} == {
        resource: tags for resource in ("TrainingJob", "TransformJob", "Model", "EndpointConfig", "Endpoint")
    }
    assert sdk_config.owner() == sandbox.user and (sandbox.home / ".config").owner() == sandbox.user

    # Every start runs on-start again: the hook must not pile up.
    assert sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url).returncode == 0
    assert (sandbox.home / ".bashrc").read_text().count(".vgsales/stack.env") == 2  # one hook line names it twice

    # A config the user made their own (our first line deleted) is left alone at the next start.
    sdk_config.write_text("SchemaVersion: '1.0'\n# mine\n")
    assert sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url).returncode == 0
    assert sdk_config.read_text() == "SchemaVersion: '1.0'\n# mine\n"


def _installed_checker(sandbox: Sandbox) -> list[str]:
    """The idle-stop service's command line, as systemd would run it."""
    service = (sandbox.root / "etc/systemd/system/vgsales-idle-stop.service").read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    return exec_start.removeprefix("ExecStart=").split()


def _run_checker(sandbox: Sandbox) -> subprocess.CompletedProcess:
    # systemd gives services a bare PATH: the checker must not depend on the caller's.
    return subprocess.run(
        _installed_checker(sandbox),
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_on_start_installs_the_idle_stop_timer(
    curl_bin: str, sandbox: Sandbox, rendered: dict[str, str], jupyter: FakeJupyter
) -> None:
    result = sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url)
    assert result.returncode == 0, result.stderr

    timer = (sandbox.root / "etc/systemd/system/vgsales-idle-stop.timer").read_text()
    assert "OnUnitActiveSec=5min" in timer and "WantedBy=timers.target" in timer
    assert sandbox.recorded("systemctl") == ["daemon-reload", "enable --now vgsales-idle-stop.timer"]
    checker = _installed_checker(sandbox)
    assert Path(checker[0]).is_relative_to(sandbox.root) and os.access(checker[0], os.X_OK)

    # Active a minute ago: keeps running.
    jupyter.last_activity = datetime.now(timezone.utc) - timedelta(minutes=1)
    assert _run_checker(sandbox).returncode == 0
    assert sandbox.recorded("aws") == []

    # Idle for two hours, but a kernel is still computing: keeps running.
    jupyter.last_activity = datetime.now(timezone.utc) - timedelta(hours=2)
    jupyter.busy = True
    busy = _run_checker(sandbox)
    assert busy.returncode == 0 and "busy" in busy.stdout
    assert sandbox.recorded("aws") == []

    # Idle for two hours and nothing running: stops itself.
    jupyter.busy = False
    idle = _run_checker(sandbox)
    assert idle.returncode == 0, idle.stderr
    assert sandbox.recorded("aws") == [
        f"sagemaker stop-notebook-instance --region {STACK['region']} --notebook-instance-name {NOTEBOOK_NAME}"
    ]
    # Asking must not count as activity, or the instance would never be idle.
    assert jupyter.requests and all("no_track_activity=1" in path for path in jupyter.requests)


def test_idle_checker_leaves_the_instance_alone_when_jupyter_is_down(
    curl_bin: str, sandbox: Sandbox, rendered: dict[str, str], jupyter: FakeJupyter
) -> None:
    assert sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url).returncode == 0
    jupyter.close()
    result = _run_checker(sandbox)
    assert result.returncode == 0 and "not stopping" in result.stdout
    assert sandbox.recorded("aws") == []


def test_installed_idle_checker_is_shellcheck_clean(
    run_command, shellcheck_bin: str, sandbox: Sandbox, rendered: dict[str, str], jupyter: FakeJupyter
) -> None:
    assert sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url).returncode == 0
    checker = _installed_checker(sandbox)[0]
    completed = run_command([shellcheck_bin, "--severity=style", checker], sandbox.base, dict(os.environ))
    assert completed.returncode == 0, completed.describe()


def test_idle_timeout_zero_installs_no_timer(sandbox: Sandbox, rendered: dict[str, str]) -> None:
    result = sandbox.run_script(rendered["on-start-no-idle-stop"])
    assert result.returncode == 0, result.stderr
    assert json.loads((sandbox.home / ".vgsales/stack.json").read_text()) == STACK
    assert not (sandbox.root / "etc/systemd/system/vgsales-idle-stop.timer").exists()
    assert sandbox.recorded("systemctl") == []


def _fake_conda(sandbox: Sandbox, until_unlocked: Path | None = None) -> Path:
    """Stands in for conda_python3: a real Python environment (a venv) whose pip and ipykernel are recorders. They
    write their arguments, and the interpreter they ran under, to calls/pip and calls/ipykernel; the scripts reach
    them only through the workshop environment's link to conda_python3's packages. With ``until_unlocked``, pip
    runs until the test lets go of that lock file (or 30 s have passed: an install run in the foreground, which
    holds on-create up, then still ends, and the test says so)."""
    conda = sandbox.base / "conda-python3"
    subprocess.run(["python3", "-m", "venv", "--without-pip", str(conda)], check=True, capture_output=True)
    site = Path(subprocess.run([str(conda / "bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())  # fmt: skip
    wait = (
        f"import fcntl\nwith open({str(until_unlocked)!r}) as lock:\n    fcntl.flock(lock, fcntl.LOCK_EX)\n"
        if until_unlocked else ""
    )  # fmt: skip
    for module in ("pip", "ipykernel"):
        write_executable(site / module / "__init__.py", "")
        write_executable(site / module / "__main__.py", (
            f"import sys\n{wait if module == 'pip' else ''}"
            f"with open({str(sandbox.calls / module)!r}, 'a') as calls:\n"
            "    calls.write(sys.prefix + ' ' + ' '.join(sys.argv[1:]) + '\\n')\n"
        ))  # fmt: skip
    return conda / "bin" / "python"


def test_on_create_copies_the_bundle_and_installs_in_the_background(sandbox: Sandbox, rendered: dict[str, str]) -> None:
    bundle = sandbox.s3 / BUNDLE_URI.removeprefix("s3://")
    (bundle / "wheels").mkdir(parents=True)
    (bundle / "workshop.ipynb").write_text('{"cells": []}')
    (bundle / "requirements.txt").write_text("vgsales\n")
    (bundle / "vgsales-0.1.0-py3-none-any.whl").write_bytes(b"wheel")
    (bundle / "wheels" / "rich-14.3.4-py3-none-any.whl").write_bytes(b"wheel")
    lock = sandbox.base / "install.lock"
    lock.touch()
    python = _fake_conda(sandbox, until_unlocked=lock)

    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the install cannot end before this block does
        result = sandbox.run_script(rendered["on-create"], VGSALES_CONDA_PYTHON=str(python))
        assert result.returncode == 0, result.stderr
        assert sandbox.recorded("pip") == [], "on-create waited for the install instead of leaving it in the background"

    workspace = sandbox.home / "SageMaker" / "video-game-sales"
    assert (workspace / "workshop.ipynb").read_text() == '{"cells": []}'
    assert (workspace / "wheels" / "rich-14.3.4-py3-none-any.whl").is_file()
    assert workspace.owner() == sandbox.user and (workspace / "workshop.ipynb").owner() == sandbox.user
    assert sandbox.recorded("aws") == [
        f"s3 cp --recursive --only-show-errors --region {STACK['region']} {BUNDLE_URI} {workspace}"
    ]

    # The install goes on after on-create, into the workshop's own venv beside the notebooks (never conda_python3,
    # whose SDK v2 the project's sagemaker-core would overwrite), and ends once let go. Its pip is conda_python3's,
    # found through the venv's link to conda_python3's packages (so the record shows its arguments after -m pip).
    assert wait_until(lambda: sandbox.recorded("pip"), timeout=20, message="the background install to end") == [
        f"{workspace / '.venv'} install --quiet --find-links {workspace}/wheels -r {workspace}/requirements.txt "
        f"{workspace}/vgsales-0.1.0-py3-none-any.whl"
    ]
    assert wait_until(lambda: (workspace / "install.log").read_text().splitlines()[-1:], timeout=20,
                      message="the install's last line") == ["vgsales on-create: installed"]  # fmt: skip
    assert (workspace / ".venv").owner() == sandbox.user


def test_on_create_says_in_its_log_when_the_install_fails(sandbox: Sandbox, rendered: dict[str, str]) -> None:
    bundle = sandbox.s3 / BUNDLE_URI.removeprefix("s3://")
    bundle.mkdir(parents=True)
    (bundle / "requirements.txt").write_text("vgsales\n")
    python = _fake_conda(sandbox)
    pip_main = next((sandbox.base / "conda-python3").rglob("pip/__main__.py"))
    pip_main.write_text("import sys\nprint('ERROR: No matching distribution found for vgsales')\nsys.exit(3)\n")
    assert sandbox.run_script(rendered["on-create"], VGSALES_CONDA_PYTHON=str(python)).returncode == 0
    log = sandbox.home / "SageMaker" / "video-game-sales" / "install.log"
    # pip's own lines come first; the wrapper's verdict is the last, once pip has ended.
    ended = wait_until(lambda: [line for line in log.read_text().splitlines() if line.startswith("vgsales on-create:")],
                       timeout=20, message="the install's verdict")  # fmt: skip
    assert log.read_text().splitlines()[-1:] == ended == ["vgsales on-create: the install failed (exit 3)"]
    assert "No matching distribution found for vgsales" in log.read_text()


def test_on_start_registers_the_workshop_kernel_once_on_create_made_its_environment(
    sandbox: Sandbox, rendered: dict[str, str], jupyter: FakeJupyter
) -> None:
    from vgsales.infra import bundle

    result = sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url)
    assert result.returncode == 0, result.stderr
    assert "no workshop environment" in result.stdout and sandbox.recorded("ipykernel") == []

    python = _fake_conda(sandbox)
    (sandbox.s3 / BUNDLE_URI.removeprefix("s3://")).mkdir(parents=True)
    (sandbox.s3 / BUNDLE_URI.removeprefix("s3://") / "requirements.txt").write_text("vgsales\n")
    assert sandbox.run_script(rendered["on-create"], VGSALES_CONDA_PYTHON=str(python)).returncode == 0
    result = sandbox.run_script(rendered["on-start"], VGSALES_JUPYTER_URL=jupyter.url)
    assert result.returncode == 0, result.stderr
    env = sandbox.home / "SageMaker" / "video-game-sales" / ".venv"
    # The kernel the bundle's notebooks name, run by the workshop environment's interpreter.
    assert sandbox.recorded("ipykernel") == [
        f"{env} install --user --name {bundle.INSTANCE_KERNEL['name']} --display-name {bundle.INSTANCE_KERNEL['display_name']}"
    ]


def test_the_module_passes_the_kernel_the_bundle_names() -> None:
    """on-start registers the kernel under the name main.tf gives it; the bundle's notebooks open in that name."""
    from vgsales.infra import bundle

    main = (TERRAFORM_DIR / "modules/notebook-instance/main.tf").read_text()
    passed = dict(re.findall(r'^\s*(kernel_name|kernel_display_name)\s*=\s*"([^"]*)"', main, re.MULTILINE))
    assert passed == {"kernel_name": bundle.INSTANCE_KERNEL["name"],
                      "kernel_display_name": bundle.INSTANCE_KERNEL["display_name"]}  # fmt: skip


def test_on_create_without_a_bundle_only_makes_the_folder(sandbox: Sandbox, rendered: dict[str, str]) -> None:
    result = sandbox.run_script(rendered["on-create-no-bundle"], VGSALES_CONDA_PYTHON=str(_fake_conda(sandbox)))
    assert result.returncode == 0, result.stderr
    assert (sandbox.home / "SageMaker" / "video-game-sales").is_dir()
    assert sandbox.recorded("aws") == []
    assert "nothing to install" in result.stdout


# --- the execution role's image registries ------------------------------------------------------------------


def _algorithm_image_accounts() -> dict[str, str]:
    """The default of the execution-role module's algorithm_image_accounts, read from variables.tf."""
    text = (TERRAFORM_DIR / "modules/execution-role/variables.tf").read_text()
    block = text[text.index('variable "algorithm_image_accounts"') :]
    block = block[block.index("default = {") : block.index("}")]
    return dict(re.findall(r'"([a-z0-9-]+)"\s*=\s*"([0-9]{12})"', block))


def test_the_role_pulls_from_the_registries_the_sagemaker_sdk_names() -> None:
    """ECR pull is granted in one account per region; it must be the account the SDK's image_uris.retrieve uses
    for every pinned XGBoost image (1.x and later), for training and hosting, in every region the settings allow."""
    from sagemaker.core import image_uris

    from vgsales.settings import SAGEMAKER_REGIONS

    accounts = _algorithm_image_accounts()
    assert set(accounts) == set(SAGEMAKER_REGIONS)
    config = image_uris.config_for_framework("xgboost")
    for scope in ("training", "inference"):
        for version, spec in config[scope]["versions"].items():
            if not re.fullmatch(r"[1-9][0-9]*\.[0-9]+-[0-9]+", version):  # "1" and "0.90-*" are older images
                continue
            for region in SAGEMAKER_REGIONS:
                assert spec["registries"][region] == accounts[region], (scope, version, region)
    uri = image_uris.retrieve("xgboost", "eu-west-1", "3.2-0")
    assert uri.startswith(f"{accounts['eu-west-1']}.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:")

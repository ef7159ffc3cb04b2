"""The notebook bundle that on-create copies onto a notebook instance and installs into conda_python3."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vgsales.errors import WorkshopError
from vgsales.infra import bundle

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("bundle-cache")


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache) -> Path:
    dest = tmp_path_factory.mktemp("bundle") / "video-game-sales"
    assert bundle.build_bundle(dest, cache_dir=cache) is True, "a new cache: built"
    return dest


def wheel_of(folder: Path) -> Path:
    (wheel,) = folder.glob("vgsales-*.whl")
    return wheel


def test_the_bundle_holds_what_on_create_installs_and_the_notebooks_read(built) -> None:
    names = sorted(path.name for path in built.iterdir())
    expected = [*bundle.NOTEBOOKS, "invoke.yaml", "requirements.txt", bundle.MANIFEST, wheel_of(built).name]
    assert names == sorted(expected)
    assert (built / "invoke.yaml").read_bytes() == (PROJECT_ROOT / "invoke.yaml").read_bytes()
    manifest = json.loads((built / bundle.MANIFEST).read_text())
    assert manifest["package"] == wheel_of(built).name
    assert set(manifest["files"]) == set(names) - {bundle.MANIFEST}


def test_bundle_notebooks_open_with_the_instance_kernel_and_keep_their_cells(built) -> None:
    for name in bundle.NOTEBOOKS:
        original = json.loads((PROJECT_ROOT / "notebooks" / name).read_text(encoding="utf-8"))
        copied = json.loads((built / name).read_text(encoding="utf-8"))
        # The workshop environment's kernel, which on-start registers; not conda_python3, whose SDK v2 the
        # project's sagemaker-core would overwrite.
        assert copied["metadata"]["kernelspec"]["name"] == "vgsales"
        assert copied["cells"] == original["cells"]


def test_the_wheel_has_the_package_and_metadata_for_python_3_10(built) -> None:
    with zipfile.ZipFile(wheel_of(built)) as wheel:
        files = set(wheel.namelist())
        (metadata_name,) = [name for name in files if name.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(wheel.read(metadata_name))
    for module in ("notebook.py", "explore.py", "evaluation/tradeoff.py", "algorithm/hyperparameters.py", "settings.py",
                   "targets/aws.py", "pipeline/train.py", "infra/bundle.py",
                   "py.typed"):
        assert f"vgsales/{module}" in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert metadata["Name"] == "vgsales"
    assert metadata["Requires-Python"] == ">=3.10"
    requirements = metadata.get_all("Requires-Dist")
    assert any(requirement.startswith("sagemaker-core") for requirement in requirements)


def test_the_wheel_installs_and_its_notebook_module_imports(built, tmp_path) -> None:
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site),
               str(wheel_of(built))]
    subprocess.run(install, check=True, capture_output=True, timeout=120)
    probe = "import vgsales.notebook, vgsales.explore, vgsales.evaluation.tradeoff; print(vgsales.notebook.__file__)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True,
                            env={**os.environ, "PYTHONPATH": str(site)})
    assert Path(result.stdout.strip()).is_relative_to(site)


def test_instance_requirements_pin_what_the_project_pins(built) -> None:
    lines = (built / "requirements.txt").read_text().splitlines()
    pinned = [line for line in lines if line and not line.startswith("#")]
    project = (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
    assert [line.split("==")[0].split("[")[0] for line in pinned] == list(bundle.INSTANCE_PINS)
    assert all(line in project for line in pinned)
    # Never numpy and friends: replacing them under conda's compiled packages breaks the environment.
    assert not {"numpy", "pandas", "scikit-learn", "matplotlib"} & {line.split("==")[0] for line in pinned}


def test_a_missing_pin_is_a_clear_error(tmp_path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.44.8\nsagemaker-core>=2\n")
    with pytest.raises(WorkshopError, match="no exact pin .* for sagemaker-core, invoke"):
        bundle.instance_requirements(requirements)


def test_building_again_replaces_the_previous_bundle(built, cache, tmp_path) -> None:
    dest = tmp_path / "again"
    shutil.copytree(built, dest)
    (dest / "vgsales-0.0.1-py3-none-any.whl").write_bytes(b"stale")
    bundle.build_bundle(dest, cache_dir=cache)
    assert [path.name for path in dest.glob("*.whl")] == [wheel_of(built).name]
    assert oct(dest.stat().st_mode & 0o777) == oct(0o755)


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_an_unchanged_bundle_is_not_built_again(built, cache, tmp_path) -> None:
    """Same inputs: kept where it is, or copied from the cache into a new state folder; same bytes either way."""
    assert bundle.build_bundle(built, cache_dir=cache) is False
    fresh = tmp_path / "fresh" / "video-game-sales"
    assert bundle.build_bundle(fresh, cache_dir=cache) is False, "from the cache"
    assert _files(fresh) == _files(built)
    (fresh / "invoke.yaml").write_text("tampered")  # a bundle that no longer matches its manifest is rebuilt
    assert bundle.build_bundle(fresh, cache_dir=cache) is False and _files(fresh) == _files(built)


def test_a_changed_source_file_builds_a_new_bundle(built, cache, tmp_path) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT, project, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "data"))
    before = bundle.input_digest(project, bundle.INSTANCE_KERNEL)
    (project / "src" / "vgsales" / "errors.py").write_text((project / "src/vgsales/errors.py").read_text() + "\n# changed\n")
    assert bundle.input_digest(project, bundle.INSTANCE_KERNEL) != before
    assert bundle.build_bundle(tmp_path / "b1", project_dir=project, cache_dir=cache) is True


def test_a_folder_that_is_not_a_bundle_is_never_emptied(tmp_path) -> None:
    keep = tmp_path / "my-work" / "notes.txt"
    keep.parent.mkdir()
    keep.write_text("precious")
    with pytest.raises(WorkshopError, match="not overwritten"):
        bundle.build_bundle(keep.parent)
    assert keep.read_text() == "precious"


def test_a_source_tree_without_notebooks_is_refused(tmp_path) -> None:
    with pytest.raises(WorkshopError, match="lacks .*notebooks/cht-video-game-sales-xgboost.ipynb"):
        bundle.build_bundle(tmp_path / "bundle", project_dir=tmp_path)


def test_the_bundle_resolves_for_the_instance_python_3_10(built, tmp_path) -> None:
    """pip's resolver, asked for CPython 3.10 on manylinux, finds every requirement of the wheel and the pins.

    This needs the package index; python-terraform ships only a source archive, so it is built into a wheel first
    (on the instance, pip builds it the same way).
    """
    extra = tmp_path / "extra"
    pip = [sys.executable, "-m", "pip"]
    built_terraform = subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(extra),
                                      "python-terraform==0.10.1"], check=False, capture_output=True, text=True,
                                     timeout=300)
    if built_terraform.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"the package index is needed in CI: {built_terraform.stderr[-500:]}")
        pytest.skip(f"the package index is unreachable: {built_terraform.stderr[-300:]}")
    report = tmp_path / "report.json"
    resolve = [*pip, "install", "--dry-run", "--ignore-installed", "--quiet", "--python-version", "3.10",
               "--implementation", "cp", "--abi", "cp310", "--platform", "manylinux_2_28_x86_64",
               "--platform", "manylinux2014_x86_64", "--only-binary=:all:", "--find-links", str(extra),
               "--target", str(tmp_path / "target"), "--report", str(report),
               "-r", str(built / "requirements.txt"), str(wheel_of(built))]
    result = subprocess.run(resolve, check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    installed = {item["metadata"]["name"].lower(): item["metadata"]["version"]
                 for item in json.loads(report.read_text())["install"]}
    assert installed["vgsales"] == "0.1.0"
    assert installed["sagemaker-core"] == "2.27.0"
    for name in ("pandas", "numpy", "scikit-learn", "matplotlib", "boto3"):
        assert name in installed
    # The emulator and Terraform run on the learner's machine only: their packages are extras, not installed here.
    for name in ("xgboost-cpu", "moto", "uvicorn", "a2wsgi", "optuna", "python-terraform"):
        assert name not in installed

"""The notebook bundle: what a new notebook instance finds in ~/SageMaker/video-game-sales/.

`invoke setup` builds it and passes its folder to Terraform (`notebook_bundle_dir`), which uploads it to the
stack's bucket; the lifecycle configuration's on-create script copies it onto the instance and pip-installs
its requirements.txt and wheel into the workshop's own environment, a venv beside the notebooks over conda_python3
(Python 3.10 on AL2023), whose kernel on-start registers. Not into conda_python3 itself: this project's
sagemaker-core 2.x installs `sagemaker/__init__.py` over the SageMaker Python SDK v2 that AWS preinstalls there.
It holds:

- both workshop notebooks, their kernel set to that environment's (INSTANCE_KERNEL);
- invoke.yaml, the project's settings, which the notebooks read (vgsales.notebook.discover);
- a wheel of this package, built from the source tree, and requirements.txt with the pins the instance needs;
- bundle.json, what was built from which source, for anyone debugging an instance.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from .. import targets
from ..errors import WorkshopError

PROJECT_DIR = Path(__file__).resolve().parents[3]
NOTEBOOKS = ("cht-video-game-sales-xgboost.ipynb", "video-game-sales-xgboost.ipynb")
# The kernel on-start registers (terraform/modules/notebook-instance/main.tf passes the same name; a test holds them
# equal).
INSTANCE_KERNEL = {"name": "vgsales", "display_name": "Python 3 (vgsales)", "language": "python"}
MANIFEST = "bundle.json"
# Pinned on the instance exactly as in requirements.txt: the SDK whose behaviour the pipeline relies on, and
# invoke, which reads the settings. The emulator and Terraform never run there: their packages are the wheel's
# extras (emulator, infra), which the instance does not install. Everything else installs from the wheel's ranges,
# so conda_python3's numpy, pandas, scikit-learn, matplotlib and boto3 serve when they satisfy them (a newer numpy in
# front of conda's compiled packages would break them).
INSTANCE_PINS = ("sagemaker-core", "invoke")
# Source files the wheel is built from; nothing else of the tree (state, caches, venvs) gets near the build.
_SOURCE_FILES = ("pyproject.toml", "README.md", "LICENSE")
_BUILD_REQUIREMENT = re.compile(r"setuptools\s*>=\s*([0-9][0-9.]*)")
PIP_TIMEOUT_SECONDS = 300
WHEEL_TIMESTAMP = 315532800  # 1980-01-01, the earliest time a zip file can record


def build_bundle(
    dest: Path,
    project_dir: Path = PROJECT_DIR,
    kernel: dict[str, str] | None = None,
    cache_dir: Path | None = None,
) -> bool:
    """Assemble the bundle in ``dest`` (replacing a bundle built there before); True if anything was built.

    ``dest`` must be empty, missing, or a bundle this function built: it is replaced whole, so that Terraform,
    which uploads every file in it, never uploads a stale wheel. Building the wheel takes seconds, so a bundle
    is reused when its inputs (every source file, the notebooks, the settings, the pins, the kernel and the
    build tools) have the same digest: as it is in ``dest``, or from ``cache_dir`` (default: the user's cache
    folder), which keeps the last few bundles built on this machine.
    """
    dest = Path(dest).resolve()
    project_dir = Path(project_dir).resolve()
    kernel = kernel or INSTANCE_KERNEL
    _require_source_tree(project_dir)
    _require_replaceable(dest)
    inputs = input_digest(project_dir, kernel)
    if _holds_bundle(dest, inputs):
        return False
    cache = (cache_dir or default_cache_dir()) / inputs
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would survive the rename
    try:
        built = not _holds_bundle(cache, inputs)
        if built:
            _assemble(staging, project_dir, kernel, inputs)
            _store(staging, cache)
        else:
            for path in cache.iterdir():
                shutil.copy2(path, staging / path.name)
        if dest.exists():
            shutil.rmtree(dest)
        staging.rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return built


def _assemble(staging: Path, project_dir: Path, kernel: dict[str, str], inputs: str) -> None:
    for name in NOTEBOOKS:
        _copy_notebook(project_dir / "notebooks" / name, staging / name, kernel)
    shutil.copy2(project_dir / "invoke.yaml", staging / "invoke.yaml")
    wheel = build_wheel(project_dir, staging)
    (staging / "requirements.txt").write_text(instance_requirements(project_dir / "requirements.txt"))
    _write_manifest(staging, project_dir, wheel, inputs)


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vgsales" / "notebook-bundles"


def input_digest(project_dir: Path, kernel: dict[str, str]) -> str:
    """sha256 over everything a bundle is built from, and the tools that build it."""
    digest = hashlib.sha256(json.dumps([str(project_dir), kernel], sort_keys=True).encode())
    digest.update(f"{sys.version_info[:3]} {_tool_version('setuptools')} {_tool_version('pip')}".encode())
    names = [*_SOURCE_FILES, "invoke.yaml", "requirements.txt", *(f"notebooks/{name}" for name in NOTEBOOKS)]
    files = [project_dir / name for name in names if (project_dir / name).is_file()]
    files += sorted(
        path for path in (project_dir / "src").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc")
        and not any(part.endswith(".egg-info") for part in path.parts)
    )  # fmt: skip
    for path in files:
        digest.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _holds_bundle(folder: Path, inputs: str) -> bool:
    """A complete bundle built from these inputs: its manifest says so, and every file matches the manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("inputs") != inputs:
            return False
        present = {path.name for path in folder.iterdir() if path.is_file()} - {MANIFEST}
        files = manifest["files"]
        return present == set(files) and all(
            hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha for name, sha in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


CACHED_BUNDLES = 3


def _store(bundle: Path, cache: Path) -> None:
    """Keep a copy in the cache (best effort: a read-only home only costs the next build)."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".incoming.", dir=cache.parent))
        for path in bundle.iterdir():
            shutil.copy2(path, scratch / path.name)
        if cache.exists():
            shutil.rmtree(cache)
        scratch.rename(cache)
        entries = sorted((p for p in cache.parent.iterdir() if p.is_dir() and not p.name.startswith(".")),
                         key=lambda p: p.stat().st_mtime)  # fmt: skip
        for old in entries[:-CACHED_BUNDLES]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass


def _tool_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def build_wheel(project_dir: Path, out_dir: Path) -> Path:
    """A wheel of the package with `pip wheel --no-deps`, built from a clean copy of the sources.

    Built without pip's isolated build environment when the installed setuptools satisfies the project's
    build requirement (offline and faster); otherwise pip fetches setuptools from the configured index. pip is
    not an AWS client: it runs in the user's own environment, never the target's (the emulator's proxy would
    refuse the package index, and the target's credentials are none of pip's business).
    """
    with tempfile.TemporaryDirectory(prefix="vgsales-wheel-") as scratch:
        source = Path(scratch) / "source"
        source.mkdir()
        for name in _SOURCE_FILES:
            if (project_dir / name).is_file():
                shutil.copy2(project_dir / name, source / name)
        shutil.copytree(project_dir / "src", source / "src",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        wheels = Path(scratch) / "wheels"
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels)]
        if _installed_setuptools_suffices(project_dir):
            command.append("--no-build-isolation")
        command.append(str(source))
        # A fixed timestamp inside the wheel: the same sources build the same bytes (see _write_manifest).
        env = {**targets.own_environment(), "SOURCE_DATE_EPOCH": str(WHEEL_TIMESTAMP)}
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False, env=env
            )
        except subprocess.TimeoutExpired:
            raise WorkshopError(
                f"Building the vgsales wheel for the notebook bundle took over {PIP_TIMEOUT_SECONDS} s. pip may be "
                f"waiting for the package index to fetch setuptools>={_required_setuptools(project_dir)}: check "
                "your network or pip configuration (`pip download setuptools` shows what pip gets), or install "
                "that setuptools into this environment, which lets the build skip the index."
            ) from None
        built = sorted(wheels.glob("vgsales-*.whl"))
        if result.returncode != 0 or len(built) != 1:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            raise WorkshopError(
                "Building the vgsales wheel for the notebook bundle failed (`pip wheel --no-deps`, run in your own "
                f"environment, as pip would run in your shell). pip said:\n{tail}\nFix the cause (pip could not "
                f"fetch setuptools>={_required_setuptools(project_dir)} from its index, or pyproject.toml is "
                "broken) and run `invoke setup` again; `pip install 'setuptools>="
                f"{_required_setuptools(project_dir)}'` in this environment lets the build skip the index."
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(built[0], out_dir / built[0].name))


def instance_requirements(requirements: Path) -> str:
    """requirements.txt for the instance: the project's exact pins of INSTANCE_PINS, nothing else."""
    pins = {}
    for line in Path(requirements).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*(\S+)", line)
        if match and _normalized(match.group(1)) in {_normalized(name) for name in INSTANCE_PINS}:
            pins[_normalized(match.group(1))] = line
    missing = [name for name in INSTANCE_PINS if _normalized(name) not in pins]
    if missing:
        raise WorkshopError(
            f"{requirements} has no exact pin (name==version) for {', '.join(missing)}, which the notebook "
            "instance installs at those versions. Restore the pins in requirements.txt."
        )
    header = (
        "# Installed by the notebook instance's on-create script into .venv beside this file, a venv over\n"
        "# conda_python3 (Python 3.10), together with the vgsales wheel. Pinned here: what must match the\n"
        "# versions the project is tested with. Everything else comes from the wheel's version ranges, so\n"
        "# conda_python3's numpy, pandas, scikit-learn and matplotlib serve when they satisfy them.\n"
    )
    return header + "".join(f"{pins[_normalized(name)]}\n" for name in INSTANCE_PINS)


def _copy_notebook(source: Path, target: Path, kernel: dict[str, str]) -> None:
    """The notebook with the instance's kernel, so Jupyter opens it without asking which kernel to use."""
    document = json.loads(source.read_text(encoding="utf-8"))
    document.setdefault("metadata", {})["kernelspec"] = dict(kernel)
    target.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_manifest(staging: Path, project_dir: Path, wheel: Path, inputs: str) -> None:
    files = sorted(path for path in staging.iterdir() if path.is_file())
    # No build time: the same sources must give the same bytes, or every `invoke setup` would re-upload the
    # bundle and report a change.
    manifest = {
        "source": str(project_dir),
        "inputs": inputs,
        "package": wheel.name,
        "files": {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in files},
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def _require_source_tree(project_dir: Path) -> None:
    needed = ["pyproject.toml", "invoke.yaml", "requirements.txt", "src/vgsales"]
    needed += [f"notebooks/{name}" for name in NOTEBOOKS]
    missing = [name for name in needed if not (project_dir / name).exists()]
    if missing:
        raise WorkshopError(
            f"Cannot build the notebook bundle: {project_dir} lacks {', '.join(missing)}. The bundle is built "
            "from the project's source folder; run `invoke setup` from a complete checkout."
        )


def _require_replaceable(dest: Path) -> None:
    if not dest.exists():
        return
    if not dest.is_dir():
        raise WorkshopError(f"The notebook bundle folder {dest} is a file; remove it or choose another folder.")
    if any(dest.iterdir()) and not (dest / MANIFEST).is_file():
        raise WorkshopError(
            f"The folder {dest} is not empty and holds no {MANIFEST}, so it is not a notebook bundle built "
            "before. It is not overwritten: choose an empty or new folder for the bundle."
        )


def _required_setuptools(project_dir: Path) -> str:
    match = _BUILD_REQUIREMENT.search((project_dir / "pyproject.toml").read_text())
    return match.group(1) if match else "0"


def _installed_setuptools_suffices(project_dir: Path) -> bool:
    try:
        installed = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    return _version_tuple(installed) >= _version_tuple(_required_setuptools(project_dir))


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()

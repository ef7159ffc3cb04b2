#!/bin/bash
# on-create: runs once as root when the notebook instance is created; AWS stops it after 5 minutes.
# Copies the workshop bundle from the stack's bucket into ~/SageMaker/<folder>, makes the workshop's Python
# environment beside it (<folder>/.venv, over conda_python3) and starts installing the bundle's packages there in
# the background, so that the script takes seconds. on-start registers the environment's Jupyter kernel.
# The bundle comes from S3 only: without direct internet access the instance reaches S3 through the VPC's
# S3 endpoint. Put dependency wheels into the bundle's wheels/ folder when PyPI is out of reach too.
# Terraform renders this file with templatefile, so in the source a shell expansion with braces has its dollar
# doubled. The VGSALES_* overrides exist so that tests can run this script in a sandbox.
set -euo pipefail

NB_USER="$${VGSALES_NOTEBOOK_USER:-ec2-user}"
HOME_DIR="$${VGSALES_NOTEBOOK_HOME:-/home/$NB_USER}"
CONDA_PYTHON="$${VGSALES_CONDA_PYTHON:-$HOME_DIR/anaconda3/envs/python3/bin/python}"
WORKSPACE="$HOME_DIR/SageMaker/${workspace_folder}"
ENV_DIR="$WORKSPACE/.venv"
BUNDLE_URI='${bundle_s3_uri}'
REGION='${region}'
INSTALL_LOG="$WORKSPACE/install.log"

log() { echo "vgsales on-create: $*"; }

as_notebook_user() {
  if [ "$(id -un)" = "$NB_USER" ]; then "$@"; else sudo -u "$NB_USER" -H -- "$@"; fi
}

mkdir -p "$WORKSPACE"
if [ -n "$BUNDLE_URI" ]; then
  log "copying $BUNDLE_URI to $WORKSPACE"
  aws s3 cp --recursive --only-show-errors --region "$REGION" "$BUNDLE_URI" "$WORKSPACE"
fi
chown -R "$NB_USER:" "$HOME_DIR/SageMaker"

pip_args=()
if [ -d "$WORKSPACE/wheels" ]; then
  pip_args+=(--find-links "$WORKSPACE/wheels")
fi
packages=()
if [ -f "$WORKSPACE/requirements.txt" ]; then
  packages+=(-r "$WORKSPACE/requirements.txt")
fi
shopt -s nullglob
packages+=("$WORKSPACE"/*.whl)

if [ "$${#packages[@]}" -eq 0 ]; then
  log "the bundle has no requirements.txt or wheel: nothing to install"
  exit 0
fi
if [ ! -x "$CONDA_PYTHON" ]; then
  log "no conda_python3 environment at $CONDA_PYTHON: not installing"
  exit 0
fi

# A venv of its own, not conda_python3 itself: the project's sagemaker-core 2.x (SageMaker Python SDK v3) installs
# sagemaker/__init__.py over the SDK v2 that AWS preinstalls in conda_python3, and every notebook written for SDK v2
# would stop importing. The venv reads conda_python3's packages after its own (a .pth line rather than
# --system-site-packages, which reads the base interpreter's, not conda_python3's, where conda_python3 is itself a
# venv), so nothing preinstalled is downloaded again. In the volume, it survives a stop.
as_notebook_user "$CONDA_PYTHON" -m venv --without-pip "$ENV_DIR"
conda_site="$("$CONDA_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
as_notebook_user "$ENV_DIR/bin/python" -c '
import pathlib, sys, sysconfig
line = f"import site; site.addsitedir({sys.argv[1]!r})\n"
pathlib.Path(sysconfig.get_paths()["purelib"], "conda-python3.pth").write_text(line)
' "$conda_site"

: > "$INSTALL_LOG"
chown "$NB_USER:" "$INSTALL_LOG"
log "installing the bundle's packages into $ENV_DIR in the background; see $INSTALL_LOG"
# The last line of the log says how it ended: the notebooks tell the learner to wait for it.
# shellcheck disable=SC2016
as_notebook_user setsid nohup bash -c '
  if "$@"; then echo "vgsales on-create: installed"; else echo "vgsales on-create: the install failed (exit $?)"; fi
' install "$ENV_DIR/bin/python" -m pip install --quiet "$${pip_args[@]}" "$${packages[@]}" \
  >> "$INSTALL_LOG" 2>&1 < /dev/null &

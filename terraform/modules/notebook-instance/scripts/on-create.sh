#!/bin/bash
# on-create: runs once as root when the notebook instance is created; AWS stops it after 5 minutes.
# Copies the workshop bundle from the stack's bucket into ~/SageMaker/<folder> and starts installing its
# Python packages into the conda_python3 environment in the background, so that the script takes seconds.
# The bundle comes from S3 only: without direct internet access the instance reaches S3 through the VPC's
# S3 endpoint. Put dependency wheels into the bundle's wheels/ folder when PyPI is out of reach too.
# Terraform renders this file with templatefile, so in the source a shell expansion with braces has its dollar
# doubled. The VGSALES_* overrides exist so that tests can run this script in a sandbox.
set -euo pipefail

NB_USER="$${VGSALES_NOTEBOOK_USER:-ec2-user}"
HOME_DIR="$${VGSALES_NOTEBOOK_HOME:-/home/$NB_USER}"
CONDA_PYTHON="$${VGSALES_CONDA_PYTHON:-$HOME_DIR/anaconda3/envs/python3/bin/python}"
WORKSPACE="$HOME_DIR/SageMaker/${workspace_folder}"
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

: > "$INSTALL_LOG"
chown "$NB_USER:" "$INSTALL_LOG"
log "installing the bundle's packages into conda_python3 in the background; see $INSTALL_LOG"
as_notebook_user setsid nohup "$CONDA_PYTHON" -m pip install --quiet "$${pip_args[@]}" "$${packages[@]}" \
  >> "$INSTALL_LOG" 2>&1 < /dev/null &

#!/bin/bash
# on-start: runs as root at every start of the notebook instance; AWS stops it after 5 minutes, so it only
# writes files. Only ~/SageMaker survives a stop, so everything here is rewritten at each start.
#  1. the stack's settings for ec2-user: ~/.vgsales/stack.json (for Python) and ~/.vgsales/stack.env (shells),
#     and the SageMaker SDK's config, ~/.config/sagemaker/config.yaml, naming the stack's bucket as the SDK's
#     default bucket and the stack's tags as its default tags, so that code written for SageMaker (the original
#     notebook, with the SDK's default names) runs unchanged;
#  2. the Jupyter kernel of the workshop's environment (~/SageMaker/<folder>/.venv, which on-create made), for
#     ec2-user: ~/.local is not on the volume, so it is registered again at every start;
#  3. the idle auto-stop job: a systemd timer (AL2 and AL2023 both boot systemd; neither has initctl, AL2023
#     has no cron) that runs a small checker every 5 minutes. Nothing is downloaded.
# Terraform renders this file with templatefile, so in the source a shell expansion with braces has its dollar
# doubled. The VGSALES_* overrides exist so that tests can run this script in a sandbox.
set -euo pipefail

NB_USER="$${VGSALES_NOTEBOOK_USER:-ec2-user}"
HOME_DIR="$${VGSALES_NOTEBOOK_HOME:-/home/$NB_USER}"
ROOT="$${VGSALES_ROOT:-}"
SETTINGS_DIR="$HOME_DIR/.vgsales"
IDLE_TIMEOUT_MINUTES=${idle_timeout_minutes}
REGION='${region}'
ENV_DIR="$HOME_DIR/SageMaker/${workspace_folder}/.venv"
KERNEL_NAME='${kernel_name}'
KERNEL_DISPLAY_NAME='${kernel_display_name}'

log() { echo "vgsales on-start: $*"; }

as_notebook_user() {
  if [ "$(id -un)" = "$NB_USER" ]; then "$@"; else sudo -u "$NB_USER" -H -- "$@"; fi
}

mkdir -p "$SETTINGS_DIR"
cat > "$SETTINGS_DIR/stack.json" <<'VGSALES_STACK_JSON'
${stack_json}
VGSALES_STACK_JSON
cat > "$SETTINGS_DIR/stack.env" <<'VGSALES_STACK_ENV'
${stack_env}
VGSALES_STACK_ENV
printf 'export VGSALES_STACK_FILE=%q\n' "$SETTINGS_DIR/stack.json" >> "$SETTINGS_DIR/stack.env"
chmod 0644 "$SETTINGS_DIR/stack.json" "$SETTINGS_DIR/stack.env"
chown -R "$NB_USER:" "$SETTINGS_DIR"

# ~ on purpose: the line is read by ec2-user's shell.
# shellcheck disable=SC2016
HOOK='[ -f ~/.vgsales/stack.env ] && . ~/.vgsales/stack.env'
if ! grep -qxF "$HOOK" "$HOME_DIR/.bashrc" 2>/dev/null; then
  echo "$HOOK" >> "$HOME_DIR/.bashrc"
  chown "$NB_USER:" "$HOME_DIR/.bashrc"
fi
log "wrote $SETTINGS_DIR/stack.json and stack.env"

# ipykernel comes from conda_python3, which the environment reads after its own packages (on-create.sh).
if [ -x "$ENV_DIR/bin/python" ]; then
  as_notebook_user "$ENV_DIR/bin/python" -m ipykernel install --user --name "$KERNEL_NAME" \
    --display-name "$KERNEL_DISPLAY_NAME" > /dev/null
  log "registered the Jupyter kernel $KERNEL_NAME ($ENV_DIR)"
else
  log "no workshop environment at $ENV_DIR (on-create installs it with the bundle): no kernel to register"
fi

# The SDK config is the user's file too: rewritten only while it still carries our first line.
SDK_BUCKET='${sdk_bucket}'
SDK_DIR="$HOME_DIR/.config/sagemaker"
SDK_CONFIG="$SDK_DIR/config.yaml"
SDK_MARK='# Written by the vgsales on-start script at every start. Delete this line to keep your own edits.'
if [ -n "$SDK_BUCKET" ] && { [ ! -e "$SDK_CONFIG" ] || [ "$(head -n 1 "$SDK_CONFIG")" = "$SDK_MARK" ]; }; then
  mkdir -p "$SDK_DIR"
  {
    echo "$SDK_MARK"
    echo "SchemaVersion: '1.0'"
    echo "SageMaker:"
    echo "  PythonSDK:"
    echo "    Modules:"
    echo "      Session:"
    # No DefaultS3ObjectKeyPrefix: the SDK would put it in front of every key it writes, and code that builds an
    # object's address from the bucket and its own key prefix after upload_data, as AWS's samples do, would miss
    # its data.
    echo "        DefaultS3Bucket: '$SDK_BUCKET'"
%{ if length(sdk_tags) > 0 ~}
    # Default Tags for each resource the SDK creates (its config schema; a tuning job and its training jobs take
    # TrainingJob's): with the stack's tag among them, the role allows the SDK's default names. JSON strings are
    # YAML scalars, so any tag SageMaker allows is written safely.
    cat <<'VGSALES_SDK_TAGS'
%{ for resource in ["TrainingJob", "TransformJob", "Model", "EndpointConfig", "Endpoint"] ~}
  ${resource}:
    Tags:
%{ for key, value in sdk_tags ~}
      - Key: ${jsonencode(key)}
        Value: ${jsonencode(value)}
%{ endfor ~}
%{ endfor ~}
VGSALES_SDK_TAGS
%{ endif ~}
  } > "$SDK_CONFIG"
  chmod 0644 "$SDK_CONFIG"
  chown "$NB_USER:" "$HOME_DIR/.config" "$SDK_DIR" "$SDK_CONFIG"
  log "wrote $SDK_CONFIG (default bucket $SDK_BUCKET)"
fi

if [ "$IDLE_TIMEOUT_MINUTES" -eq 0 ]; then
  log "idle auto-stop is off (idle_timeout_minutes = 0)"
  exit 0
fi

UNIT_DIR="$ROOT/etc/systemd/system"
CHECKER="$ROOT/usr/local/bin/vgsales-idle-stop"
CONF="$ROOT/etc/vgsales/idle-stop.conf"
mkdir -p "$UNIT_DIR" "$(dirname "$CHECKER")" "$(dirname "$CONF")"

# systemd starts the checker with a bare PATH, so the tools are resolved now, where root's PATH has them.
{
  printf 'IDLE_TIMEOUT_MINUTES=%q\n' "$IDLE_TIMEOUT_MINUTES"
  printf 'REGION=%q\n' "$REGION"
  printf 'METADATA_FILE=%q\n' "$ROOT/opt/ml/metadata/resource-metadata.json"
  printf 'JUPYTER_URL=%q\n' "$${VGSALES_JUPYTER_URL:-https://localhost:8443}"
  printf 'AWS_CLI=%q\n' "$(command -v aws || echo /usr/bin/aws)"
  printf 'CURL=%q\n' "$(command -v curl || echo /usr/bin/curl)"
} > "$CONF"

cat > "$CHECKER" <<'VGSALES_IDLE_STOP'
#!/bin/bash
# Stops this notebook instance once Jupyter has been idle for IDLE_TIMEOUT_MINUTES and no kernel is busy.
# Run by vgsales-idle-stop.timer; its only argument is the settings file that on-start wrote.
set -euo pipefail
# shellcheck source=/dev/null
. "$1"

jupyter_api() {
  # no_track_activity: asking Jupyter must not count as activity itself.
  "$CURL" --silent --show-error --fail --insecure --max-time 10 "$JUPYTER_URL/api/$1?no_track_activity=1"
}

if ! status="$(jupyter_api status)" || ! kernels="$(jupyter_api kernels)"; then
  echo "Jupyter does not answer at $JUPYTER_URL; not stopping."
  exit 0
fi
if grep -Eq '"execution_state": *"busy"' <<< "$kernels"; then
  echo "A kernel is busy; not stopping."
  exit 0
fi
last_activity="$(grep -Eo '"last_activity": *"[^"]+"' <<< "$status" | head -n 1 | cut -d '"' -f 4 || true)"
if [ -z "$last_activity" ] || ! last_epoch="$(date -u -d "$last_activity" +%s)"; then
  echo "Jupyter reported no readable last_activity; not stopping."
  exit 0
fi
idle_minutes=$(( ($(date -u +%s) - last_epoch) / 60 ))
if [ "$idle_minutes" -lt "$IDLE_TIMEOUT_MINUTES" ]; then
  echo "Idle for $idle_minutes of $IDLE_TIMEOUT_MINUTES minutes; not stopping."
  exit 0
fi
name="$(grep -Eo '"ResourceName": *"[^"]+"' "$METADATA_FILE" | cut -d '"' -f 4)"
echo "Idle for $idle_minutes minutes: stopping notebook instance $name."
"$AWS_CLI" sagemaker stop-notebook-instance --region "$REGION" --notebook-instance-name "$name"
VGSALES_IDLE_STOP
chmod 0755 "$CHECKER"

cat > "$UNIT_DIR/vgsales-idle-stop.service" <<VGSALES_SERVICE
[Unit]
Description=Stop this notebook instance when Jupyter is idle (vgsales)
After=network-online.target

[Service]
Type=oneshot
ExecStart=$CHECKER $CONF
VGSALES_SERVICE

cat > "$UNIT_DIR/vgsales-idle-stop.timer" <<'VGSALES_TIMER'
[Unit]
Description=Check every 5 minutes whether Jupyter is idle (vgsales)

[Timer]
OnActiveSec=5min
OnUnitActiveSec=5min

[Install]
WantedBy=timers.target
VGSALES_TIMER

systemctl daemon-reload
systemctl enable --now vgsales-idle-stop.timer
log "idle auto-stop installed: stops the instance after $IDLE_TIMEOUT_MINUTES idle minutes"

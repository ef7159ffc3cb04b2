"""The container's environment: /opt/ml's layout, the job's configuration files, TrainingEnv and ServingEnv, as
sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_env.py reads them.

Local differences:
- /opt/ml is SAGEMAKER_BASE_DIR, which the emulator always sets (the real module reads it too, for local mode);
- the real module writes os.environ (CURRENT_HOST, SAGEMAKER_JOB_NAME and SAGEMAKER_REGION when a TrainingEnv is
  made, the SM_* variables and PYTHONPATH in write_env_vars) so that the user's process inherits them. This one
  keeps them in `written` and hands environ() (os.environ with them) to the processes it starts: the same child
  environment, without rewriting this process's own;
- SAGEMAKER_REGION falls back to AWS_REGION or AWS_DEFAULT_REGION where the real one asks boto3's session.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shlex
import socket
import subprocess
import sys
import time

from sagemaker_containers import _content_types, _logging, _mapping, _params

logger = _logging.get_logger()

SAGEMAKER_BASE_PATH = os.path.join("/opt", "ml")  # type: str
BASE_PATH_ENV = "SAGEMAKER_BASE_DIR"  # type: str

written = {}  # type: dict
"""What the container's sagemaker_containers would have written into os.environ by now."""


def environ():  # type: () -> dict
    """This process's environment as the container's would be: os.environ and what sagemaker_containers wrote."""
    return {**os.environ, **written}


def _write_json(obj, path):  # type: (object, str) -> None
    with open(path, "w") as f:
        json.dump(obj, f)


def _is_training_path_configured():  # type: () -> bool
    return os.path.exists(SAGEMAKER_BASE_PATH) or BASE_PATH_ENV in os.environ


def _set_base_path_env():  # type: () -> None
    local_config_dir = os.path.join(os.path.expanduser("~"), "sagemaker_local", "jobs", str(time.time()), "opt", "ml")

    logger.info("Setting environment variable SAGEMAKER_BASE_DIR as %s ." % local_config_dir)
    written[BASE_PATH_ENV] = local_config_dir


_is_path_configured = _is_training_path_configured()

if not _is_path_configured:
    logger.info("Directory /opt/ml does not exist.")
    _set_base_path_env()

base_dir = environ().get(BASE_PATH_ENV, SAGEMAKER_BASE_PATH)  # type: str

code_dir = os.path.join(base_dir, "code")
"""str: the path of the user's code directory, e.g., /opt/ml/code/"""

model_dir = os.path.join(base_dir, "model")  # type: str
"""str: the directory where models should be saved, e.g., /opt/ml/model/"""

input_dir = os.path.join(base_dir, "input")  # type: str
"""str: the path of the input directory, e.g. /opt/ml/input/"""

_input_data_dir = os.path.join(input_dir, "data")  # type: str

input_config_dir = os.path.join(input_dir, "config")  # type: str
"""str: the directory of hyperparameters.json, inputdataconfig.json and resourceconfig.json"""

output_dir = os.path.join(base_dir, "output")  # type: str
"""str: the directory where training success/failure indications will be written, e.g. /opt/ml/output/."""

output_data_dir = os.path.join(output_dir, "data")  # type: str

output_intermediate_dir = os.path.join(output_dir, "intermediate")  # type: str

HYPERPARAMETERS_FILE = "hyperparameters.json"  # type: str
RESOURCE_CONFIG_FILE = "resourceconfig.json"  # type: str
INPUT_DATA_CONFIG_FILE = "inputdataconfig.json"  # type: str

hyperparameters_file_dir = os.path.join(input_config_dir, HYPERPARAMETERS_FILE)  # type: str
input_data_config_file_dir = os.path.join(input_config_dir, INPUT_DATA_CONFIG_FILE)  # type: str
resource_config_file_dir = os.path.join(input_config_dir, RESOURCE_CONFIG_FILE)  # type: str


def _create_training_directories():
    """Creates the directory structure and files necessary for training under the base path."""
    logger.info("Creating a new training folder under %s ." % base_dir)

    os.makedirs(model_dir)
    os.makedirs(input_config_dir)
    os.makedirs(output_data_dir)

    _write_json({}, hyperparameters_file_dir)
    _write_json({}, input_data_config_file_dir)

    host_name = socket.gethostname()

    resources_dict = {"current_host": host_name, "hosts": [host_name]}
    _write_json(resources_dict, resource_config_file_dir)


if not _is_path_configured:
    _create_training_directories()


def _create_code_dir():  # type: () -> None
    """Creates /opt/ml/code when the module is imported."""
    if not os.path.exists(code_dir):
        os.makedirs(code_dir)


_create_code_dir()


def _read_json(path):  # type: (str) -> dict
    with open(path, "r") as f:
        return json.load(f)


def read_hyperparameters():  # type: () -> dict
    """The hyperparameters of /opt/ml/input/config/hyperparameters.json, each value decoded from JSON when it is
    JSON (the SDK writes every value json.dumps'ed: "5" -> 5, "\\"train.py\\"" -> "train.py"), else kept as it is."""
    hyperparameters = _read_json(hyperparameters_file_dir)

    deserialized_hps = {}

    for k, v in hyperparameters.items():
        try:
            v = json.loads(v)
        except (ValueError, TypeError):
            logger.info("Failed to parse hyperparameter %s value %s to Json.\nReturning the value itself", k, v)

        deserialized_hps[k] = v

    return deserialized_hps


def read_resource_config():  # type: () -> dict
    """The contents of /opt/ml/input/config/resourceconfig.json: current_host, hosts, network_interface_name."""
    return _read_json(resource_config_file_dir)


def read_input_data_config():  # type: () -> dict
    """The contents of /opt/ml/input/config/inputdataconfig.json: each channel's ContentType, TrainingInputMode, ..."""
    return _read_json(input_data_config_file_dir)


def channel_path(channel):  # type: (str) -> str
    """The directory of a channel's data: /opt/ml/input/data/<channel>."""
    return os.path.join(_input_data_dir, channel)


def num_gpus():  # type: () -> int
    """The number of GPUs nvidia-smi lists; 0 without it."""
    try:
        cmd = shlex.split("nvidia-smi --list-gpus")
        output = subprocess.check_output(cmd).decode("utf-8")
        return sum([1 for x in output.split("\n") if x.startswith("GPU ")])
    except (OSError, subprocess.CalledProcessError):
        logger.info("No GPUs detected (normal if no gpus installed)")
        return 0


def num_cpus():  # type: () -> int
    """The number of CPUs of this machine (of the instance, in the container)."""
    return multiprocessing.cpu_count()


def _strtobool(value):  # type: (str) -> int
    """distutils.util.strtobool, which the real module uses (distutils is gone from Python 3.12)."""
    value = value.lower()
    if value in ("y", "yes", "t", "true", "on", "1"):
        return 1
    if value in ("n", "no", "f", "false", "off", "0"):
        return 0
    raise ValueError("invalid truth value %r" % (value,))


class _Env(_mapping.MappingMixin):
    """A read-only snapshot of the container's environment, as a mapping of its properties."""

    def __init__(self):
        env = environ()
        current_host = env.get(_params.CURRENT_HOST_ENV)
        module_name = env.get(_params.USER_PROGRAM_ENV, None)
        module_dir = env.get(_params.SUBMIT_DIR_ENV, code_dir)
        log_level = int(env.get(_params.LOG_LEVEL_ENV, logging.INFO))

        self._current_host = current_host
        self._num_gpus = num_gpus()
        self._num_cpus = num_cpus()
        self._module_name = module_name
        self._user_entry_point = module_name
        self._module_dir = module_dir
        self._log_level = log_level
        self._model_dir = model_dir

    @property
    def model_dir(self):  # type: () -> str
        """The directory where models should be saved, e.g., /opt/ml/model/"""
        return self._model_dir

    @property
    def current_host(self):  # type: () -> str
        """The name of the current container on the container network. For example, 'algo-1'."""
        return self._current_host

    @property
    def num_gpus(self):  # type: () -> int
        """The number of gpus available in the current container."""
        return self._num_gpus

    @property
    def num_cpus(self):  # type: () -> int
        """The number of cpus available in the current container."""
        return self._num_cpus

    @property
    def module_name(self):  # type: () -> str
        """The name of the user provided module (the program without .py)."""
        return self._parse_module_name(self._module_name)

    @property
    def module_dir(self):  # type: () -> str
        """The full path location of the user provided module (sagemaker_submit_directory: an s3:// URI or a path)."""
        return self._module_dir

    @property
    def log_level(self):  # type: () -> int
        """Environment logging level."""
        return self._log_level

    @property
    def user_entry_point(self):  # type: () -> str
        """The name of provided user entry point."""
        return self._user_entry_point

    @staticmethod
    def _parse_module_name(program_param):
        """Given a module name or a script name, returns the module name."""
        if program_param and program_param.endswith(".py"):
            return program_param[:-3]
        return program_param


class TrainingEnv(_Env):
    """The training environment: hyperparameters, channels, hosts and /opt/ml's directories (sagemaker_containers
    .training_env()). Hyperparameters starting with sagemaker_ are the framework's, not the user's."""

    def __init__(self, resource_config=None, input_data_config=None, hyperparameters=None):
        super().__init__()

        resource_config = resource_config or read_resource_config()
        current_host = resource_config["current_host"]
        hosts = resource_config["hosts"]
        input_data_config = input_data_config or read_input_data_config()

        all_hyperparameters = hyperparameters or read_hyperparameters()
        split_result = _mapping.split_by_criteria(
            all_hyperparameters,
            keys=_params.SAGEMAKER_HYPERPARAMETERS,
            prefix=_params.SAGEMAKER_PREFIX,
        )

        sagemaker_hyperparameters = split_result.included
        additional_framework_parameters = {
            k: sagemaker_hyperparameters[k]
            for k in sagemaker_hyperparameters.keys()
            if k not in _params.SAGEMAKER_HYPERPARAMETERS
        }

        env = environ()
        sagemaker_region = sagemaker_hyperparameters.get(
            _params.REGION_NAME_PARAM, env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        )

        written[_params.JOB_NAME_ENV] = sagemaker_hyperparameters.get(_params.JOB_NAME_PARAM, "")
        written[_params.CURRENT_HOST_ENV] = current_host
        written[_params.REGION_NAME_ENV] = sagemaker_region or ""

        self._hosts = hosts

        # eth0 is the default network interface defined by SageMaker with VPC support and local mode.
        self._network_interface_name = resource_config.get("network_interface_name", "eth0")

        self._hyperparameters = split_result.excluded
        self._additional_framework_parameters = additional_framework_parameters
        self._resource_config = resource_config
        self._input_data_config = input_data_config
        self._output_data_dir = output_data_dir
        self._output_intermediate_dir = output_intermediate_dir
        self._channel_input_dirs = {channel: channel_path(channel) for channel in input_data_config}
        self._current_host = current_host

        # override base class attributes
        if self._module_name is None:
            self._module_name = str(sagemaker_hyperparameters.get(_params.USER_PROGRAM_PARAM, None))
        self._user_entry_point = self._user_entry_point or sagemaker_hyperparameters.get(_params.USER_PROGRAM_PARAM)

        self._module_dir = str(sagemaker_hyperparameters.get(_params.SUBMIT_DIR_PARAM, code_dir))
        self._log_level = sagemaker_hyperparameters.get(_params.LOG_LEVEL_PARAM, logging.INFO)
        self._sagemaker_s3_output = sagemaker_hyperparameters.get(_params.S3_OUTPUT_LOCATION_PARAM, None)
        self._framework_module = env.get(_params.FRAMEWORK_TRAINING_MODULE_ENV, None)

        self._input_dir = input_dir
        self._input_config_dir = input_config_dir
        self._output_dir = output_dir
        self._job_name = env.get(_params.TRAINING_JOB_ENV.upper(), None)

        self._master_hostname = list(hosts)[0]
        self._is_master = current_host == self._master_hostname

    @property
    def is_master(self):  # type: () -> bool
        """Returns True if host is master."""
        return self._is_master

    @property
    def master_hostname(self):  # type: () -> str
        """Returns the hostname of the master node (the first of hosts)."""
        return self._master_hostname

    @property
    def job_name(self):  # type: () -> str
        """The name of the current training job (TRAINING_JOB_NAME)."""
        return self._job_name

    @property
    def additional_framework_parameters(self):  # type: () -> dict
        """The hyperparameters prefixed with sagemaker_ that are not in SAGEMAKER_HYPERPARAMETERS."""
        return self._additional_framework_parameters

    def sagemaker_s3_output(self):  # type: () -> str
        """S3 output directory location provided by the user."""
        return self._sagemaker_s3_output

    def to_cmd_args(self):
        """The user's hyperparameters as command-line arguments: ['--eta', '0.2', '--max_depth', '5']."""
        return _mapping.to_cmd_args(self.hyperparameters)

    def to_env_vars(self):
        """The training environment as SM_* variables: SM_HOSTS, SM_CHANNEL_TRAIN, SM_HP_MAX_DEPTH, SM_TRAINING_ENV, ..."""
        env = {
            "hosts": self.hosts,
            "network_interface_name": self.network_interface_name,
            "hps": self.hyperparameters,
            "user_entry_point": self.user_entry_point,
            "framework_params": self.additional_framework_parameters,
            "resource_config": self.resource_config,
            "input_data_config": self.input_data_config,
            "output_data_dir": self.output_data_dir,
            "channels": sorted(self.channel_input_dirs.keys()),
            "current_host": self.current_host,
            "module_name": self.module_name,
            "log_level": self.log_level,
            "framework_module": self.framework_module,
            "input_dir": self.input_dir,
            "input_config_dir": self.input_config_dir,
            "output_dir": self.output_dir,
            "num_cpus": self.num_cpus,
            "num_gpus": self.num_gpus,
            "model_dir": self.model_dir,
            "module_dir": self.module_dir,
            "training_env": dict(self),
            "user_args": self.to_cmd_args(),
            "output_intermediate_dir": self.output_intermediate_dir,
        }

        for name, path in self.channel_input_dirs.items():
            env["channel_%s" % name] = path

        for key, value in self.hyperparameters.items():
            env["hp_%s" % key] = value

        return _mapping.to_env_vars(env)

    @property
    def hosts(self):  # type: () -> list
        """The names of all containers of the job, sorted: ['algo-1', 'algo-2']."""
        return self._hosts

    @property
    def channel_input_dirs(self):  # type: () -> dict
        """Each channel of inputdataconfig.json and its directory: {'train': '/opt/ml/input/data/train'}."""
        return self._channel_input_dirs

    @property
    def network_interface_name(self):  # type: () -> str
        """Name of the network interface used for distributed training."""
        return self._network_interface_name

    @property
    def input_dir(self):  # type: () -> str
        """/opt/ml/input/"""
        return self._input_dir

    @property
    def input_config_dir(self):  # type: () -> str
        """/opt/ml/input/config/"""
        return self._input_config_dir

    @property
    def output_dir(self):  # type: () -> str
        """/opt/ml/output/, where the success and failure files go."""
        return self._output_dir

    @property
    def hyperparameters(self):  # type: () -> dict
        """The user's hyperparameters (without the sagemaker_ ones), decoded from JSON."""
        return self._hyperparameters

    @property
    def resource_config(self):  # type: () -> dict
        """The contents of /opt/ml/input/config/resourceconfig.json."""
        return self._resource_config

    @property
    def input_data_config(self):  # type: () -> dict
        """The contents of /opt/ml/input/config/inputdataconfig.json."""
        return self._input_data_config

    @property
    def output_data_dir(self):  # type: () -> str
        """/opt/ml/output/data, for non-model artifacts (output.tar.gz)."""
        return self._output_data_dir

    @property
    def output_intermediate_dir(self):  # type: () -> str
        """/opt/ml/output/intermediate."""
        return self._output_intermediate_dir

    @property
    def framework_module(self):  # type: () -> str
        """SAGEMAKER_TRAINING_MODULE: sagemaker_xgboost_container.training:main in the XGBoost image."""
        return self._framework_module


class ServingEnv(_Env):
    """The serving environment: SAGEMAKER_PROGRAM's module, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, the model server's
    settings."""

    def __init__(self):
        super().__init__()

        env = environ()
        use_nginx = _strtobool(env.get(_params.USE_NGINX_ENV, "true")) == 1
        model_server_timeout = int(env.get(_params.MODEL_SERVER_TIMEOUT_ENV, "60"))
        model_server_workers = int(env.get(_params.MODEL_SERVER_WORKERS_ENV, num_cpus()))
        framework_module = env.get(_params.FRAMEWORK_SERVING_MODULE_ENV, None)
        default_accept = env.get(_params.DEFAULT_INVOCATIONS_ACCEPT_ENV, _content_types.JSON)
        http_port = env.get(_params.SAGEMAKER_BIND_TO_PORT_ENV, "8080")
        safe_port_range = env.get(_params.SAGEMAKER_SAFE_PORT_RANGE_ENV)

        self._use_nginx = use_nginx
        self._model_server_timeout = model_server_timeout
        self._model_server_workers = model_server_workers
        self._framework_module = framework_module
        self._default_accept = default_accept
        self._http_port = http_port
        self._safe_port_range = safe_port_range

    @property
    def use_nginx(self):  # type: () -> bool
        """Whether to use nginx as a reverse proxy. Default: True"""
        return self._use_nginx

    @property
    def model_server_timeout(self):  # type: () -> int
        """Timeout in seconds for the model server (SAGEMAKER_MODEL_SERVER_TIMEOUT, default 60)."""
        return self._model_server_timeout

    @property
    def model_server_workers(self):  # type: () -> int
        """Number of worker processes the model server will use."""
        return self._model_server_workers

    @property
    def framework_module(self):  # type: () -> str
        """SAGEMAKER_SERVING_MODULE: sagemaker_xgboost_container.serving:main in the XGBoost image."""
        return self._framework_module

    @property
    def default_accept(self):  # type: () -> str
        """SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, default application/json."""
        return self._default_accept

    @property
    def http_port(self):  # type: () -> str
        """SAGEMAKER_BIND_TO_PORT, default 8080."""
        return self._http_port

    @property
    def safe_port_range(self):  # type: () -> str
        """SAGEMAKER_SAFE_PORT_RANGE."""
        return self._safe_port_range


def write_env_vars(env_vars=None):  # type: (dict) -> None
    """What the real one writes into os.environ (env_vars and PYTHONPATH, this process's sys.path) goes to
    `written`, for the processes this one starts (see the module's docstring)."""
    env_vars = env_vars or {}
    env_vars["PYTHONPATH"] = ":".join(sys.path)

    for name, value in env_vars.items():
        written[name] = value

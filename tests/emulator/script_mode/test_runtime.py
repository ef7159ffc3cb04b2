"""The script-mode runtime (src/vgsales/emulator/script_mode/runtime/): what the XGBoost framework image gives a
script, checked in a job's own environment (environment.create), in processes of its own, as the emulator runs it."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from vgsales.emulator.script_mode import environment

RUN_SECONDS = 120
SDK_HYPERPARAMETERS = {  # as the SDK v2 writes them: every value json.dumps'ed
    "max_depth": json.dumps(5),
    "eta": json.dumps(0.2),
    "sagemaker_program": json.dumps("train.py"),
    "sagemaker_submit_directory": json.dumps("s3://b/k/sourcedir.tar.gz"),
    "sagemaker_container_log_level": json.dumps(20),
    "sagemaker_region": json.dumps("us-east-1"),
    "sagemaker_job_name": json.dumps("job-1"),
}
INTERNAL_SERVER_ERROR = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>500 Internal Server Error</title>\n'
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your "
    "request. Either the server is overloaded or there is an error in the application.</p>\n"
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> environment.ScriptEnvironment:
    return environment.create(tmp_path_factory.mktemp("script-env") / "venv")


def lay_out(base: Path, *, hosts=("algo-1",), current="algo-1", hyperparameters=None, channels=None, script=None,
            program="train.py") -> Path:  # fmt: skip
    """/opt/ml as SageMaker fills it for a training job, under ``base``."""
    for folder in ("code", "input/config", "model", "output/data"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    config = base / "input" / "config"
    config.joinpath("hyperparameters.json").write_text(json.dumps(hyperparameters or SDK_HYPERPARAMETERS))
    channels = channels or {}
    config.joinpath("inputdataconfig.json").write_text(json.dumps(
        {name: {"ContentType": "text/csv", "TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None"} for name in channels}))  # fmt: skip
    config.joinpath("resourceconfig.json").write_text(json.dumps(
        {"current_host": current, "hosts": list(hosts), "network_interface_name": "eth0"}))  # fmt: skip
    for name, files in channels.items():
        for relative, text in files.items():
            path = base / "input" / "data" / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if script is not None:
        (base / "code" / program).write_text(textwrap.dedent(script))
    return base


def env_of(venv: environment.ScriptEnvironment, base: Path, **extra: str) -> dict[str, str]:
    return {**environment.base_env(venv), "SAGEMAKER_BASE_DIR": str(base), **extra}


def run_python(venv, base: Path, code: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv.python), "-c", textwrap.dedent(code)], env=env_of(venv, base, **extra),
                          cwd=base / "code", capture_output=True, text=True, timeout=RUN_SECONDS, check=False)  # fmt: skip


def last_json(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def train(venv, base: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv.python), "-m", "vgsales_script_train"], env=env_of(venv, base, **extra),
                          cwd=base / "code", capture_output=True, text=True, timeout=RUN_SECONDS, check=False)  # fmt: skip


# --- sagemaker_containers: the training environment -------------------------------------------------------------


def test_training_env_decodes_the_sdk_hyperparameters_and_gives_every_sm_variable(venv, tmp_path):
    hyperparameters = {**SDK_HYPERPARAMETERS, "objective": "reg:squarederror",  # near miss: not JSON, kept as it is
                       "sagemaker_mpi_enabled": json.dumps(False), "tags": json.dumps({"b": 2, "a": 1})}  # fmt: skip
    base = lay_out(tmp_path / "ml", hosts=("algo-1", "algo-2"), current="algo-2", hyperparameters=hyperparameters,
                   channels={"train": {}, "validation": {}})  # fmt: skip
    found = last_json(run_python(venv, base, """
        import json, sagemaker_containers
        env = sagemaker_containers.training_env()
        print(json.dumps({"hps": env.hyperparameters, "framework": env.additional_framework_parameters,
                          "args": env.to_cmd_args(), "vars": env.to_env_vars(), "is_master": env.is_master,
                          "master": env.master_hostname, "module_name": env.module_name}))
    """, SAGEMAKER_TRAINING_MODULE="sagemaker_xgboost_container.training:main"))  # fmt: skip

    assert found["hps"] == {"max_depth": 5, "eta": 0.2, "objective": "reg:squarederror", "tags": {"a": 1, "b": 2}}
    assert found["framework"] == {"sagemaker_mpi_enabled": False}  # sagemaker_ ones not in SAGEMAKER_HYPERPARAMETERS
    assert found["args"] == ["--eta", "0.2", "--max_depth", "5", "--objective", "reg:squarederror", "--tags", "a=1,b=2"]
    assert (found["is_master"], found["master"], found["module_name"]) == (False, "algo-1", "train")
    variables = found["vars"]
    data = base / "input" / "data"
    assert set(variables) == {
        "SM_HOSTS", "SM_NETWORK_INTERFACE_NAME", "SM_HPS", "SM_USER_ENTRY_POINT", "SM_FRAMEWORK_PARAMS",
        "SM_RESOURCE_CONFIG", "SM_INPUT_DATA_CONFIG", "SM_OUTPUT_DATA_DIR", "SM_CHANNELS", "SM_CURRENT_HOST",
        "SM_MODULE_NAME", "SM_LOG_LEVEL", "SM_FRAMEWORK_MODULE", "SM_INPUT_DIR", "SM_INPUT_CONFIG_DIR", "SM_OUTPUT_DIR",
        "SM_NUM_CPUS", "SM_NUM_GPUS", "SM_MODEL_DIR", "SM_MODULE_DIR", "SM_TRAINING_ENV", "SM_USER_ARGS",
        "SM_OUTPUT_INTERMEDIATE_DIR", "SM_CHANNEL_TRAIN", "SM_CHANNEL_VALIDATION", "SM_HP_MAX_DEPTH", "SM_HP_ETA",
        "SM_HP_OBJECTIVE", "SM_HP_TAGS",
    }  # fmt: skip
    assert variables["SM_HOSTS"] == '["algo-1","algo-2"]' and variables["SM_CURRENT_HOST"] == "algo-2"
    assert variables["SM_HPS"] == '{"eta":0.2,"max_depth":5,"objective":"reg:squarederror","tags":{"a":1,"b":2}}'
    assert (variables["SM_HP_MAX_DEPTH"], variables["SM_HP_ETA"], variables["SM_HP_OBJECTIVE"]) == ("5", "0.2", "reg:squarederror")
    assert variables["SM_HP_TAGS"] == '{"a":1,"b":2}'
    assert variables["SM_CHANNELS"] == '["train","validation"]'
    assert variables["SM_CHANNEL_TRAIN"] == str(data / "train") and variables["SM_CHANNEL_VALIDATION"] == str(data / "validation")
    assert (variables["SM_MODULE_NAME"], variables["SM_USER_ENTRY_POINT"]) == ("train", "train.py")
    assert variables["SM_MODULE_DIR"] == "s3://b/k/sourcedir.tar.gz"
    assert variables["SM_MODEL_DIR"] == str(base / "model") and variables["SM_OUTPUT_DATA_DIR"] == str(base / "output" / "data")
    assert (variables["SM_OUTPUT_DIR"], variables["SM_INPUT_DIR"]) == (str(base / "output"), str(base / "input"))
    assert variables["SM_INPUT_CONFIG_DIR"] == str(base / "input" / "config")
    assert variables["SM_OUTPUT_INTERMEDIATE_DIR"] == str(base / "output" / "intermediate")
    assert (variables["SM_NUM_GPUS"], variables["SM_NUM_CPUS"]) == ("0", str(os.cpu_count()))
    assert (variables["SM_LOG_LEVEL"], variables["SM_NETWORK_INTERFACE_NAME"]) == ("20", "eth0")
    assert variables["SM_FRAMEWORK_PARAMS"] == '{"sagemaker_mpi_enabled":false}'
    assert variables["SM_FRAMEWORK_MODULE"] == "sagemaker_xgboost_container.training:main"
    assert json.loads(variables["SM_USER_ARGS"]) == found["args"]
    assert json.loads(variables["SM_RESOURCE_CONFIG"])["hosts"] == ["algo-1", "algo-2"]
    assert json.loads(variables["SM_INPUT_DATA_CONFIG"])["train"]["ContentType"] == "text/csv"
    training_env = json.loads(variables["SM_TRAINING_ENV"])
    assert training_env["hyperparameters"] == found["hps"] and training_env["job_name"] is None
    assert set(training_env) == {  # TrainingEnv's properties, and no more
        "additional_framework_parameters", "channel_input_dirs", "current_host", "framework_module", "hosts",
        "hyperparameters", "input_config_dir", "input_data_config", "input_dir", "is_master", "job_name", "log_level",
        "master_hostname", "model_dir", "module_dir", "module_name", "network_interface_name", "num_cpus", "num_gpus",
        "output_data_dir", "output_dir", "output_intermediate_dir", "resource_config", "user_entry_point",
    }  # fmt: skip


def test_what_the_sample_scripts_import_is_there(venv, tmp_path):
    """The imports of AWS's XGBoost script-mode samples (amazon-sagemaker-examples: sm-regression_xgboost/abalone.py
    and inference.py, clarify's inference.py), and a job host resolving to loopback."""
    base = lay_out(tmp_path / "ml", hosts=("algo-1", "algo-2"))
    found = last_json(run_python(venv, base, """
        import json
        import sagemaker_containers
        from sagemaker_containers import entry_point
        from sagemaker_containers.beta.framework import content_types, encoders, env, modules, transformer, worker
        from sagemaker_xgboost_container import distributed
        from sagemaker_xgboost_container.data_utils import get_dmatrix
        import sagemaker_xgboost_container.encoder as xgb_encoders
        entry_point._wait_hostname_resolution()
        print(json.dumps({"csv": content_types.CSV, "algo-2": distributed._dns_lookup("algo-2"),
                          "callables": [callable(f) for f in (get_dmatrix, xgb_encoders.libsvm_to_dmatrix,
                                        xgb_encoders.csv_to_dmatrix, xgb_encoders.decode, distributed.rabit_run,
                                        sagemaker_containers.training_env, modules.run_module, encoders.encode)]}))
    """))  # fmt: skip
    assert found == {"csv": "text/csv", "algo-2": "127.0.0.1", "callables": [True] * 8}


# --- sagemaker_xgboost_container: data and encoders -------------------------------------------------------------

CSV_A = "1,0.5,2.0\n0,1.5,3.0\n"
CSV_B = "1,2.5,,\n"  # an empty cell is missing
LIBSVM_A = "1 1:0.5 3:2\n0 2:1.5\n"
LIBSVM_B = "1 1:0.7\n"


def rows_of(matrix: xgb.DMatrix) -> list:
    """(label, dense row with NaN as None) per row, sorted: the files of a folder come in the listing's order."""
    dense = matrix.get_data().toarray() if matrix.num_col() else np.zeros((matrix.num_row(), 0))
    dense[np.isnan(dense)] = -999
    return sorted([float(label), *map(float, row)] for label, row in zip(matrix.get_label(), dense))


def test_get_dmatrix_reads_a_channel_folder_as_xgboost_reads_its_files(venv, tmp_path):
    base = lay_out(tmp_path / "ml", channels={
        "csv": {"a.csv": CSV_A, "deeper/b.csv": CSV_B},
        "libsvm": {"a.libsvm": LIBSVM_A, "deeper/b.libsvm": LIBSVM_B},
    })  # fmt: skip
    result = run_python(venv, base, """
        import json, os
        from sagemaker_xgboost_container.data_utils import get_dmatrix
        data = os.path.join(os.environ["SAGEMAKER_BASE_DIR"], "input", "data")
        out = {}
        for kind in ("csv", "libsvm"):
            matrix = get_dmatrix(os.path.join(data, kind), kind)
            out[kind] = [matrix.get_label().tolist(), matrix.get_data().toarray().tolist()]
        for kind in ("csv", "libsvm"):
            try:
                get_dmatrix(os.path.join(data, "nothing"), kind)
            except Exception as error:
                out["missing " + kind] = type(error).__name__
        print(json.dumps(out).replace("NaN", "null"))
    """)
    found = last_json(result)
    assert "deprecated" not in result.stderr  # the container's XGBoost 3.0.5 does not warn about text input
    # a channel that is not there: the container's get_dmatrix reads "None", so each format fails its own way
    assert (found["missing csv"], found["missing libsvm"]) == ("TypeError", "UserError")
    for kind, text in (("csv", CSV_A + CSV_B), ("libsvm", LIBSVM_A + LIBSVM_B)):
        whole = tmp_path / f"whole.{kind}"
        whole.write_text(text)
        with warnings.catch_warnings():  # XGBoost 3.1+ warns about text input, once per process
            warnings.simplefilter("ignore")
            own = xgb.DMatrix(f"{whole}?format={kind}" + ("&label_column=0" if kind == "csv" else ""))
        labels, dense = found[kind]
        got = xgb.DMatrix(np.array([[np.nan if v is None else v for v in row] for row in dense]), label=labels)
        assert rows_of(got) == rows_of(own), kind
        assert len(labels) == 3


def test_data_utils_gives_the_containers_errors(venv, tmp_path):
    base = lay_out(tmp_path / "ml", channels={"bad": {"x.libsvm": "a,b,c\n1,2,3\n"}, "csv": {"a.csv": CSV_A}})
    found = last_json(run_python(venv, base, """
        import json, os
        from sagemaker_xgboost_container import data_utils
        data = os.path.join(os.environ["SAGEMAKER_BASE_DIR"], "input", "data")
        def outcome(call):
            try:
                return ["ok", call()]
            except BaseException as error:
                return [type(error).__name__, str(error)]
        print(json.dumps({
            "types": [data_utils.get_content_type(value) for value in
                      (None, "csv", "Text/CSV; label_size=1", "text/x-libsvm", "application/x-parquet")],
            "json": outcome(lambda: data_utils.get_content_type("application/json")),
            "label_size": outcome(lambda: data_utils.get_content_type("text/csv; label_size=2")),
            "not_libsvm": outcome(lambda: data_utils.validate_data_file_path(os.path.join(data, "bad"), "libsvm")),
            "media_type": outcome(lambda: data_utils.get_dmatrix(os.path.join(data, "csv"), "text/csv")),
            "parquet": outcome(lambda: data_utils.get_dmatrix(os.path.join(data, "csv"), "parquet")),
            "recordio": outcome(lambda: data_utils.get_dmatrix(os.path.join(data, "csv"), "recordio-protobuf")),
            "pipe": outcome(lambda: data_utils.get_libsvm_dmatrix(os.path.join(data, "csv"), is_pipe=True)),
        }))
    """))  # fmt: skip
    assert found["types"] == ["libsvm", "csv", "csv", "libsvm", "parquet"]
    assert found["json"] == ["UserError", (
        "application/json is not an accepted ContentType: csv, libsvm, parquet, recordio-protobuf, text/csv, "
        "text/libsvm, text/x-libsvm, application/x-parquet, application/x-recordio-protobuf.")]  # fmt: skip
    assert found["label_size"] == ["UserError", (
        "text/csv; label_size=2 is not an accepted csv ContentType. Optional parameter label_size must be equal to 1")]  # fmt: skip
    assert found["not_libsvm"] == ["UserError", (
        "First line 'a,b,c\n...' of file 'x.libsvm' is not 'LIBSVM' format. Please ensure the file is in 'LIBSVM' "
        "format.")]  # fmt: skip
    # get_dmatrix takes get_content_type's answer; a media type matches no branch, as in the container
    assert found["media_type"][0] == "UnboundLocalError"
    assert found["parquet"][0] == "NotSupportedLocally" and "pyarrow" in found["parquet"][1]
    assert "requirements.txt" in found["parquet"][1]
    assert found["recordio"][0] == "NotSupportedLocally" and "mlio" in found["recordio"][1]
    assert found["pipe"] == ["UserError", "Pipe mode not supported for LibSVM."]


def test_encoder_decodes_csv_and_libsvm_and_refuses_other_types(venv, tmp_path):
    base = lay_out(tmp_path / "ml")
    found = last_json(run_python(venv, base, """
        import json
        import sagemaker_xgboost_container.encoder as xgb_encoders
        def dense(matrix):  # a missing value is not stored: 0.0 here, and one fewer non-missing
            return [matrix.get_data().toarray().tolist(), matrix.num_nonmissing()]
        def outcome(call):
            try:
                return ["ok", dense(call())]
            except BaseException as error:
                return [type(error).__name__, str(error)]
        print(json.dumps({
            "csv": outcome(lambda: xgb_encoders.decode("1,2\\n3,4", "text/csv")),
            "csv_params": outcome(lambda: xgb_encoders.decode(b"1,,3", "text/csv; charset=utf-8")),
            "libsvm": outcome(lambda: xgb_encoders.decode(b"0 1:0.5\\n1 2:1.5", "text/libsvm")),
            "x_libsvm": outcome(lambda: xgb_encoders.decode(b"0 1:0.5", "text/x-libsvm")),
            "json": outcome(lambda: xgb_encoders.decode("[1, 2]", "application/json")),
            "upper": outcome(lambda: xgb_encoders.decode("1,2", "Text/CSV")),
            "trailing_newline": outcome(lambda: xgb_encoders.decode("1,2\\n", "text/csv")),
            "recordio": outcome(lambda: xgb_encoders.decode(b"", "application/x-recordio-protobuf")),
            "jsonlines": xgb_encoders.json_to_jsonlines({"predictions": [{"score": 1}, {"score": 2}]}).decode(),
        }))
    """))  # fmt: skip
    assert found["csv"] == ["ok", [[[1.0, 2.0], [3.0, 4.0]], 4]]
    assert found["csv_params"] == ["ok", [[[1.0, 0.0, 3.0]], 2]]  # the empty cell is missing
    assert found["libsvm"] == ["ok", [[[0.0, 0.5, 0.0], [0.0, 0.0, 1.5]], 2]]
    assert found["x_libsvm"] == ["ok", [[[0.0, 0.5]], 1]]
    unsupported = "Content type {} is not supported by this framework.\n\n"
    assert found["json"][0] == "UnsupportedFormatError" and found["json"][1].startswith(unsupported.format("application/json"))
    assert found["upper"][0] == "UnsupportedFormatError"  # the media type is matched as it is written
    assert found["trailing_newline"][0] == "ValueError"  # "the decoder will error if there are ... trailing newline"
    assert found["recordio"][0] == "NotSupportedLocally"
    assert found["jsonlines"] == '{"score": 1}\n{"score": 2}\n'


def test_canary_xgboost_warns_about_text_input_which_the_runtime_keeps_out_of_the_log(venv, tmp_path):
    """_text_input silences XGBoost 3.1+'s warning (once per process); when XGBoost stops warning, or reading text,
    this fails."""
    path = tmp_path / "a.libsvm"
    path.write_text(LIBSVM_A)
    base = lay_out(tmp_path / "ml")
    result = run_python(venv, base, f"import xgboost\nprint(xgboost.DMatrix({f'{path}?format=libsvm'!r}).num_row())")
    assert result.stdout.strip() == "2", result.stderr
    assert "Text file input has been deprecated" in result.stderr


# --- distributed: rabit_run on loopback ---------------------------------------------------------------------------

DISTRIBUTED_SCRIPT = """
    import json, os
    import xgboost as xgb
    from sagemaker_containers import entry_point
    from sagemaker_xgboost_container import distributed
    from sagemaker_xgboost_container.data_utils import get_dmatrix

    def _xgb_train(params, dtrain, num_boost_round, model_dir, is_master):
        booster = xgb.train(params=params, dtrain=dtrain, num_boost_round=num_boost_round)
        booster.save_model(os.path.join(model_dir, "xgboost-model.json" if is_master else "worker-model.json"))

    hosts, current = json.loads(os.environ["SM_HOSTS"]), os.environ["SM_CURRENT_HOST"]
    dtrain = get_dmatrix(os.environ["SM_CHANNEL_TRAIN"], "csv")
    entry_point._wait_hostname_resolution()
    distributed.rabit_run(exec_fun=_xgb_train, args=dict(params=PARAMS, dtrain=dtrain, num_boost_round=3,
                          model_dir=os.environ["SM_MODEL_DIR"]), include_in_training=current not in EXCLUDED,
                          hosts=hosts, current_host=current, update_rabit_args=True)
"""
PARAMS = {"max_depth": 2, "eta": 0.5, "tree_method": "hist", "max_bin": 16}
HOSTS = ("algo-1", "algo-2")


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            try:
                second.bind(("127.0.0.1", first.getsockname()[1] + 1))
            except OSError:
                continue
            return first.getsockname()[1]
    raise RuntimeError("no two consecutive free ports")


def shard(seed: int) -> str:
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(40, 3))
    labels = (features[:, 0] + features[:, 1] > 0).astype(float)
    return "\n".join(",".join(f"{v:.4f}" for v in row) for row in np.column_stack([labels, features])) + "\n"


def run_hosts(venv, root: Path, *, excluded=(), hosts=HOSTS, join_seconds="30") -> dict[str, subprocess.CompletedProcess]:
    """Every host of ``hosts`` (of a job of HOSTS) as the emulator starts them: at once, one process each."""
    script = f"PARAMS = {PARAMS!r}\nEXCLUDED = {list(excluded)!r}\n" + textwrap.dedent(DISTRIBUTED_SCRIPT)
    collective = root / "collective"
    collective.mkdir(parents=True)
    port = str(free_port_pair())
    processes = {}
    for index, host in enumerate(hosts):
        base = lay_out(root / host, hosts=HOSTS, current=host, channels={"train": {"part.csv": shard(HOSTS.index(host))}},
                       script=script)  # fmt: skip
        processes[host] = subprocess.Popen(
            [str(venv.python), "-m", "vgsales_script_train"], cwd=base / "code", stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, env=env_of(venv, base, VGSALES_RABIT_PORT=port,
            VGSALES_COLLECTIVE_DIR=str(collective), VGSALES_RABIT_JOIN_SECONDS=join_seconds))  # fmt: skip
    results = {}
    for host, process in processes.items():
        output, _ = process.communicate(timeout=RUN_SECONDS)
        results[host] = subprocess.CompletedProcess(process.args, process.returncode, output, "")
    return results


def test_rabit_run_trains_one_model_across_two_hosts_on_loopback(venv, tmp_path):
    results = run_hosts(venv, tmp_path)
    assert {host: result.returncode for host, result in results.items()} == {"algo-1": 0, "algo-2": 0}, results
    master = (tmp_path / "algo-1" / "model" / "xgboost-model.json").read_bytes()
    assert (tmp_path / "algo-2" / "model" / "worker-model.json").read_bytes() == master
    assert not (tmp_path / "algo-2" / "model" / "xgboost-model.json").exists()  # is_master: algo-1 only
    # near miss: the master's shard alone gives another model, so the hosts did train together
    own = np.loadtxt(tmp_path / "algo-1" / "input" / "data" / "train" / "part.csv", delimiter=",")
    alone = xgb.train(PARAMS, xgb.DMatrix(own[:, 1:], label=own[:, 0]), 3)
    assert bytes(alone.save_raw("json")) != master
    assert sorted(os.listdir(tmp_path / "collective")) == ["algo-1.joined", "algo-1.waiting", "algo-2.joined",
                                                           "algo-2.waiting"]  # fmt: skip


def test_a_host_without_data_leaves_with_the_containers_warning(venv, tmp_path):
    results = run_hosts(venv, tmp_path, excluded=("algo-2",))
    assert {host: result.returncode for host, result in results.items()} == {"algo-1": 0, "algo-2": 0}, results
    assert "Host algo-2 not being used for distributed training." in results["algo-2"].stdout
    assert "not being used" not in results["algo-1"].stdout
    assert (tmp_path / "algo-1" / "model" / "xgboost-model.json").exists()
    assert not any((tmp_path / "algo-2" / "model").iterdir())


def test_a_host_that_cannot_join_gives_up_naming_the_hosts_it_waited_for(venv, tmp_path):
    # algo-1, the tracker, never comes: algo-2 gives up (run_hosts waits RUN_SECONDS at most, so a hang fails too).
    results = run_hosts(venv, tmp_path, hosts=("algo-2",), join_seconds="1")
    assert results["algo-2"].returncode == 1
    said = results["algo-2"].stdout
    assert "the tracker on algo-1 (127.0.0.1:" in said and "did not accept within 1 s (VGSALES_RABIT_JOIN_SECONDS)" in said
    assert "algo-2 waited for algo-1, of the hosts ['algo-1', 'algo-2']" in said
    assert (tmp_path / "algo-2" / "output" / "failure").read_text().startswith("ExecuteUserScriptError:\nCommand ")
    assert sorted(os.listdir(tmp_path / "collective")) == ["algo-2.waiting"]


# --- the training entry point ---------------------------------------------------------------------------------------

TRAIN_SCRIPT = """
    import json, os, sys
    print("RAN", json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
                             "env": {k: os.environ.get(k) for k in WATCHED}}))
    {ending}
"""
WATCHED = ["SM_CHANNEL_TRAIN", "SM_HP_MAX_DEPTH", "SM_MODEL_DIR", "SM_INPUT_TRAINING_CONFIG_FILE",
           "SAGEMAKER_TRAINING_MODULE", "CURRENT_HOST", "SAGEMAKER_JOB_NAME", "SAGEMAKER_REGION", "TRAINING_JOB_NAME",
           "OMP_NUM_THREADS"]  # fmt: skip


def training_job(tmp_path: Path, ending: str) -> Path:
    script = f"WATCHED = {WATCHED!r}\n" + textwrap.dedent(TRAIN_SCRIPT).replace("{ending}", ending)
    return lay_out(tmp_path / "ml", channels={"train": {"a.csv": CSV_A}}, script=script)


def test_the_training_entry_runs_the_script_with_its_hyperparameters_as_arguments(venv, tmp_path):
    base = training_job(tmp_path, "pass")
    result = train(venv, base, TRAINING_JOB_NAME="job-1")
    assert result.returncode == 0, result.stdout + result.stderr
    ran = json.loads(result.stdout.split("RAN ", 1)[1].splitlines()[0])
    assert ran["argv"] == ["--eta", "0.2", "--max_depth", "5"]
    assert ran["cwd"] == str(base / "code")
    assert ran["env"] == {
        "SM_CHANNEL_TRAIN": str(base / "input" / "data" / "train"), "SM_HP_MAX_DEPTH": "5",
        "SM_MODEL_DIR": str(base / "model"),
        "SM_INPUT_TRAINING_CONFIG_FILE": str(base / "input" / "config" / "hyperparameters.json"),  # the image's ENV
        "SAGEMAKER_TRAINING_MODULE": "sagemaker_xgboost_container.training:main",
        "CURRENT_HOST": "algo-1", "SAGEMAKER_JOB_NAME": "job-1", "SAGEMAKER_REGION": "us-east-1",
        "TRAINING_JOB_NAME": "job-1", "OMP_NUM_THREADS": None,  # the model server's default, not training's
    }  # fmt: skip
    assert "Invoking user training script." in result.stderr
    assert "Invoking script with the following command:" in result.stderr
    # training.main's sys.exit(0) ends the process before _trainer writes a success file, in the container too
    assert not (base / "output" / "failure").exists() and not (base / "output" / "success").exists()


@pytest.mark.parametrize("ending, said", [
    ("raise ValueError('the script broke')", "ValueError: the script broke"),
    ("sys.exit(3)", None),
    ("import signal; os.kill(os.getpid(), signal.SIGKILL)", None),
])  # fmt: skip
def test_a_failed_script_leaves_the_containers_failure_file_and_exit_status_1(venv, tmp_path, ending, said):
    base = training_job(tmp_path, ending)
    result = train(venv, base)
    assert result.returncode == 1  # _trainer's DEFAULT_FAILURE_CODE, whatever the script's status or signal
    expected = f'ExecuteUserScriptError:\nCommand "{venv.python} -m train --eta 0.2 --max_depth 5"'
    assert (base / "output" / "failure").read_text() == expected
    assert expected in result.stderr  # logged too
    if said:
        assert said in result.stderr  # the script's own traceback, in the job's log


# --- the model server ---------------------------------------------------------------------------------------------


class Server:
    """vgsales_script_serve as the emulator runs it: two pipes, VGSALES_SERVE_FDS, stdout and stderr to the log."""

    def __init__(self, venv, base: Path, program: str, **extra: str) -> None:
        request_in, self._requests = os.pipe()
        self._answers, answer_out = os.pipe()
        env = env_of(venv, base, SAGEMAKER_PROGRAM=program, SAGEMAKER_SUBMIT_DIRECTORY=str(base / "code"),
                     SM_MODEL_DIR=str(base / "model"), VGSALES_SERVE_FDS=f"{request_in},{answer_out}", **extra)  # fmt: skip
        self._log = base.parent / "server.log"  # a file, not a pipe: a chatty server never blocks on it
        with self._log.open("w") as log:
            self.process = subprocess.Popen([str(venv.python), "-m", "vgsales_script_serve"], env=env,
                                            cwd=base / "code", pass_fds=(request_in, answer_out), stdout=log,
                                            stderr=subprocess.STDOUT)  # fmt: skip
        os.close(request_in)
        os.close(answer_out)
        self._buffer = b""

    def _read(self, count: int | None) -> bytes:
        deadline = time.monotonic() + RUN_SECONDS
        while (b"\n" not in self._buffer) if count is None else (len(self._buffer) < count):
            ready, _, _ = select.select([self._answers], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._answers, 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"no answer; the server said: {self.close()[1]}")
            self._buffer += chunk
        end = self._buffer.index(b"\n") + 1 if count is None else count
        taken, self._buffer = self._buffer[:end], self._buffer[end:]
        return taken

    def receive(self) -> tuple[dict, bytes]:
        header = json.loads(self._read(None))
        return header, self._read(header["length"])

    def invoke(self, body: bytes, content_type: str | None = "text/csv", accept: str | None = None) -> tuple[dict, bytes]:
        os.write(self._requests, json.dumps({"content_type": content_type, "accept": accept, "length": len(body)}).encode()
                 + b"\n" + body)  # fmt: skip
        return self.receive()

    def close(self) -> tuple[int, str]:
        try:
            os.close(self._requests)
        except OSError:
            pass
        self.process.wait(timeout=RUN_SECONDS)
        os.close(self._answers)
        return self.process.returncode, self._log.read_text()


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    features = np.array([[1, 2], [3, 4], [5, 6], [7, 8], [2, 1], [6, 3]], float)
    return xgb.train({"max_depth": 2}, xgb.DMatrix(features, label=np.array([0, 1, 0, 1, 1, 0.0])), 3)


def serving(tmp_path: Path, booster: xgb.Booster, script: str) -> Path:
    base = tmp_path / "ml"
    (base / "model").mkdir(parents=True)
    booster.save_model(base / "model" / "xgboost-model.json")
    return lay_out(base, script=script, program="inference.py")


MODEL_FN = textwrap.dedent("""
    import os
    import xgboost as xgb

    print("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS"))

    def model_fn(model_dir):
        booster = xgb.Booster()
        booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
        return booster
""")


def test_the_server_answers_with_xgboosts_defaults_and_the_containers_500(venv, tmp_path, booster):
    server = Server(venv, serving(tmp_path, booster, MODEL_FN), "inference.py")
    assert server.receive() == ({"ready": True, "length": 0}, b"")
    expected = booster.predict(xgb.DMatrix(np.array([[1, 2], [6, 3]], float)))

    header, body = server.invoke(b"1,2\n6,3", "text/csv", "text/csv")
    assert header == {"status": 200, "content_type": "text/csv; charset=utf-8", "length": len(body)}
    assert [float(line) for line in body.decode().splitlines()] == pytest.approx(expected.tolist())
    header, body = server.invoke(b"1,2\n6,3", "text/csv", "*/*")  # */* and none: SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
    assert header["content_type"] == "application/json" and json.loads(body) == pytest.approx(expected.tolist())
    # XGBoost's default input_fn reaches the Transformer wrapped, so its UnsupportedFormatError is a 500, not a 415
    for content_type, payload in (("application/json", b"[[1, 2]]"), (None, b"[[1, 2]]"), ("text/csv", b"1,2\n")):
        header, body = server.invoke(payload, content_type)
        assert (header["status"], header["content_type"], body.decode()) == (500, "text/html", INTERNAL_SERVER_ERROR)
    header, body = server.invoke(b"1,2", "text/csv", "text/libsvm")  # the default output_fn's: a 500 as well
    assert header["status"] == 500
    header, body = server.invoke(b"1,2", "text/csv", "application/json")  # and the loop goes on
    assert header["status"] == 200 and json.loads(body) == pytest.approx(expected[:1].tolist())

    code, log = server.close()
    assert code == 0
    assert "OMP_NUM_THREADS 1" in log  # the image's default for the model server
    assert log.count("Exception on /invocations [POST]") == 4
    assert "UnsupportedFormatError: Content type application/json is not supported by this framework." in log


def test_the_server_runs_the_scripts_own_functions(venv, tmp_path, booster):
    script = MODEL_FN + textwrap.dedent("""
    import json
    import sagemaker_xgboost_container.encoder as xgb_encoders
    from sagemaker_containers.beta.framework import errors, worker

    def input_fn(request_body, request_content_type):
        if request_content_type == "application/x-unsupported":
            raise errors.UnsupportedFormatError(request_content_type)
        return xgb_encoders.decode(request_body, request_content_type)

    def predict_fn(input_data, model):
        if input_data.num_row() == 3:
            raise RuntimeError("three rows are too many")
        return model.predict(input_data)

    def output_fn(predictions, content_type):
        if content_type == "text/plain":
            return ",".join(str(x) for x in predictions)
        return worker.Response(xgb_encoders.json_to_jsonlines({"predictions": predictions.tolist()}),
                               mimetype="application/jsonlines")
    """)
    server = Server(venv, serving(tmp_path, booster, script), "inference.py")
    assert server.receive()[0] == {"ready": True, "length": 0}
    expected = booster.predict(xgb.DMatrix(np.array([[1, 2], [6, 3]], float))).tolist()

    header, body = server.invoke(b"0 0:1 1:2\n0 0:6 1:3", "text/libsvm", "application/jsonlines")
    assert (header["status"], header["content_type"]) == (200, "application/jsonlines")
    assert [json.loads(line) for line in body.decode().splitlines()] == pytest.approx(expected)
    header, body = server.invoke(b"1,2", "text/csv", "text/plain")  # a str: Flask's text/html response
    assert (header["status"], header["content_type"]) == (200, "text/html; charset=utf-8")
    assert float(body) == pytest.approx(expected[0])
    header, body = server.invoke(b"1,2", "application/x-unsupported")  # the user's, wrapped: ClientError, 500
    assert (header["status"], body.decode()) == (500, INTERNAL_SERVER_ERROR)
    header, body = server.invoke(b"1,2\n3,4\n5,6", "text/csv")
    assert (header["status"], body.decode()) == (500, INTERNAL_SERVER_ERROR)
    header, body = server.invoke(b"1,2", "text/csv", "application/jsonlines")  # the loop goes on
    assert header["status"] == 200

    code, log = server.close()
    assert code == 0
    assert "ClientError: three rows are too many" in log and "RuntimeError: three rows are too many" in log


def test_the_transformers_own_defaults_answer_415_and_406(venv, tmp_path):
    """sagemaker-containers' default input_fn and output_fn (not wrapped) map UnsupportedFormatError to 415 and 406."""
    base = lay_out(tmp_path / "ml")
    found = last_json(run_python(venv, base, """
        import json
        from werkzeug.test import EnvironBuilder
        from sagemaker_containers.beta.framework import transformer, worker
        model = transformer.Transformer(model_fn=lambda model_dir: model_dir, predict_fn=lambda data, model: data * 2)
        model.initialize()
        def answer(content_type, accept, body):
            environ = EnvironBuilder(method="POST", data=body, headers={"Content-Type": content_type, "Accept": accept}).get_environ()
            response = model.transform(worker.Request(environ))
            return [response.status_code, response.headers["Content-Type"], response.get_data(as_text=True)]
        print(json.dumps({"ok": answer("application/json", "text/csv", b"[1, 2]"),
                          "415": answer("text/libsvm", "text/csv", b"0 1:1"),
                          "406": answer("application/json", "text/libsvm", b"[1, 2]")}))
    """))  # fmt: skip
    assert found["ok"] == [200, "text/csv; charset=utf-8", "2\n4\n"]
    for status, content_type in (("415", "text/libsvm"), ("406", "text/libsvm")):
        code, mimetype, body = found[status]
        assert (code, mimetype) == (int(status), "application/json")
        error = json.loads(body)
        assert error["error"] == "UnsupportedFormatError"
        assert error["error-message"].startswith(f"Content type {content_type} is not supported by this framework.")
        assert "Traceback" in error["stack-trace"]


def test_transform_fn_alone_is_served(venv, tmp_path, booster):
    script = MODEL_FN + textwrap.dedent("""
    import sagemaker_xgboost_container.encoder as xgb_encoders

    def transform_fn(model, request_body, content_type, accept):
        predictions = model.predict(xgb_encoders.decode(request_body, content_type))
        return "\\n".join(str(x) for x in predictions), "text/csv"
    """)
    server = Server(venv, serving(tmp_path, booster, script), "inference.py")
    assert server.receive()[0]["ready"] is True
    header, body = server.invoke(b"1,2")
    assert (header["status"], header["content_type"]) == (200, "text/csv; charset=utf-8")
    assert float(body) == pytest.approx(booster.predict(xgb.DMatrix(np.array([[1, 2]], float)))[0])
    assert server.close()[0] == 0


NOT_STARTING = {
    "model_fn fails": (MODEL_FN.replace("xgboost-model.json", "no-such-file.json"), (
        "The model server could not load the model: model_fn(", "of inference.py: ClientError: XGBoostError: ")),
    "no model_fn": ("import xgboost\n", ((
        "The model server could not load the model: inference.py has no model_fn, and the XGBoost container provides "
        "none: ClientError: NotImplementedError: Please provide a model_fn implementation. See documentation for "
        "model_fn at https://github.com/aws/sagemaker-python-sdk."),)),
    "transform_fn with input_fn": (
        MODEL_FN + ("\ndef transform_fn(model, body, content_type, accept):\n    return body\n\n"
                    "def input_fn(body, content_type):\n    return body\n"), ((
            "The model server could not use the inference script inference.py: UserError: Cannot use transform_fn "
            "implementation with input_fn, predict_fn, and/or output_fn."),)),
    "import fails": ("import no_such_module\n", (
        "The model server could not import the inference script inference.py (module inference in ",
        "): ImportModuleError: ModuleNotFoundError: No module named 'no_such_module'.")),
}  # fmt: skip


@pytest.mark.parametrize("case", NOT_STARTING)
def test_a_server_that_cannot_start_says_why(venv, tmp_path, booster, case):
    script, said = NOT_STARTING[case]
    server = Server(venv, serving(tmp_path, booster, script), "inference.py")
    header, _ = server.receive()
    assert header["ready"] is False and all(part in header["error"] for part in said), header
    assert "\n" not in header["error"]
    code, _ = server.close()
    assert code == 1

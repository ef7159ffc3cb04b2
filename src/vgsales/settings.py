"""The `workshop` section of invoke's configuration, checked once into typed settings.

Every value a user can set is validated here, before any task creates or spends anything, so that a typo
in invoke.yaml or an INVOKE_WORKSHOP_* variable gets a one-paragraph WorkshopError instead of a failure
halfway through a run.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .algorithm.hyperparameters import (  # one rule book for both targets
    ALIASES,
    SCHEMA,
    TUNING_OBJECTIVES,
    InvalidHyperparameter,
    validate_hyperparameters,
)
from .algorithm.tuning import InvalidTuning, ParameterRange, check_job, check_range, objective_type, range_kind
from .algorithm.versions import tag_version
from .errors import WorkshopError
from .loopback import require_loopback

TARGETS = ("local", "aws")
# The one tag that identifies a stack, with its name_prefix as the value, on every resource the project creates
# (terraform/main.tf puts it on the long-lived ones, the pipeline on the rest). Discovery trusts nothing else.
STACK_TAG = "vgsales:stack"
# The project folder of a notebook or a `vgsales` command run elsewhere (cli/ and notebook.py read it).
PROJECT_DIR_ENV = "VGSALES_PROJECT_DIR"
# Words a boolean setting accepts, from invoke.yaml, a -f file or an INVOKE_WORKSHOP_* variable alike.
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")

# Regions that offer SageMaker notebook instances. terraform/variables.tf validates the same list; a test
# keeps the two equal.
SAGEMAKER_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

# Instance families SageMaker offers for each use. t2/t3 cannot train; m4 is missing from newer regions but
# still valid where it exists, so it is accepted.
_GENERAL = ("m4", "m5", "m5d", "m6i", "m6id", "m7i", "c4", "c5", "c5d", "c5n", "c6i", "c6id", "c7i", "r5", "r5d", "r6i", "r7i")
_GPU = ("p3", "p3dn", "p4d", "g4dn", "g5", "g6")
INSTANCE_FAMILIES = {
    "training": _GENERAL + _GPU,
    "hosting": _GENERAL + _GPU + ("t2", "t3", "inf1", "inf2"),
}
_INSTANCE_SIZE = r"(medium|large|xlarge|[0-9]{1,2}xlarge|metal)"

# The hosting payload limit of InvokeEndpoint; one libsvm row of this dataset is well under 200 bytes.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
CONTENT_TYPES = ("text/x-libsvm", "text/libsvm", "text/csv")
SERVERLESS_MEMORY_MB = (1024, 2048, 3072, 4096, 5120, 6144)
# workshop.data_sha256: this word accepts any dataset file (another dataset of the same schema, on purpose).
ANY_DATASET = "any"


@dataclass(frozen=True)
class TerraformSettings:
    plugin_mirror: str | None = None
    create_notebook_instance: bool = True
    notebook_instance_type: str = "ml.t3.medium"
    idle_timeout_minutes: int = 60
    # None: the target's choice (the aws target creates the rule; the local target does not, see targets/local.py).
    bucket_lifecycle_rule: bool | None = None


@dataclass(frozen=True)
class EmulatorSettings:
    host: str = "127.0.0.1"
    port: int = 0


@dataclass(frozen=True)
class TrainingSettings:
    image_version: str = "3.2-0"
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int = 10
    max_runtime_seconds: int = 3600
    use_spot: bool = False
    max_wait_seconds: int = 7200
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TuningSettings:
    strategy: str = "Bayesian"
    max_jobs: int = 30
    max_parallel_jobs: int = 2
    objective_metric: str = "validation:auc"
    early_stopping: bool = False
    random_seed: int = 0
    ranges: tuple[ParameterRange, ...] = ()

    @property
    def objective_type(self) -> str:
        return str(objective_type(self.objective_metric))


@dataclass(frozen=True)
class ServerlessSettings:
    memory_mb: int
    max_concurrency: int


@dataclass(frozen=True)
class DeploySettings:
    instance_type: str = "ml.m5.large"
    instance_count: int = 1
    serverless: ServerlessSettings | None = None


EVALUATE_VIA = ("endpoint", "transform")


@dataclass(frozen=True)
class EvaluateSettings:
    batch_size: int = 100
    content_type: str = "text/x-libsvm"
    concurrency: int = 4
    via: str = "endpoint"
    transform_instance_type: str = "ml.m5.large"


@dataclass(frozen=True)
class Settings:
    target: str
    region: str
    data_source: str
    # The sha256 the dataset must have, lower case; None (data_sha256: any) accepts any file.
    data_sha256: str | None
    name_prefix: str
    data_prefix: str
    state_dir: Path
    confirm: bool
    tags: Mapping[str, str]
    terraform: TerraformSettings
    emulator: EmulatorSettings
    training: TrainingSettings
    tuning: TuningSettings
    deploy: DeploySettings
    evaluate: EvaluateSettings

    @property
    def target_dir(self) -> Path:
        """Everything this project keeps for one target; the two targets never share a file."""
        return self.state_dir / self.target

    @classmethod
    def from_config(cls, config: Mapping[str, Any], project_dir: Path | None = None) -> Settings:
        """Build settings from invoke's `workshop` mapping, refusing unknown keys and bad values."""
        reader = _Reader(_plain(config), "workshop")
        target = reader.choice("target", TARGETS)
        region = reader.choice("region", SAGEMAKER_REGIONS)
        name_prefix = reader.text("name_prefix")
        check_name_prefix(name_prefix)
        data_prefix = reader.text("data_prefix")
        check_data_prefix(data_prefix)
        state_dir = Path(reader.text("state_dir")).expanduser()
        if project_dir is not None and not state_dir.is_absolute():
            state_dir = project_dir / state_dir
        tags = reader.mapping("tags")
        training = _training(reader.section("training"))
        for key, value in tags.items():
            if not isinstance(value, (str, int, float, bool)):
                raise _bad_mapping("workshop.tags", f"tag {key!r} has a {type(value).__name__} value; tags are strings")
            if key == STACK_TAG:
                raise _bad_mapping(
                    "workshop.tags", f"{STACK_TAG!r} identifies the stack and is always its name_prefix; remove it"
                )
            if key.lower().startswith("aws:"):
                raise _bad_mapping("workshop.tags", f"tag {key!r} starts with 'aws:', which AWS reserves")
        settings = cls(
            target=target,
            region=region,
            data_source=reader.text("data_source"),
            data_sha256=_data_sha256(reader),
            name_prefix=name_prefix,
            data_prefix=data_prefix,
            state_dir=state_dir,
            confirm=reader.boolean("confirm"),
            tags={str(k): str(v) for k, v in tags.items()},
            terraform=_terraform(reader.section("terraform")),
            emulator=_emulator(reader.section("emulator")),
            training=training,
            tuning=_tuning(reader.section("tuning"), training),
            deploy=_deploy(reader.section("deploy")),
            evaluate=_evaluate(reader.section("evaluate")),
        )
        reader.refuse_unknown()
        return settings


def _data_sha256(reader: _Reader) -> str | None:
    value = reader.text("data_sha256")
    if value.lower() == ANY_DATASET:
        return None
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return value.lower()
    digits = f"; this one has {len(value)} characters" if re.fullmatch(r"[0-9a-fA-F]+", value) else ""
    raise _bad(
        reader.key("data_sha256"),
        f"{value!r} is neither {ANY_DATASET!r} (accept any dataset file) nor a sha256, the 64 hexadecimal digits "
        f"`sha256sum` prints{digits}",
    )


def project_defaults(project_dir: Path) -> dict[str, Any]:
    """The `workshop` mapping of the invoke.yaml in project_dir as plain data, without environment overrides."""
    from invoke import Config

    config = Config(project_location=str(project_dir))
    config.load_project()
    return _plain(config.workshop)


def with_changes(workshop: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a `workshop` mapping with dotted-key changes, e.g. {"training.instance_count": 2}."""
    data = copy.deepcopy(_plain(workshop))
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = data
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return data


# --- INVOKE_WORKSHOP_* variables ------------------------------------------------------------------------
# invoke maps an INVOKE_* variable only onto a key that a loaded file already has, and silently drops the rest.
# Two mappings take names of the user's choosing and are advertised with variables of their own; every other
# variable that names no setting is refused, so that a typo never runs the workshop with a default instead.
ENV_PREFIX = "INVOKE_WORKSHOP_"
HYPERPARAMETER_PREFIX = ENV_PREFIX + "TRAINING_HYPERPARAMETERS_"  # + <NAME>: training.hyperparameters.<name>
RANGE_PREFIX = ENV_PREFIX + "TUNING_RANGES_"  # + <NAME>_MIN|MAX|SCALING: tuning.ranges.<name>.min|max|scaling
RANGE_FIELDS = ("min", "max", "scaling")
# Mappings whose keys the user chooses, empty by default: only a -f file can fill them.
FILE_ONLY = ("tags", "deploy.serverless")


def workshop_of(config: Any, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The `workshop` mapping of an invoke Config as a task sees it (files and load_shell_env), completed with
    the INVOKE_WORKSHOP_* variables invoke leaves out, each unknown one refused (see with_environment)."""
    if "workshop" not in config:
        raise WorkshopError(
            "invoke's configuration has no `workshop` section: the project's invoke.yaml beside tasks.py defines it. "
            "Restore that section, and put your own settings in a file you pass with -f instead."
        )
    return with_environment(config.workshop, os.environ if environ is None else environ)


def with_environment(workshop: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """A copy of a `workshop` mapping with INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_<NAME> and
    INVOKE_WORKSHOP_TUNING_RANGES_<NAME>_MIN|MAX|SCALING applied (names lower-cased, as the algorithm spells
    them). Any other INVOKE_WORKSHOP_* variable must be one invoke has already mapped onto a key of ``workshop``;
    else a WorkshopError names it.

    A key that some file has is invoke's to map, in its own order (invoke.yaml < the environment < the -f
    file); only keys no file has are added here, so a variable never overrides a -f file, as for every setting."""
    data = copy.deepcopy(_plain(workshop))
    leaves, mappings = _variables(data)
    for variable in sorted(environ):
        if not variable.startswith(ENV_PREFIX) or variable in leaves:
            continue  # not a workshop variable, or one invoke has already applied
        path = _open_path(variable)
        if path is None:
            raise _unknown_variable(variable, environ[variable], data, leaves, mappings)
        _put(data, path, environ[variable])
    return data


def _variables(data: Mapping[str, Any], path: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """The variables invoke maps onto the keys of ``data``: {variable: dotted key} for leaves and for mappings."""
    leaves: dict[str, str] = {}
    mappings: dict[str, str] = {}
    for key, value in data.items():
        here = (*path, str(key))
        dotted = ".".join(here)
        if isinstance(value, dict):
            mappings[variable_of(f"workshop.{dotted}")] = dotted
            inner_leaves, inner_mappings = _variables(value, here)
            leaves.update(inner_leaves)
            mappings.update(inner_mappings)
        else:
            leaves[variable_of(f"workshop.{dotted}")] = dotted
    return leaves, mappings


def _open_path(variable: str) -> tuple[str, ...] | None:
    """Where a hyperparameter or tuning-range variable goes, or None for any other variable."""
    if variable.startswith(HYPERPARAMETER_PREFIX) and len(variable) > len(HYPERPARAMETER_PREFIX):
        return ("training", "hyperparameters", variable[len(HYPERPARAMETER_PREFIX):].lower())
    if variable.startswith(RANGE_PREFIX):
        name, _, part = variable[len(RANGE_PREFIX):].rpartition("_")
        if name and part.lower() in RANGE_FIELDS:
            return ("tuning", "ranges", name.lower(), part.lower())
    return None


def _put(data: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    node = data
    for key in path[:-1]:
        if node.get(key) is None:  # missing, or left empty in a file (`ranges:`): the variable starts it
            node[key] = {}
        node = node[key]
        if not isinstance(node, dict):
            return  # a file gave a non-mapping here: the settings check refuses the file's value itself
    node[path[-1]] = value


def _unknown_variable(
    variable: str, value: str, data: Mapping[str, Any], leaves: Mapping[str, str], mappings: Mapping[str, str]
) -> WorkshopError:
    ending = f"Nothing was created. Unset it (`unset {variable}`)"
    for mapping_variable, dotted in sorted(mappings.items(), key=lambda item: -len(item[0])):
        inside = variable.startswith(mapping_variable + "_") and dotted in FILE_ONLY
        if variable != mapping_variable and not inside:
            continue
        key = f"workshop.{dotted}"
        if dotted in FILE_ONLY:
            key_in_file = variable[len(mapping_variable) + 1 :].lower() or "<key>"
            example = _yaml_example(("workshop", *dotted.split("."), key_in_file), value)
            return WorkshopError(
                f"The environment variable {variable} names no setting: {key} is a mapping of keys you choose, and "
                f"invoke maps variables only onto keys a file already has, so it would ignore it. {ending} and set "
                f"it in a YAML file you pass with -f instead, e.g. `{example}` in my-settings.yaml and "
                "`invoke -f my-settings.yaml ...`."
            )
        some = next((name for name, leaf in leaves.items() if leaf.startswith(dotted + ".")), None)
        each = f", each with a variable of its own (e.g. {some})" if some else ""
        return WorkshopError(
            f"The environment variable {variable} names no setting: {key} is a mapping of settings{each}, and no "
            f"one variable sets all of it. {ending}, and set its settings one by one, or under {key} in a YAML "
            "file you pass with -f."
        )
    if variable.startswith(RANGE_PREFIX) and variable.endswith("_VALUES"):
        name = variable[len(RANGE_PREFIX):-len("_VALUES")].lower()
        return WorkshopError(
            f"The environment variable {variable} names no setting: workshop.tuning.ranges.{name}.values is a list, "
            f"which no environment variable can give. {ending} and set it in a YAML file you pass with -f instead, "
            f"e.g. `workshop: {{tuning: {{ranges: {{{name}: {{values: [...]}}}}}}}}`."
        )
    candidates = {**leaves}
    for name in [*SCHEMA, *ALIASES]:
        candidates[HYPERPARAMETER_PREFIX + name.upper()] = f"training.hyperparameters.{name}"
    ranges = data.get("tuning", {}).get("ranges", {}) if isinstance(data.get("tuning"), dict) else {}
    for name in ranges if isinstance(ranges, dict) else ():
        for part in RANGE_FIELDS:
            candidates[f"{RANGE_PREFIX}{str(name).upper()}_{part.upper()}"] = f"tuning.ranges.{name}.{part}"
    close = difflib.get_close_matches(variable.upper(), list(candidates), n=1, cutoff=0.8)
    hint = f" Did you mean {close[0]} (workshop.{candidates[close[0]]})? Rename or unset it" if close else " Unset it"
    return WorkshopError(
        f"The environment variable {variable} names no setting, so invoke would ignore it. Nothing was created."
        f"{hint} (`unset {variable}`); `invoke --help <task>` lists the settings of a task with their variables, "
        "invoke.yaml all of them."
    )


def _yaml_example(path: tuple[str, ...], value: str) -> str:
    """`workshop: {tags: {owner: "me"}}`: one flow-style YAML line that sets path to value."""
    text = json.dumps(value)  # a JSON string is a YAML string, whatever it holds
    for key in reversed(path[1:]):
        text = f"{{{key}: {text}}}"
    return f"{path[0]}: {text}"


# The stack's name prefix becomes part of S3 bucket names ("<prefix>-" and 26 digits) and SageMaker resource
# names (at most 63 characters; the longest the project derives is deploy's endpoint config,
# "<prefix>-config-YYYYmmdd-HHMMSS-xxxx-hhhhhh", 35 characters more). terraform/variables.tf states the same
# rules as validation blocks, and tests/settings/name_prefixes.json holds one table of good and bad names that
# both must agree on.
NAME_PREFIX_MAX = 24
NAME_PREFIX_RULES = (
    (r".{3,}", "it must be at least 3 characters long"),
    (r".{0,24}", "it must be at most 24 characters long, so derived SageMaker names stay within 63"),
    (r"[a-z0-9-]*", "S3 bucket names allow only lowercase letters, digits and hyphens"),
    (r"[a-z].*", "it must start with a lowercase letter"),
    (r".*[^-]", "SageMaker names cannot end with a hyphen"),
    (r"(?!.*--).*", "it must not contain two hyphens in a row (S3 reserves some such names)"),
    (r"(?!sthree-|amzn-s3-demo-).*", "S3 reserves bucket names that begin like this"),
)


def check_name_prefix(prefix: str) -> None:
    """Each failure names the rule it broke."""
    for pattern, rule in NAME_PREFIX_RULES:
        if re.fullmatch(pattern, prefix, flags=re.DOTALL) is None:
            raise _bad("workshop.name_prefix", f"{prefix!r} is not a valid name prefix: {rule}")


def check_data_prefix(prefix: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}", prefix) or "//" in prefix or prefix.endswith("/"):
        raise _bad(
            "workshop.data_prefix",
            f"{prefix!r} is not a valid S3 key prefix: use letters, digits, '.', '_', '-' and single '/' "
            "separators, not starting or ending with '/'",
        )


def check_instance_type(key: str, value: str, use: str) -> None:
    match = re.fullmatch(rf"ml\.([a-z0-9]+)\.{_INSTANCE_SIZE}", value)
    if match is None:
        raise _bad(key, f"{value!r} is not a SageMaker instance type; they look like ml.m5.xlarge")
    if match.group(1) not in INSTANCE_FAMILIES[use]:
        families = ", ".join(f"ml.{f}" for f in INSTANCE_FAMILIES[use])
        raise _bad(key, f"{value!r} is not an instance family SageMaker offers for {use}; use one of {families}")


def _terraform(reader: _Reader) -> TerraformSettings:
    mirror = reader.optional_text("plugin_mirror")
    instance_type = reader.text("notebook_instance_type")
    check_instance_type(reader.key("notebook_instance_type"), instance_type, "hosting")
    settings = TerraformSettings(
        plugin_mirror=mirror,
        create_notebook_instance=reader.boolean("create_notebook_instance"),
        notebook_instance_type=instance_type,
        idle_timeout_minutes=reader.integer("idle_timeout_minutes", 0, 24 * 60),
        bucket_lifecycle_rule=reader.optional_boolean("bucket_lifecycle_rule"),
    )
    reader.refuse_unknown()
    return settings


def _emulator(reader: _Reader) -> EmulatorSettings:
    settings = EmulatorSettings(host=reader.text("host"), port=reader.integer("port", 0, 65535))
    reader.refuse_unknown()
    try:
        require_loopback(settings.host)
    except ValueError as exc:
        raise _bad(reader.key("host"), str(exc)) from None
    return settings


def _training(reader: _Reader) -> TrainingSettings:
    version = reader.text("image_version")
    if version == "latest" or not re.fullmatch(r"[0-9]+\.[0-9]+-[0-9]+", version):
        raise _bad(
            reader.key("image_version"),
            f"{version!r} is not a pinned XGBoost image version; use one like '3.2-0' ('latest' still means "
            "XGBoost 0.72)",
        )
    instance_type = reader.text("instance_type")
    check_instance_type(reader.key("instance_type"), instance_type, "training")
    max_runtime = reader.integer("max_runtime_seconds", 1, 28 * 24 * 3600)
    use_spot = reader.boolean("use_spot")
    max_wait = reader.integer("max_wait_seconds", 1, 28 * 24 * 3600)
    if use_spot and max_wait < max_runtime:
        raise _bad(
            reader.key("max_wait_seconds"),
            f"managed spot training needs max_wait_seconds ({max_wait}) >= max_runtime_seconds ({max_runtime})",
        )
    hyperparameters = reader.mapping("hyperparameters")
    try:
        # as SageMaker takes them (text), and as the image of image_version accepts them
        hyperparameters = validate_hyperparameters(hyperparameters, tag_version(version))
    except InvalidHyperparameter as exc:  # the algorithm's reason, and where the user sets that hyperparameter
        raise _bad(reader.key(f"hyperparameters.{exc.name}"), str(exc).rstrip(".")) from None
    settings = TrainingSettings(
        image_version=version,
        instance_type=instance_type,
        instance_count=reader.integer("instance_count", 1, 100),
        volume_size_gb=reader.integer("volume_size_gb", 1, 16384),
        max_runtime_seconds=max_runtime,
        use_spot=use_spot,
        max_wait_seconds=max_wait,
        hyperparameters=dict(hyperparameters),
    )
    reader.refuse_unknown()
    return settings


TUNING_STRATEGIES = ("Bayesian", "Random", "Grid")


def _tuning(reader: _Reader, training: TrainingSettings) -> TuningSettings:
    strategy = reader.choice("strategy", TUNING_STRATEGIES)
    max_jobs = reader.integer("max_jobs", 1, 500)
    parallel = reader.integer("max_parallel_jobs", 1, 100)
    if strategy != "Grid" and parallel > max_jobs:
        raise _bad(reader.key("max_parallel_jobs"), f"{parallel} parallel jobs is more than max_jobs ({max_jobs})")
    metric = reader.text("objective_metric")
    if objective_type(metric) is None:
        raise _bad(
            reader.key("objective_metric"),
            f"{metric!r} is not a metric the built-in XGBoost algorithm emits for tuning; it emits validation:<metric> "
            f"for {', '.join(name.split(':')[1] for name in TUNING_OBJECTIVES)} (the test split is never used to tune)",
        )
    ranges_reader = reader.section("ranges")
    ranges = tuple(_tuning_range(ranges_reader, name, strategy) for name in sorted(ranges_reader.names()))
    settings = TuningSettings(
        strategy=strategy,
        max_jobs=max_jobs,
        max_parallel_jobs=parallel,
        objective_metric=metric,
        early_stopping=reader.boolean("early_stopping"),
        random_seed=reader.integer("random_seed", 0, 2**31 - 1),
        ranges=ranges,
    )
    reader.refuse_unknown()
    try:
        check_job(static_hyperparameters(training, settings), list(ranges), metric, tag_version(training.image_version))
    except InvalidTuning as exc:
        raise _bad_mapping(reader.key("ranges"), str(exc).rstrip(".")) from None
    return settings


def static_hyperparameters(training: TrainingSettings, tuning: TuningSettings) -> dict[str, str]:
    """What a tuning job keeps fixed: training.hyperparameters (validated, so under canonical names) without
    the tuned ones (a range for learning_rate tunes eta)."""
    tuned = {ALIASES.get(parameter.name, parameter.name) for parameter in tuning.ranges}
    return {name: value for name, value in training.hyperparameters.items() if name not in tuned}


def _tuning_range(ranges: _Reader, name: str, strategy: str) -> ParameterRange:
    entry = ranges.section(name)
    key = entry.key
    kind = range_kind(name)
    if kind is None:
        raise _bad_mapping(ranges.key(name), f"{name!r} is not a hyperparameter of the built-in XGBoost algorithm")
    if strategy == "Grid" or kind == "Categorical":
        if kind != "Categorical" and entry.get("values") is None:
            raise _bad_mapping(
                ranges.key(name), "the Grid strategy needs a list of values for every range, e.g. values: [3, 5, 7]"
            )
        values = entry.take("values")
        if not isinstance(values, list) or not values:
            raise _bad_mapping(key("values"), f"expected a list of values, got {values!r}", what="a list")
        entry.refuse_unknown()
        return ParameterRange(name, "Categorical", values=tuple(str(value) for value in values))
    if entry.get("values") is not None:
        raise _bad_mapping(
            ranges.key(name),
            f"{name!r} is {kind.lower()}, so it takes min and max (and optional scaling), not a categorical list of values",
        )
    for bound in ("min", "max"):
        # A range added by INVOKE_WORKSHOP_TUNING_RANGES_<NAME>_MIN alone lacks its max; invoke.yaml is not to blame.
        if entry.get(bound) is None:
            raise _bad(key(bound), f"it is missing: a range of {name!r} needs both min and max (and optional scaling)")
    low, high = (_number(key(bound), entry.take(bound), kind) for bound in ("min", "max"))
    scaling = entry.optional_text("scaling") or "Auto"
    entry.refuse_unknown()
    parameter = ParameterRange(name, kind, low=low, high=high, scaling=scaling)
    try:
        check_range(parameter)
    except InvalidTuning as exc:
        raise _bad(ranges.key(name), str(exc).rstrip(".")) from None
    return parameter


def _number(key: str, value: Any, kind: str) -> float:
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    try:
        number = float(text) if text is not None else None
    except ValueError:
        number = None
    if number is None or number != number:  # not a number, or NaN
        raise _bad(key, f"expected a number, got {value!r}")
    if kind == "Integer" and not number.is_integer():
        raise _bad(key, f"expected a whole number, got {value!r}")
    return number


def _deploy(reader: _Reader) -> DeploySettings:
    instance_type = reader.text("instance_type")
    check_instance_type(reader.key("instance_type"), instance_type, "hosting")
    serverless = None
    if reader.get("serverless"):  # {} (the default, so that -f files can merge into it) or null: instances
        sub = reader.section("serverless")
        memory = sub.integer("memory_mb", 1024, 6144)
        if memory not in SERVERLESS_MEMORY_MB:
            raise _bad(sub.key("memory_mb"), f"{memory} is not a serverless memory size; use one of {SERVERLESS_MEMORY_MB}")
        serverless = ServerlessSettings(memory_mb=memory, max_concurrency=sub.integer("max_concurrency", 1, 200))
        sub.refuse_unknown()
    else:
        reader.take("serverless")
    settings = DeploySettings(
        instance_type=instance_type,
        instance_count=reader.integer("instance_count", 1, 100),
        serverless=serverless,
    )
    reader.refuse_unknown()
    return settings


def _evaluate(reader: _Reader) -> EvaluateSettings:
    instance_type = reader.text("transform_instance_type")
    check_instance_type(reader.key("transform_instance_type"), instance_type, "hosting")
    settings = EvaluateSettings(
        batch_size=reader.integer("batch_size", 1, 10_000),
        content_type=reader.choice("content_type", CONTENT_TYPES),
        concurrency=reader.integer("concurrency", 1, 64),
        via=reader.choice("via", EVALUATE_VIA),
        transform_instance_type=instance_type,
    )
    reader.refuse_unknown()
    return settings


def _plain(value: Any) -> Any:
    """invoke hands out DataProxy objects; turn them into plain dicts so they can be validated and copied."""
    if isinstance(value, Mapping) or hasattr(value, "_config"):
        return {str(k): _plain(value[k]) for k in value}
    return value


def variable_of(key: str) -> str:
    """The environment variable invoke maps onto a setting: workshop.training.instance_type is
    INVOKE_WORKSHOP_TRAINING_INSTANCE_TYPE."""
    return "INVOKE_" + key.upper().replace(".", "_")


def _bad(key: str, problem: str) -> WorkshopError:
    """A bad value of one setting, which its own environment variable can set too."""
    return WorkshopError(
        f"Invalid setting {key}: {problem}. Nothing was created. Fix it in invoke.yaml, in the file you pass "
        f"with -f, or in the {variable_of(key)} environment variable."
    )


def _bad_mapping(key: str, problem: str, what: str = "a mapping") -> WorkshopError:
    """A bad section or mapping (or list): no environment variable sets a whole one, so none is suggested."""
    return WorkshopError(
        f"Invalid setting {key}: {problem}. Nothing was created. Fix it under {key} in invoke.yaml or in a YAML "
        f"file you pass with -f ({what}, which no single environment variable sets)."
    )


class _Reader:
    """Takes keys out of one mapping, type-checking each, so that leftovers are exactly the unknown keys."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise _bad_mapping(path, f"expected a mapping of settings, got {data!r}")
        self._data = dict(data)
        self._path = path
        self._taken: list[str] = []  # the known keys, to suggest one for a typo

    def key(self, name: str) -> str:
        return f"{self._path}.{name}"

    def get(self, name: str) -> Any:
        return self._data.get(name)

    def take(self, name: str) -> Any:
        if name not in self._data:
            raise _bad(self.key(name), "it is missing (the default invoke.yaml beside tasks.py sets it)")
        self._taken.append(name)
        return self._data.pop(name)

    def section(self, name: str) -> _Reader:
        if name not in self._data:
            raise _bad_mapping(self.key(name), "it is missing (the default invoke.yaml beside tasks.py sets it)")
        return _Reader(self.take(name), self.key(name))

    def text(self, name: str) -> str:
        value = self.take(name)
        if not isinstance(value, str) or not value.strip():
            raise _bad(self.key(name), f"expected a non-empty text, got {value!r}")
        return value.strip()

    def optional_text(self, name: str) -> str | None:
        if self._data.get(name) in (None, ""):
            self._data.pop(name, None)
            return None
        return self.text(name)

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.take(name)
        if value not in allowed:
            raise _bad(self.key(name), f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def boolean(self, name: str) -> bool:
        value = self.take(name)
        if isinstance(value, bool):
            return value
        # invoke.yaml quotes its booleans, so that invoke hands an INVOKE_WORKSHOP_* value over as written
        # instead of casting it (invoke reads any text but "0" as true); this is the one place it is read.
        text = str(value).strip().lower() if isinstance(value, (str, int)) else None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        words = "/".join(TRUE_WORDS + FALSE_WORDS)
        raise _bad(self.key(name), f"expected true or false ({words}), got {value!r}")

    def optional_boolean(self, name: str) -> bool | None:
        if self._data.get(name) in (None, ""):
            self._data.pop(name, None)
            return None
        return self.boolean(name)

    def integer(self, name: str, low: int, high: int) -> int:
        value = self.take(name)
        if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self.key(name), f"expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise _bad(self.key(name), f"{value} is out of range; allowed is {low} to {high}")
        return value

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.take(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _bad_mapping(self.key(name), f"expected a mapping, got {value!r}")
        return value

    def names(self) -> list[str]:
        return list(self._data)

    def refuse_unknown(self) -> None:
        if self._data:
            unknown = ", ".join(sorted(self._data))
            close = difflib.get_close_matches(sorted(self._data)[0], self._taken, n=1)
            hint = f"did you mean {close[0]}?" if close and len(self._data) == 1 else "a typo?"
            raise _bad_mapping(self._path, f"unknown key(s) {unknown} ({hint}); see invoke.yaml for the keys")

"""Fixtures shared by every test folder."""

from __future__ import annotations

import gc
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vgsales.dataset import EXPECTED_COLUMNS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASET = PROJECT_ROOT.parent / "shared" / "data" / "Video_Games_Sales_as_at_22_Dec_2016.csv"

# --- the suite's CPU: collectors tuned for short processes with large, lasting heaps --------------------------
# The suite is CPU-bound on two cores (README, Tests). Terraform and its AWS provider are Go programs that build
# a large heap (the provider's schema) and exit within seconds: with Go's collector run at 5x the live heap
# instead of 2x, Terraform and its provider took 31 % less CPU over tests/stack/test_local_stack.py and
# tests/pipeline/test_stages.py (process accounting; peak 310 -> 420 MB per command). Every subprocess inherits
# it; a value already set is kept. Collecting only near a 1 GiB heap (GOGC=off with GOMEMLIMIT, Go 1.19's soft limit)
# took a further 9 % off `terraform validate` (2.35 -> 2.13 CPU-s, three runs each; 650 MB peak instead of 370 MB).
if "GOGC" not in os.environ:
    os.environ.update(GOGC="off", GOMEMLIMIT=os.environ.get("GOMEMLIMIT", "1GiB"))
# XGBoost trains with as many OpenMP threads as there are cores, and OpenMP's threads spin while they wait for one
# another: with the suite's workers already on both cores, a 100-round training took 1.92 CPU-s on two threads and
# 1.43 on one (the same trees; nthread changes no result of the hist method). Every process the tests start
# inherits it, the emulators' jobs included; a script-mode job gets its own environment, as on AWS.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# The workers' heaps are mostly imported modules and AWS's service models, which the cyclic collector walked
# again at every full collection: the in-process emulator tests (tests/emulator/test_training.py and
# test_tuning.py) took 11 % less CPU with these thresholds (the emulator's own, vgsales.emulator.__main__).
gc.set_threshold(50_000, 20, 20)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.freeze()  # what collection imported lives as long as the worker


def pytest_configure(config: pytest.Config) -> None:
    # A shell without job control starts a command it puts in the background (`pytest ... &`, as CI scripts and
    # editors may) with Ctrl-C ignored, every child inherits that, and Python keeps it: the `invoke` processes
    # that the trust suite interrupts with SIGINT, as a terminal's Ctrl-C would, then ignored it and ran on. A
    # terminal's shell gives its commands SIGINT's default, so the tests do too.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def shared_dataset() -> Path:
    """The real dataset. CI has it beside the project; elsewhere tests that need it skip, in CI they fail."""
    if not SHARED_DATASET.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the shared dataset at {SHARED_DATASET}")
        pytest.skip(f"the real dataset is not at {SHARED_DATASET}")
    return SHARED_DATASET


# --- a generated dataset of the real schema ---------------------------------------------------------------
# It mimics what the preprocessing cares about: blank cells that dropna() removes, 'tbd' user scores, a few
# categories per column, and hits (Global_Sales > 1) that tend to have higher critic scores, so a model
# trained on it learns something. Tests run with --import-mode=importlib, so helpers reach tests as fixtures.

PLATFORMS = ("PS4", "XOne", "WiiU", "PC", "3DS")
GENRES = ("Action", "Sports", "Racing", "Puzzle")
PUBLISHERS = ("Nintendo", "Sony Computer Entertainment", "Ubisoft", "Electronic Arts", "Indie Co")
RATINGS = ("E", "T", "M")


def synthetic_frame(
    rows: int = 400,
    *,
    hit_fraction: float = 0.2,
    incomplete_fraction: float = 0.1,
    tbd_fraction: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """Raw rows as the CSV holds them: User_Score as text ('7.5', 'tbd' or blank)."""
    rng = np.random.default_rng(seed)
    is_hit = rng.random(rows) < hit_fraction
    critic = np.where(is_hit, rng.integers(70, 98, rows), rng.integers(25, 90, rows)).astype(float)
    user = np.round(critic / 10 + rng.normal(0, 0.8, rows), 1).clip(0, 10)
    user_text = np.where(rng.random(rows) < tbd_fraction, "tbd", user.astype(str))
    regional = rng.dirichlet(np.ones(4), rows)
    total = np.round(np.where(is_hit, rng.uniform(1.05, 20, rows), rng.uniform(0.01, 0.95, rows)), 2)
    frame = pd.DataFrame(
        {
            "Name": [f"Game {i}" for i in range(rows)],
            "Platform": rng.choice(PLATFORMS, rows),
            "Year_of_Release": rng.integers(2000, 2017, rows).astype(float),
            "Genre": rng.choice(GENRES, rows),
            "Publisher": rng.choice(PUBLISHERS, rows),
            "NA_Sales": np.round(total * regional[:, 0], 2),
            "EU_Sales": np.round(total * regional[:, 1], 2),
            "JP_Sales": np.round(total * regional[:, 2], 2),
            "Other_Sales": np.round(total * regional[:, 3], 2),
            "Global_Sales": total,
            "Critic_Score": critic,
            "Critic_Count": rng.integers(5, 100, rows).astype(float),
            "User_Score": user_text,
            "User_Count": rng.integers(5, 1000, rows).astype(float),
            "Developer": rng.choice(("Studio A", "Studio B", "Studio C"), rows),
            "Rating": rng.choice(RATINGS, rows),
        },
        columns=list(EXPECTED_COLUMNS),
    )
    # Blank cells in columns the preprocessing keeps, so dropna() has rows to drop, as in the real file.
    incomplete = np.flatnonzero(rng.random(rows) < incomplete_fraction)
    kept_columns = ("Critic_Score", "User_Score", "Rating", "Publisher")
    for offset, row in enumerate(incomplete):
        frame.loc[row, kept_columns[offset % len(kept_columns)]] = np.nan
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Comma-separated with CRLF line ends, as the real file."""
    path = Path(path)
    frame.to_csv(path, index=False, lineterminator="\r\n")
    return path


@pytest.fixture
def make_frame():
    """``make_frame(rows=400, hit_fraction=0.2, incomplete_fraction=0.1, tbd_fraction=0.1, seed=0)``."""
    return synthetic_frame


@pytest.fixture
def write_dataset(tmp_path: Path):
    """``write_dataset(frame, name="dataset.csv") -> Path``: the frame as the real file is written."""

    def write(frame: pd.DataFrame, name: str = "dataset.csv") -> Path:
        return write_csv(frame, tmp_path / name)

    return write


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    """400 rows of the real schema, with incomplete rows, 'tbd' scores and about 20% hits."""
    return write_csv(synthetic_frame(), tmp_path / "synthetic.csv")


@pytest.fixture(scope="session")
def synthetic_dataset_path(tmp_path_factory) -> Path:
    """600 generated rows of the real schema, as a CSV file shared by the tests that run the pipeline."""
    return write_csv(synthetic_frame(rows=600, seed=3), tmp_path_factory.mktemp("synthetic") / "games.csv")


# --- settings and the local stack ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def terraform_available() -> None:
    """Tests that apply the Terraform root need the binary and a way to install the aws provider; CI must have
    both, anywhere else the tests skip and say what is missing."""
    import shutil

    reason = None
    if shutil.which("terraform") is None:
        reason = "terraform is not on PATH"
    else:
        from vgsales.infra.terraform_cli import provider_unavailable_reason

        reason = provider_unavailable_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must be able to run Terraform, but {reason}")
        pytest.skip(reason)




@pytest.fixture(scope="session")
def make_settings():
    """``make_settings(state_dir, **changes)``: the default settings with dotted-key changes, e.g.
    ``make_settings(tmp, **{"training.instance_count": 2})``."""
    from vgsales.settings import Settings, project_defaults, with_changes

    defaults = project_defaults(PROJECT_ROOT)

    def make(state_dir: Path, **changes):
        data = with_changes(defaults, {"state_dir": str(state_dir), **changes})
        return Settings.from_config(data, project_dir=PROJECT_ROOT)

    return make


# --- layers: markers for a fast loop -------------------------------------------------------------------------
# unit: pure code, no server; emulator: an emulator in this process or in the background, no Terraform; stack: a
# local stack applied with Terraform; e2e: the real dataset, the command line in a subprocess or a notebook. A
# test's layer is its own marker if it has one, else the heaviest of what its fixtures bring. `pytest -m "unit or
# emulator"` is the fast loop (README, Tests).

LAYERS = ("unit", "emulator", "stack", "e2e")
_FIXTURE_LAYERS = (
    ("e2e", ("shared_dataset", "client_stack", "shared_stack")),
    ("stack", ("terraform_available",)),
    ("emulator", ("emulator", "aws_env", "make_bucket", "make_role")),
)


def layer_of(item: pytest.Item) -> str:
    own = [marker.name for marker in item.iter_markers() if marker.name in LAYERS]
    if own:
        return own[0]  # the closest: a test's own marker before its module's
    names = set(getattr(item, "fixturenames", ()))
    for layer, fixtures in _FIXTURE_LAYERS:
        if names & set(fixtures):
            return layer
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = layer_of(item)
        if not item.get_closest_marker(layer):
            item.add_marker(layer)
    items.sort(key=schedule_key(items))


def schedule_key(items: list[pytest.Item], durations: dict[str, float] | None = None,
                 ) -> Callable[[pytest.Item], tuple[int, float, int]]:
    """The order modules start in under xdist (a stable sort keeps each module's own order): LONGEST_FIRST, then
    each folder's modules spread evenly over the rest of the run, the folders taking turns. A folder's modules are
    alike: the in-process emulator's (tests/emulator/) mostly wait for jobs that last at least a second, the
    stacks' (tests/stack/, tests/pipeline/) keep a core busy with Terraform. Run in file order, a folder's waiting
    modules ran side by side and both cores idled for half a minute (/proc/stat sampled every 5 s against which module
    each worker ran); spread out, each waits beside another folder's work, and no folder is left for the end.
    Within a folder the longest modules start first (``durations``, default DURATIONS_FILE; a module it does not
    know counts as the median), so that the run ends with short ones: in file order a folder's last module could
    be one of its longest (tests/pipeline/test_tune.py, 44 s) and end the run alone."""
    durations = read_durations() if durations is None else durations
    known = sorted(durations.values())
    median = known[len(known) // 2] if known else 0.0
    modules_in_order = dict.fromkeys(module_of(item.nodeid) for item in items)
    folders: dict[str, list[str]] = {}
    for module in sorted(modules_in_order, key=lambda module: -durations.get(module, median)):  # stable
        folders.setdefault(module.rsplit("/", 1)[0], []).append(module)
    turn = {module: ((position + 0.5) / len(modules), folder_rank)
            for folder_rank, modules in enumerate(folders.values()) for position, module in enumerate(modules)}

    def key(item: pytest.Item) -> tuple[int, float, int]:
        first = next((rank for rank, prefix in enumerate(LONGEST_FIRST) if item.nodeid.startswith(prefix)),
                     len(LONGEST_FIRST))
        return (first, *turn[module_of(item.nodeid)])

    return key


# Each module's duration (the setup, call and teardown of its tests, summed, in seconds) from one whole run on the
# project's 2-core machine: `pytest -n auto --store-durations` writes it again. Only the order of modules within a
# folder is taken from it, so it needs refreshing only when a module's length changes a lot.
DURATIONS_FILE = Path(__file__).with_name("durations.json")


def read_durations() -> dict[str, float]:
    try:
        return {str(module): float(seconds) for module, seconds in json.loads(DURATIONS_FILE.read_text()).items()}
    except FileNotFoundError:
        return {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--store-durations", action="store_true", default=False,
                     help=f"write each module's duration to {DURATIONS_FILE.name}, which orders the modules")


_module_seconds: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Under xdist the workers' reports reach the controller's hook too, so the controller sums every module.
    module = module_of(report.nodeid)
    _module_seconds[module] = _module_seconds.get(module, 0.0) + report.duration


def store_durations(config: pytest.Config) -> None:
    if config.getoption("store_durations") and not hasattr(config, "workerinput"):
        ordered = {module: round(seconds, 1) for module, seconds in sorted(_module_seconds.items())}
        DURATIONS_FILE.write_text(json.dumps(ordered, indent=1) + "\n")


# --- in parallel: a module's tests in one worker ---------------------------------------------------------------
# Under `pytest -n auto` each module runs whole in one worker, so its module fixtures (a stack, an endpoint) are
# built once; the folders below run whole in one worker, because their modules share session fixtures (the trust
# suite's two stacks, the clients' stack), built once per worker. pytest-xdist's own `--dist loadgroup` cannot do this with pytest 9: it tags
# the group onto Item._nodeid (xdist 3.8.0, remote.py), which pytest 9's Item.nodeid no longer reads.
SHARED_IN_ONE_WORKER = ("tests/trust/", "tests/clients/")
# The longest units of work start first, so that none of them starts last and runs alone at the end. The
# rehearsal and the client flows mostly wait (55 s for the provider's lifecycle-rule check; SDK v2 sleeps 30 s
# before it first asks about an endpoint), so no two of them start together: with three of them at the start,
# both cores idled for half a minute (/proc/stat sampled every 5 s). Each waits beside modules that keep a core busy.
# The emulator's training and tuning modules (a minute and half a minute, mostly waiting for jobs that last a second
# each) otherwise start near the end, their folder's file order placing them there: each in turn ended the run,
# the cores 10 to 25 % busy for its last 10 to 15 s.
LONGEST_FIRST = ("tests/rehearsal/test_rehearsal.py", "tests/trust/", "tests/terraform/test_terraform.py",
                 "tests/rehearsal/test_rehearsal_elsewhere.py", "tests/notebooks/test_notebook_instance.py",
                 "tests/clients/", "tests/emulator/test_training.py", "tests/emulator/test_tuning.py")  # fmt: skip


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def worker_scope(nodeid: str) -> str:
    module = module_of(nodeid)
    return next((folder for folder in SHARED_IN_ONE_WORKER if module.startswith(folder)), module)


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return worker_scope(nodeid)

    config.option.loadscopereorder = False  # keep LONGEST_FIRST's order, not xdist's most-tests-first
    return ModuleScheduling(config, log)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers more than there are cores. Much of the suite waits on other processes (Terraform, the
    emulator, the SDKs' waiters) or on jobs that last a second each, and a worker that waits leaves its core to the
    others. On this project's 2-core machine, in place: 3 workers 388 s (one run, 676 CPU-s), 4 workers 368 to 391 s
    (six runs, 683 to 715 CPU-s; both cores busy 93 to 98 % of the run)."""
    return (os.cpu_count() or 1) + 2


# --- no emulator outlives the test run ------------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
@pytest.fixture(autouse=True)
def fresh_default_boto3_session():
    """Each emulator signs with its own administrative key (vgsales.emulator.access), and boto3's default session
    keeps the credentials it first resolved: a test that points the environment at an emulator builds clients
    from that environment, never from an earlier test's. The new session reads AWS's service models through the
    process's shared loader (vgsales.clients), as the project's own sessions do, instead of parsing them again for
    every test; it reads credentials and region from the environment when its first client is made, as boto3's
    own default session does."""
    import boto3

    from vgsales.clients import LoaderSharingSession

    boto3.DEFAULT_SESSION = LoaderSharingSession()
    yield
    boto3.DEFAULT_SESSION = None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every emulator that a test started (its state folder is under this run's temporary folder) is stopped
    here, whatever its fixture did, and the run fails if there was one: a leak a user would have too."""
    from vgsales.emulator import daemon

    store_durations(session.config)

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or factory._basetemp is None:  # no test asked for a temporary folder
        return
    leaked = daemon.processes_under(factory.getbasetemp())
    for pid in leaked:
        daemon._terminate(pid, daemon.STOP_TIMEOUT_SECONDS)
    if leaked:
        session.config.get_terminal_writer().line(
            f"FAILED: {len(leaked)} emulator process(es) outlived their tests and were stopped now: pids {leaked}. "
            "A fixture that starts a stack must stop it in a finally block.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

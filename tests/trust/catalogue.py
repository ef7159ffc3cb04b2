"""The trust suite's cases as data, and the rows of docs/trust.md rendered from what the tests observed.

Each list here is what a test module parametrizes over (see conftest.pytest_generate_tests). The test of a case
checks that the case's row in docs/trust.md is the row rendered from what it saw (conftest.TrustDoc); with
VGSALES_UPDATE_TRUST_DOC=1 the rows are rewritten from what the tests saw instead, at the end of the session.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

# --- fault injection ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    key: str
    stage: str
    fault: str
    injected: str
    recovery: str
    stack: str  # the stack its test runs on: "shared" or "lifecycle" (the fixtures of conftest.py)


FAULTS = (
    Fault(
        "train-fails",
        "train",
        "the training job fails",
        "the uploaded train split is overwritten with bytes that are not libsvm",
        "exit 1 with the job's FailureReason and last log lines; `invoke train` again (its `data` pre-task "
        "uploads the split again) completes",
        "shared",
    ),
    Fault(
        "train-interrupted",
        "train",
        "Ctrl-C while the job runs",
        "SIGINT to the process group of `invoke train` while the job is InProgress",
        "the task stops the job (it ends Stopped, so it stops billing) and exits 130 saying so; `invoke train` "
        "again completes",
        "lifecycle",
    ),
    Fault(
        "endpoint-fails",
        "deploy",
        "the endpoint fails to come up",
        "the training job's model.tar.gz is overwritten with bytes that are not a tar archive",
        "exit 1 with the endpoint's FailureReason; `invoke train deploy` replaces the failed endpoint and "
        "removes its config and model",
        "shared",
    ),
    Fault(
        "update-fails",
        "deploy",
        "an update to a model that cannot load",
        "a new training job's model.tar.gz is corrupted before `invoke deploy` updates the endpoint",
        "the update rolls back and the endpoint keeps serving the previous model; exit 1 says so, the unused "
        "config and model are removed; `invoke train deploy` again updates it",
        "shared",
    ),
    Fault(
        "deploy-twice",
        "deploy",
        "`deploy` run twice",
        "a second `invoke deploy` for the same model",
        "no-op: nothing is created, updated or removed",
        "shared",
    ),
    Fault(
        "emulator-killed",
        "deploy",
        "the emulator killed in the middle of `deploy`",
        "SIGKILL to the emulator after the model and endpoint config exist, before the endpoint",
        "exit 1: the emulator stopped and the stack went with it; `invoke setup` says so, discards the stale "
        "local state and starts over; `invoke train deploy` then work",
        "lifecycle",
    ),
    Fault(
        "setup-interrupted",
        "setup",
        "Ctrl-C during `terraform apply`",
        "SIGINT to the process group of `invoke setup` once the first resource exists, on an emulator started "
        "with `invoke emulator.start`",
        "exit 130, saying the emulator still runs (pid, URL) and how to remove everything; `invoke setup` again "
        "removes what the cut-off apply created but never recorded, and converges (a further plan has no changes)",
        "lifecycle",
    ),
    Fault(
        "state-lost",
        "teardown",
        "local state files deleted",
        "the Terraform state and every task record are deleted before `invoke teardown`",
        "teardown finds the stack on the target by its tag and removes it all",
        "lifecycle",
    ),
    Fault(
        "teardown-twice",
        "teardown",
        "`teardown` run twice",
        "a second `invoke teardown`, with the emulator kept and then gone",
        "exit 0, saying there is nothing to tear down",
        "lifecycle",
    ),
)

# --- bad input: the dataset -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetCase:
    key: str
    case: str
    expect: str  # words the message must contain
    kind: str  # how make_dataset_source builds the source
    known_checksum: bool = False  # served at a URL registered as the workshop's known file


DATASET_CASES = (
    DatasetCase("missing-file", "missing file", "does not exist", "missing"),
    DatasetCase("directory", "a directory instead of a file", "is a directory", "directory"),
    DatasetCase("http-404", "URL answering 404", "HTTP 404", "url-404"),
    DatasetCase("http-html", "URL answering an HTML page", "HTML page instead of a CSV", "url-html"),
    DatasetCase("html-file", "HTML page saved as .csv", "HTML page instead of a CSV", "html-file"),
    DatasetCase(
        "checksum",
        "checksum mismatch (truncated download of the known file)",
        "Checksum mismatch",
        "url-truncated",
        known_checksum=True,
    ),
    DatasetCase("plain-http", "plain http to another host", "uses plain http", "plain-http"),
    DatasetCase("s3-scheme", "unsupported scheme (s3://)", "'s3' scheme", "s3"),
    DatasetCase("empty", "empty file", "is empty", "empty"),
    DatasetCase("header-only", "header but no rows", "header but no data rows", "header-only"),
    DatasetCase("missing-column", "missing column", "lacks the column 'Critic_Score'", "drop-column"),
    DatasetCase("renamed-column", "renamed column", "(renamed?)", "rename-column"),
    DatasetCase("semicolons", "semicolon-separated file", "is not a well-formed CSV", "semicolons"),
    DatasetCase("critic-text", "non-numeric critic score", "must hold numbers", "critic-text"),
    DatasetCase("user-text", "non-numeric user score", "must hold numbers or 'tbd'", "user-text"),
    DatasetCase("no-hits", "only non-hits (one class)", "only non-hits", "no-hits"),
)


def make_dataset_source(case: DatasetCase, real: Path, folder: Path, http_base: str) -> str:
    """The data_source of one case, derived from the real dataset so that only the named flaw differs."""
    path = folder / f"{case.key}.csv"
    if case.kind == "missing":
        return str(folder / "no-such-file.csv")
    if case.kind == "directory":
        folder.joinpath("a-folder").mkdir(exist_ok=True)
        return str(folder / "a-folder")
    if case.kind == "url-404":
        return f"{http_base}/no-such-file.csv"
    if case.kind == "url-html":
        return f"{http_base}/login.html"
    if case.kind == "url-truncated":
        return f"{http_base}/raw_data.csv"
    if case.kind == "plain-http":
        return "http://example.com/raw_data.csv"
    if case.kind == "s3":
        return "s3://some-bucket/raw_data.csv"
    if case.kind == "html-file":
        path.write_text(
            "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in to continue</body></html>\n"
        )
        return str(path)
    if case.kind == "empty":
        path.write_bytes(b"")
        return str(path)
    frame = pd.read_csv(real, dtype=str, keep_default_na=False)
    if case.kind == "header-only":
        frame = frame.iloc[:0]
    elif case.kind == "drop-column":
        frame = frame.drop(columns=["Critic_Score"])
    elif case.kind == "rename-column":
        frame = frame.rename(columns={"Global_Sales": "Global_Sales_M"})
    elif case.kind == "critic-text":
        frame.loc[frame.index[41], "Critic_Score"] = "eighty"
    elif case.kind == "user-text":
        frame.loc[frame.index[41], "User_Score"] = "great"
    elif case.kind == "no-hits":
        frame = frame[pd.to_numeric(frame["Global_Sales"]) <= 1.0]
    frame.to_csv(path, index=False, sep=";" if case.kind == "semicolons" else ",")
    return str(path)


def serve_files(folder: Path, real: Path) -> None:
    """What the loopback web server of the URL cases serves."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "login.html").write_text("<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n")
    # The first 100,000 bytes of the real file: what a cut-off download leaves.
    (folder / "raw_data.csv").write_bytes(real.read_bytes()[:100_000])


# --- bad input: settings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigCase:
    key: str
    case: str
    expect: str
    env: dict[str, str] = field(default_factory=dict)  # INVOKE_WORKSHOP_* overrides
    file: str | None = None  # or a settings file passed with -f

    @property
    def given(self) -> str:
        if self.file is not None:
            return f"`-f` file: `{self.file}`"
        return ", ".join(f"`{name}={value}`" for name, value in self.env.items())


CONFIG_CASES = (
    ConfigCase("target", "unknown target", "'gcp' is not one of local, aws", env={"INVOKE_WORKSHOP_TARGET": "gcp"}),
    ConfigCase(
        "region",
        "region outside the allowed list",
        "'cn-north-1' is not one of",
        env={"INVOKE_WORKSHOP_REGION": "cn-north-1"},
    ),
    ConfigCase(
        "prefix-case",
        "prefix with capitals (S3 naming)",
        "lowercase letters",
        env={"INVOKE_WORKSHOP_NAME_PREFIX": "VGSales"},
    ),
    ConfigCase(
        "prefix-long",
        "prefix too long (SageMaker 63-character names)",
        "at most 24 characters",
        env={"INVOKE_WORKSHOP_NAME_PREFIX": "video-game-sales-workshop"},
    ),
    ConfigCase(
        "prefix-hyphen",
        "prefix ending in a hyphen",
        "cannot end with a hyphen",
        env={"INVOKE_WORKSHOP_NAME_PREFIX": "vgsales-"},
    ),
    ConfigCase(
        "prefix-digit",
        "prefix starting with a digit",
        "must start with a lowercase letter",
        env={"INVOKE_WORKSHOP_NAME_PREFIX": "1vgsales"},
    ),
    ConfigCase(
        "data-prefix",
        "data prefix with an empty path segment",
        "not a valid S3 key prefix",
        env={"INVOKE_WORKSHOP_DATA_PREFIX": "video//games"},
    ),
    ConfigCase(
        "train-type",
        "instance type that cannot train",
        "not an instance family SageMaker offers for training",
        env={"INVOKE_WORKSHOP_TRAINING_INSTANCE_TYPE": "ml.t3.medium"},
    ),
    ConfigCase(
        "deploy-type",
        "unknown instance type",
        "not a SageMaker instance type",
        env={"INVOKE_WORKSHOP_DEPLOY_INSTANCE_TYPE": "m5.large"},
    ),
    ConfigCase(
        "train-count",
        "training instance count 0",
        "0 is out of range",
        env={"INVOKE_WORKSHOP_TRAINING_INSTANCE_COUNT": "0"},
    ),
    ConfigCase(
        "deploy-count",
        "endpoint instance count 0",
        "0 is out of range",
        env={"INVOKE_WORKSHOP_DEPLOY_INSTANCE_COUNT": "0"},
    ),
    ConfigCase(
        "count-text",
        "instance count that is not a number",
        "expected a whole number",
        env={"INVOKE_WORKSHOP_TRAINING_INSTANCE_COUNT": "two"},
    ),
    ConfigCase(
        "hp-unknown",
        "unknown hyperparameter",
        "did you mean 'max_depth'",
        file="workshop: {training: {hyperparameters: {max_dept: 3}}}",
    ),
    ConfigCase(
        "hp-range",
        "hyperparameter out of range",
        "'eta' must be in",
        env={"INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_ETA": "1.5"},
    ),
    ConfigCase(
        "hp-choice",
        "hyperparameter with an unknown value",
        "'objective' must be one of",
        env={"INVOKE_WORKSHOP_TRAINING_HYPERPARAMETERS_OBJECTIVE": "binary:logit"},
    ),
    ConfigCase(
        "batch-size", "evaluation batch size 0", "0 is out of range", env={"INVOKE_WORKSHOP_EVALUATE_BATCH_SIZE": "0"}
    ),
    ConfigCase(
        "image-latest",
        "image version 'latest'",
        "not a pinned XGBoost image version",
        env={"INVOKE_WORKSHOP_TRAINING_IMAGE_VERSION": "latest"},
    ),
    ConfigCase(
        "spot-wait",
        "spot training with max wait below max runtime",
        "needs max_wait_seconds",
        env={"INVOKE_WORKSHOP_TRAINING_USE_SPOT": "true", "INVOKE_WORKSHOP_TRAINING_MAX_WAIT_SECONDS": "60"},
    ),
    ConfigCase(
        "bool-text",
        "boolean that is neither true nor false",
        "expected true or false",
        env={"INVOKE_WORKSHOP_CONFIRM": "sure"},
    ),
    ConfigCase(
        "serverless",
        "serverless memory size SageMaker lacks",
        "not a serverless memory size",
        file="workshop: {deploy: {serverless: {memory_mb: 1500, max_concurrency: 5}}}",
    ),
    ConfigCase(
        "typo", "misspelt settings key", "unknown key(s) traning", file="workshop: {traning: {instance_count: 2}}"
    ),
    ConfigCase(
        "host", "emulator bound beyond loopback", "loopback only", env={"INVOKE_WORKSHOP_EMULATOR_HOST": "0.0.0.0"}
    ),
)

# --- bad input: endpoint payloads ----------------------------------------------------------------------


@dataclass(frozen=True)
class PayloadCase:
    key: str
    case: str
    status: int  # the HTTP status InvokeEndpoint answers
    code: str  # the error code boto3 reports
    expect: str
    content_type: str = "text/csv"
    accept: str | None = None
    endpoint: str | None = None  # another endpoint name than the stack's


PAYLOAD_CASES = (
    PayloadCase("empty", "empty body", 424, "ModelError", "the request body is empty"),
    PayloadCase("csv-width", "wrong feature count (CSV)", 424, "ModelError", "Feature size of csv inference data 5"),
    PayloadCase(
        "libsvm-index",
        "feature index beyond the model (libsvm)",
        424,
        "ModelError",
        "larger than feature size",
        content_type="text/x-libsvm",
    ),
    PayloadCase("csv-text", "non-numeric CSV", 424, "ModelError", "please ensure data is in csv format"),
    PayloadCase(
        "libsvm-text",
        "malformed libsvm",
        424,
        "ModelError",
        "please ensure data is in libsvm format",
        content_type="text/x-libsvm",
    ),
    PayloadCase("garbage", "garbage bytes", 424, "ModelError", "please ensure data is in csv format"),
    PayloadCase(
        "content-type",
        "unsupported content type",
        424,
        "ModelError",
        "is not an accepted ContentType",
        content_type="application/x-npy",
    ),
    PayloadCase("accept", "unsupported Accept type", 424, "ModelError", "is not supported", accept="application/xml"),
    PayloadCase("oversize", "payload over the 6 MB limit", 413, "ValidationError", "oversize body"),
    PayloadCase(
        "unknown-endpoint", "unknown endpoint", 400, "ValidationError", "not found", endpoint="vgsales-no-such-endpoint"
    ),
)


def payload_body(case: PayloadCase, row_csv: str, row_libsvm: str) -> bytes:
    """The request body of one case; ``row_*`` are real test rows in the model's feature order."""
    if case.key == "empty":
        return b""
    if case.key == "csv-width":
        return b"1,2,3,4,5"
    if case.key == "libsvm-index":
        return f"{row_libsvm} 5000:1".encode()
    if case.key == "csv-text":
        return ",".join(["abc"] * row_csv.count(",") + ["abc"]).encode()
    if case.key == "libsvm-text":
        return b"0 three:1 4:five"
    if case.key == "garbage":
        return bytes(range(128, 256)) * 16  # 2 KiB that is not UTF-8
    if case.key == "oversize":
        rows = (6 * 1024 * 1024) // (len(row_csv) + 1) + 2
        return ("\n".join([row_csv] * rows)).encode()
    return row_csv.encode()  # a valid row: the case is in the headers or the endpoint name


# --- docs/trust.md ------------------------------------------------------------------------------------
# Each table between <!-- BEGIN name --> and <!-- END name --> has one row per case of its list. A row's first
# cells name its case (KEY_CELLS); the cells in OBSERVED_CELLS are what the case's own test saw (a message, a
# fault's outcome), and the rest come from the catalogue alone. The test that observes a case asserts that its row
# is exactly the row rendered from what it saw (conftest.TrustDoc); test_trust_doc.py checks what needs no test:
# the headers, one row per case, no row without a case, and the catalogue's own cells.

DOC = Path(__file__).resolve().parents[2] / "docs" / "trust.md"
BLOCKS = ("faults", "dataset", "config", "payloads")
CASES = {"faults": FAULTS, "dataset": DATASET_CASES, "config": CONFIG_CASES, "payloads": PAYLOAD_CASES}
HEADERS = {
    "faults": "| Stage | Fault injected | How | Recovery | Recovered | Left after recovery |",
    "dataset": "| Case | Exit | Message |",
    "config": "| Case | Given as | Exit | Message |",
    "payloads": "| Payload | HTTP status | Error | Message |",
}
KEY_CELLS = {"faults": 2, "dataset": 1, "config": 1, "payloads": 1}
OBSERVED_CELLS = {"faults": (4, 5), "dataset": (2,), "config": (3,), "payloads": (3,)}
UNOBSERVED = "?"  # stands for an observed cell where none is at hand (test_trust_doc.py compares the others)


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def case_of(block: str, key: str):
    return next(case for case in CASES[block] if case.key == key)


def render_row(block: str, case, observed=None) -> str:
    """The row of one case: a fault's observation is {"recovered": bool, "stray": int}, the others' a message;
    None renders the observed cells as UNOBSERVED."""
    if block == "faults":
        outcome = (UNOBSERVED, UNOBSERVED) if observed is None else (
            "yes" if observed["recovered"] else "NO", str(observed["stray"]))
        values = [case.stage, case.fault, case.injected, case.recovery, *outcome]
    else:
        message = UNOBSERVED if observed is None else observed
        if block == "dataset":
            values = [case.case, "1", message]
        elif block == "config":
            values = [case.case, case.given, "1", message]
        else:
            values = [case.case, case.status, case.code, message]
    return "| " + " | ".join(_cell(value) for value in values) + " |"


def cells(row: str) -> list[str]:
    """A table row's cells as written (an escaped \\| stays inside its cell)."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def block(text: str, name: str) -> str | None:
    match = re.search(rf"<!-- BEGIN {name} -->\n(.*?)<!-- END {name} -->", text, re.DOTALL)
    return match.group(1).rstrip("\n") if match else None


def replace_block(text: str, name: str, body: str) -> str:
    return re.sub(
        rf"<!-- BEGIN {name} -->\n.*?<!-- END {name} -->",
        lambda _: f"<!-- BEGIN {name} -->\n{body}\n<!-- END {name} -->",
        text,
        flags=re.DOTALL,
    )


def header(name: str) -> list[str]:
    title = HEADERS[name]
    return [title, "|" + "---|" * len(cells(title))]


def table(text: str, name: str) -> tuple[list[str], list[str]]:
    """The block's header lines and its rows; AssertionError if the block is missing."""
    body = block(text, name)
    assert body is not None, f"docs/trust.md has no <!-- BEGIN {name} --> ... <!-- END {name} --> block"
    lines = body.splitlines()
    return lines[:2], lines[2:]


def rows_of(text: str, name: str, case) -> list[str]:
    """The rows of the block that name this case (exactly one, in a consistent document)."""
    key = cells(render_row(name, case))[: KEY_CELLS[name]]
    return [row for row in table(text, name)[1] if cells(row)[: KEY_CELLS[name]] == key]


def problems(text: str, name: str) -> list[str]:
    """What is wrong with the block without any test's observation: its header, a case with no row or with
    several, a row that names no case, and cells that come from the catalogue alone."""
    found = []
    head, rows = table(text, name)
    if head != header(name):
        found.append(f"{name}: the header is {head}, not {header(name)}")
    keys = {case.key: cells(render_row(name, case))[: KEY_CELLS[name]] for case in CASES[name]}
    for row in rows:
        if not any(cells(row)[: KEY_CELLS[name]] == key for key in keys.values()):
            found.append(f"{name}: a row that names no case of the catalogue: {row}")
    for case in CASES[name]:
        matching = rows_of(text, name, case)
        if len(matching) != 1:
            found.append(f"{name}: case {case.key!r} has {len(matching)} rows, not 1")
            continue
        written, expected = cells(matching[0]), cells(render_row(name, case))
        if len(written) != len(expected):
            found.append(f"{name}: case {case.key!r} has {len(written)} cells, not {len(expected)}: {matching[0]}")
            continue
        for index, (cell, want) in enumerate(zip(written, expected, strict=True)):
            if index not in OBSERVED_CELLS[name] and cell != want:
                found.append(f"{name}: case {case.key!r}, column {cells(HEADERS[name])[index]!r}: {cell!r} "
                             f"where the catalogue says {want!r}")
    return found


def rewrite(text: str, observed: dict[str, dict[str, object]]) -> tuple[str, list[str], list[str]]:
    """docs/trust.md with each observed case's row rendered anew; a case that no test observed keeps its row's
    observed cells (under the catalogue's other cells), and a row that names no case goes. Returns the text, the
    cases that kept their row, and the cases with neither an observation nor a row (rendered with UNOBSERVED)."""
    kept, missing = [], []
    for name in BLOCKS:
        lines = header(name)
        for case in CASES[name]:
            if case.key in observed.get(name, {}):
                lines.append(render_row(name, case, observed[name][case.key]))
                continue
            old = rows_of(text, name, case)
            if not old:
                missing.append(f"{name} {case.key}")
                lines.append(render_row(name, case))
                continue
            kept.append(f"{name} {case.key}")
            row = cells(render_row(name, case))
            written = cells(old[0])
            for index in OBSERVED_CELLS[name]:
                row[index] = written[index] if index < len(written) else UNOBSERVED
            lines.append("| " + " | ".join(row) + " |")
        text = replace_block(text, name, "\n".join(lines))
    return text, kept, missing

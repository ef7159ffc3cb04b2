"""Bad input is refused through the real CLI with one clear paragraph, exit 1, no traceback, nothing created.

Settings are checked before anything starts: each config case runs `invoke setup` against a state folder that
must still not exist afterwards (no emulator, no Terraform state, no record). Dataset cases run `invoke data`
on the shared stack, in whatever state the other tests left it: its buckets must hold exactly the object versions
they held before, and its data record and local splits must be unchanged: nothing new is uploaded or written.

Each kind of case runs as one batch (session fixtures, so that a test order that interleaves modules runs each
batch once); each case's test checks its own run and its own row of docs/trust.md.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vgsales.records import DataRecord

# The checksum case: a download of the workshop's known file that arrives cut off. The known file's URL cannot
# be reached offline, so the loopback URL is registered as that known file in the process before invoke runs.
KNOWN_SOURCE = "import vgsales.dataset as dataset; dataset.KNOWN_CHECKSUMS[{url!r}] = dataset.KNOWN_SHA256"


def _uploads_and_records(shared_stack) -> dict[str, list]:
    """Every object version in the emulator, and the stack's data record and local splits by content."""
    with shared_stack.aws() as aws:
        objects = []
        for bucket in aws.s3.list_buckets()["Buckets"]:
            versions = aws.s3.list_object_versions(Bucket=bucket["Name"])
            objects.extend((bucket["Name"], v["Key"], v["VersionId"]) for v in versions.get("Versions", []))
    state = shared_stack.state()
    files = [state.path(DataRecord), *(path for path in state.data_dir.rglob("*") if path.is_file())]
    written = [(str(path), hashlib.sha256(path.read_bytes()).hexdigest()) for path in files if path.is_file()]
    return {"object versions": sorted(objects), "data record and splits": sorted(written)}


@pytest.fixture(scope="session")
def dataset_runs(shared_stack, catalogue, harness, loopback_files, shared_dataset, tmp_path_factory):
    """`invoke data` once per case; returns (runs by case key, what was uploaded and written before, after)."""
    shared_stack.ready()
    folder = tmp_path_factory.mktemp("bad-datasets")
    before = _uploads_and_records(shared_stack)
    requests = []
    for case in catalogue.DATASET_CASES:
        source = catalogue.make_dataset_source(case, shared_dataset, folder, loopback_files)
        prelude = KNOWN_SOURCE.format(url=source) if case.known_checksum else ""
        # Each file is the real one with one flaw: workshop.data_sha256 would refuse it before the check the
        # case is about, so only the checksum case keeps the workshop's sha256.
        sha256 = {} if case.known_checksum else {"INVOKE_WORKSHOP_DATA_SHA256": "any"}
        env = shared_stack.env(INVOKE_WORKSHOP_DATA_SOURCE=source, **sha256)
        requests.append(harness.CliRequest(("data",), env, prelude))
    runs = harness.run_cli_batch(requests, tmp_path_factory.mktemp("dataset-runs"))
    return (
        {case.key: run for case, run in zip(catalogue.DATASET_CASES, runs, strict=True)},
        before,
        _uploads_and_records(shared_stack),
    )


@pytest.fixture(scope="session")
def config_runs(catalogue, harness, shared_dataset, tmp_path_factory):
    """`invoke setup` once per case, each with a state folder that does not exist yet."""
    root = tmp_path_factory.mktemp("bad-config")
    requests, state_dirs = [], []
    for case in catalogue.CONFIG_CASES:
        state_dirs.append(root / case.key)
        args: tuple[str, ...] = ("setup",)
        if case.file is not None:
            settings_file = root / f"{case.key}.yaml"
            settings_file.write_text(case.file + "\n")
            args = ("-f", str(settings_file), "setup")
        requests.append(harness.CliRequest(args, harness.cli_environment(root / case.key, shared_dataset, **case.env)))
    runs = harness.run_cli_batch(requests, tmp_path_factory.mktemp("config-runs"))
    yield {
        case.key: (state_dir, run)
        for case, state_dir, run in zip(catalogue.CONFIG_CASES, state_dirs, runs, strict=True)
    }
    for state_dir in state_dirs:  # a case that wrongly got through must not leave its emulator running
        harness.LocalStack(state_dir, shared_dataset).stop_emulator()


def _assert_refused(completed, expect: str) -> str:
    assert completed.returncode == 1, completed.describe()
    assert "Traceback" not in completed.output, completed.describe()
    message = completed.stderr.strip()
    assert message.startswith("Error: "), completed.describe()
    assert expect in message, completed.describe()
    # One paragraph: no blank line inside, and it ends with advice, not mid-sentence.
    assert "\n\n" not in message and message.endswith((".", ")")), completed.describe()
    return message


def test_a_bad_dataset_is_refused_before_upload(dataset_case, dataset_runs, trust_doc):
    runs, before, after = dataset_runs
    message = _assert_refused(runs[dataset_case.key], dataset_case.expect)
    for what in before:  # nothing new in any bucket, no new data record, no new local split
        assert after[what] == before[what], f"the refused datasets changed the stack's {what}"
    trust_doc.message("dataset", dataset_case.key, message)


def test_a_bad_setting_is_refused_before_anything_starts(config_case, config_runs, trust_doc):
    state_dir, completed = config_runs[config_case.key]
    message = _assert_refused(completed, config_case.expect)
    assert not Path(state_dir).exists(), f"{state_dir} was created: no emulator, state or record may exist"
    trust_doc.message("config", config_case.key, message)


def test_there_are_at_least_25_cases(catalogue):
    assert len(catalogue.DATASET_CASES) + len(catalogue.CONFIG_CASES) + len(catalogue.PAYLOAD_CASES) >= 25

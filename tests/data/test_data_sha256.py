"""workshop.data_sha256: the dataset, from any source, must be the workshop's file unless the setting says otherwise.

A copy of the real file cut to its first 800 KB used to be accepted and uploaded (4,715 rows, 190 features, a hit
rate of 28 % instead of 16.8 %). Now `invoke data` (pipeline.data) and the notebooks (explore.load_raw) refuse
it before anything is uploaded, and `any` or another sha256 accepts another file on purpose.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vgsales import dataset, explore
from vgsales.context import Context
from vgsales.errors import WorkshopError
from vgsales.records import StackRecord
from vgsales.settings import Settings, project_defaults, with_changes

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRUNCATED_BYTES = 800_000


def settings_for(state_dir: Path, source: Path, **changes) -> Settings:
    changes = {"state_dir": str(state_dir), "data_source": str(source), **changes}
    data = with_changes(project_defaults(PROJECT_ROOT), changes)
    return Settings.from_config(data, project_dir=PROJECT_ROOT)


@pytest.fixture
def truncated(shared_dataset, tmp_path) -> Path:
    path = tmp_path / "truncated.csv"
    path.write_bytes(shared_dataset.read_bytes()[:TRUNCATED_BYTES])
    return path


@pytest.fixture
def one_byte_changed(shared_dataset, tmp_path) -> Path:
    data = bytearray(shared_dataset.read_bytes())
    index = data.index(b"Wii Sports") + 4  # a letter of a game's name: still a valid CSV of the same size
    data[index] = ord("X")
    path = tmp_path / "changed.csv"
    path.write_bytes(bytes(data))
    return path


def data_stage_refusal(settings: Settings, monkeypatch) -> str:
    """`invoke data`'s stage with a recorded stack: the message it refuses with, checked to come before any upload
    (before the stage so much as connects to the target)."""
    from vgsales.pipeline import data as stage

    ctx = Context.of(settings)
    ctx.state.write(StackRecord(target="local", region=settings.region, name_prefix=settings.name_prefix,
                                         data_prefix=settings.data_prefix, bucket_name="never-used",
                                         role_arn="arn:aws:iam::000000000000:role/never-used"))  # fmt: skip

    def no_upload(self):
        raise AssertionError("nothing may be uploaded before the dataset is checked")

    monkeypatch.setattr(Context, "aws", property(no_upload))  # every client of the stage comes from ctx.aws
    with pytest.raises(WorkshopError) as refused:
        stage.run(ctx)
    return str(refused.value)


def test_the_default_is_the_workshops_file():
    assert project_defaults(PROJECT_ROOT)["data_sha256"] == dataset.KNOWN_SHA256
    assert Settings.from_config(project_defaults(PROJECT_ROOT)).data_sha256 == dataset.KNOWN_SHA256


def test_the_real_file_is_accepted(shared_dataset, tmp_path):
    raw = explore.load_raw(settings_for(tmp_path, shared_dataset))
    assert raw.shape == (16_719, 16)


def test_a_truncated_copy_is_refused_before_upload_naming_the_setting(truncated, tmp_path, monkeypatch):
    message = data_stage_refusal(settings_for(tmp_path / "state", truncated), monkeypatch)
    assert "is not the workshop's file" in message
    assert f"{TRUNCATED_BYTES:,} bytes and sha256 {dataset.sha256_of(truncated)}" in message
    assert f"{dataset.KNOWN_SIZE:,} bytes and sha256 {dataset.KNOWN_SHA256}" in message
    assert "truncated copy" in message and dataset.KNOWN_SOURCE_URL in message
    assert "INVOKE_WORKSHOP_DATA_SHA256=any" in message
    assert "\n" not in message


def test_the_notebooks_refuse_a_truncated_copy_too(truncated, tmp_path):
    with pytest.raises(WorkshopError, match=r"not the workshop's file.*INVOKE_WORKSHOP_DATA_SHA256=any"):
        explore.load_raw(settings_for(tmp_path, truncated))


def test_a_copy_of_the_same_size_with_one_byte_changed_is_refused(
    one_byte_changed, shared_dataset, tmp_path, monkeypatch
):
    assert one_byte_changed.stat().st_size == shared_dataset.stat().st_size
    message = data_stage_refusal(settings_for(tmp_path / "state", one_byte_changed), monkeypatch)
    assert "is not the workshop's file" in message and "same size, so its content was changed" in message


@pytest.mark.parametrize("word", ["any", "ANY"])
def test_any_accepts_another_file_on_purpose(word, truncated, tmp_path):
    settings = settings_for(tmp_path, truncated, data_sha256=word)
    assert settings.data_sha256 is None
    assert len(explore.load_raw(settings)) < 16_719


def test_a_given_sha256_accepts_that_file_and_refuses_another(truncated, shared_dataset, tmp_path, monkeypatch):
    digest = hashlib.sha256(truncated.read_bytes()).hexdigest()
    assert len(explore.load_raw(settings_for(tmp_path, truncated, data_sha256=digest.upper()))) < 16_719
    message = data_stage_refusal(settings_for(tmp_path / "state", shared_dataset, data_sha256=digest), monkeypatch)
    assert f"workshop.data_sha256 requires {digest}" in message
    assert f"sha256 {dataset.KNOWN_SHA256}" in message and "INVOKE_WORKSHOP_DATA_SHA256" in message


@pytest.mark.parametrize(
    "value, problem",
    [
        ("yes", "'yes' is neither 'any'"),
        ("anything", "'anything' is neither 'any'"),
        (dataset.KNOWN_SHA256[:63], "this one has 63 characters"),
        (dataset.KNOWN_SHA256 + "0", "this one has 65 characters"),
        ("g" * 64, "is neither 'any'"),
        ("", "expected a non-empty text"),
    ],
    ids=["yes", "anything", "63-hex", "65-hex", "not-hex", "empty"],
)
def test_a_bad_value_is_refused_as_a_setting(value, problem, tmp_path):
    with pytest.raises(WorkshopError) as refused:
        settings_for(tmp_path, Path("x.csv"), data_sha256=value)
    message = str(refused.value)
    assert message.startswith("Invalid setting workshop.data_sha256:") and problem in message
    assert "INVOKE_WORKSHOP_DATA_SHA256 environment variable" in message


def test_a_broken_download_of_the_workshops_own_address_is_not_told_to_set_any(tmp_path):
    """data_sha256 `any` cannot vouch for the workshop's own URL, whose file is known: the message says so, and
    does not suggest the setting the user may already have (near miss: any other source is told about `any`)."""
    broken = dataset.FetchedDataset(path=tmp_path / "x.csv", sha256="0" * 64, source=dataset.KNOWN_SOURCE_URL, size=10)
    with pytest.raises(WorkshopError) as known:
        dataset._check_checksum(broken, dataset.KNOWN_SHA256)
    assert "is a broken download whatever workshop.data_sha256 says: run the task again." in str(known.value)
    assert "=any (or" not in str(known.value)
    elsewhere = dataset.FetchedDataset(path=tmp_path / "x.csv", sha256="0" * 64, source=str(tmp_path / "x.csv"), size=10)
    with pytest.raises(WorkshopError) as other:
        dataset._check_checksum(elsewhere, dataset.KNOWN_SHA256)
    assert "INVOKE_WORKSHOP_DATA_SHA256=any (or to that file's sha256)" in str(other.value)

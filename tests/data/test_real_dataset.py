"""The real dataset gives the workshop's numbers and AWS's own libsvm files, byte for byte.

The expected sha256 values are those of train/validation/test.libsvm as written here. They match the files
AWS committed in awslabs/amazon-sagemaker-workshop@6e76d975d4e27b7f2e5755acd7a9ecf90b216808 (notebooks/):
same sizes (199,383 / 57,032 / 28,490 bytes) and the same first and last lines, checked when this test was
written. Their first test line is below, as AWS committed it.
"""

from __future__ import annotations

import pytest

from vgsales import dataset
from vgsales.dataset import KNOWN_SHA256, fetch, load
from vgsales.features import LABEL, Manifest, align, prepare, to_libsvm, write_splits

AWS_LIBSVM = {
    "train": (5614, 945, 199_383, "1048c1652f052416f09d5c8502e37bf3559881a98739a8fa14e1b194c652fe59"),
    "validation": (1604, 267, 57_032, "fb0c6cd36d603d3e054cafbd73b208d22041bfb468d34b7cab80feda380f2a15"),
    "test": (803, 132, 28_490, "8e686f6d88da99eb359d98bdb60d4202de8076837d295aab282310f7a07c4347"),
}
AWS_FIRST_TEST_LINE = "0 0:71 1:7.1 9:1 28:1 189:1 330:1"
RAW_ATTRIBUTES = ["Platform", "Genre", "Publisher", "Rating", "Critic_Score", "User_Score"]


@pytest.fixture(scope="module")
def real(shared_dataset, tmp_path_factory):
    fetched = fetch(str(shared_dataset), tmp_path_factory.mktemp("cache"))
    raw = load(fetched.path)
    prepared = prepare(raw)
    out = tmp_path_factory.mktemp("run")
    return fetched, raw, prepared, out, write_splits(prepared, out, fetched)


def test_the_shared_file_is_the_known_one(real):
    fetched, raw, *_ = real
    assert fetched.is_known and fetched.sha256 == KNOWN_SHA256 and fetched.size == dataset.KNOWN_SIZE
    assert raw.shape == (16_719, 16)
    assert int((raw["Global_Sales"] > 1).sum()) == 2_057


def test_the_workshop_numbers(real):
    _, _, prepared, _, manifest = real
    assert (prepared.raw_rows, prepared.raw_hits) == (16_719, 2_057)
    assert (prepared.rows, prepared.hits) == (8_021, 1_344)
    assert prepared.user_scores_filled == 1_078
    assert len(prepared.feature_names) == 331  # get_dummies made 333 columns: these plus y_no and y_yes
    assert prepared.counts() == {name: (rows, hits) for name, (rows, hits, _, _) in AWS_LIBSVM.items()}
    assert (manifest.rows, manifest.hits, manifest.n_features) == (8_021, 1_344, 331)
    assert manifest.feature_names[:3] == ("Critic_Score", "User_Score", "Platform_3DS")
    assert manifest.feature_names[-1] == "Rating_T"


def test_the_libsvm_files_are_the_ones_aws_committed(real):
    _, _, _, out, manifest = real
    for name, (rows, hits, size, sha256) in AWS_LIBSVM.items():
        summary = manifest.splits[name]
        assert (summary.rows, summary.hits, summary.bytes, summary.sha256) == (rows, hits, size, sha256), name
        assert dataset.sha256_of(out / summary.file) == sha256
    assert (out / "test.libsvm").read_text().splitlines()[0] == AWS_FIRST_TEST_LINE
    assert Manifest.from_json(out / "manifest.json") == manifest


def test_feature_order_contract_on_the_real_test_split(real):
    _, raw, prepared, out, manifest = real
    aligned = align(raw.loc[prepared.test.index, RAW_ATTRIBUTES], manifest.feature_names)
    assert to_libsvm(aligned, prepared.test[LABEL]) == (out / "test.libsvm").read_bytes()


def test_a_download_of_the_known_content_is_recognised(shared_dataset, file_server, tmp_path, monkeypatch):
    url = file_server.add("/data/raw_data.csv", shared_dataset.read_bytes())
    monkeypatch.setitem(dataset.KNOWN_CHECKSUMS, url, KNOWN_SHA256)
    fetched = fetch(url, tmp_path)
    assert fetched.is_known and fetched.path.read_bytes() == shared_dataset.read_bytes()

"""prepare(), write_splits() and the feature-order contract, on the generated dataset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_svmlight_file

from vgsales import features
from vgsales.dataset import fetch, load
from vgsales.errors import WorkshopError
from vgsales.features import LABEL, Manifest, align, encode_rows, prepare, to_csv, to_libsvm, write_splits

RAW_ATTRIBUTES = ["Platform", "Genre", "Publisher", "Rating", "Critic_Score", "User_Score"]


@pytest.fixture
def raw(synthetic_csv) -> pd.DataFrame:
    return load(synthetic_csv)


@pytest.fixture
def prepared(raw) -> features.PreparedData:
    return prepare(raw)


@pytest.fixture
def written(prepared, synthetic_csv, tmp_path):
    out = tmp_path / "run"
    return out, write_splits(prepared, out, fetch(str(synthetic_csv), tmp_path / "cache"))


# --- prepare ------------------------------------------------------------------------------------------


def test_prepare_follows_the_workshop_steps(raw, prepared):
    complete = raw.drop(columns=list(features.DROPPED_COLUMNS)).dropna()
    n = len(complete)
    assert prepared.rows == n and prepared.raw_rows == len(raw)
    assert prepared.hits == int((raw.loc[complete.index, "Global_Sales"] > 1).sum())
    assert prepared.raw_hits == int((raw["Global_Sales"] > 1).sum())
    assert [len(frame) for frame in prepared.splits.values()] == [
        int(0.7 * n),
        int(0.9 * n) - int(0.7 * n),
        n - int(0.9 * n),
    ]
    assert prepared.user_scores_filled == int((complete["User_Score"] == "tbd").sum()) > 0
    # The splits are one permutation of the complete rows, shuffled as sample(frac=1, random_state=1729) does.
    order = np.concatenate([frame.index for frame in prepared.splits.values()])
    assert list(order) == list(complete.sample(frac=1, random_state=1729).index)


def test_feature_names_are_scores_then_one_hot_groups_in_column_order(raw, prepared):
    names = prepared.feature_names
    assert names[:2] == ("Critic_Score", "User_Score")
    expected_groups = []
    for column in features.CATEGORICAL_COLUMNS:
        expected_groups += [f"{column}_{value}" for value in sorted(raw[column].dropna().unique())]
    assert list(names[2:]) == expected_groups
    for frame in prepared.splits.values():
        assert list(frame.columns) == [LABEL, *names]
        assert set(frame[LABEL]) == {0, 1}
        one_hot = frame.loc[:, list(names[2:])].astype(int)
        assert (one_hot.sum(axis=1) == len(features.CATEGORICAL_COLUMNS)).all(), "one category per group"


def test_labels_and_filled_user_scores(raw, prepared):
    test = prepared.test
    assert (test[LABEL] == (raw.loc[test.index, "Global_Sales"] > 1).astype(int)).all()
    tbd = raw.loc[test.index, "User_Score"] == "tbd"
    assert tbd.any()
    assert np.allclose(test.loc[tbd, "User_Score"], test.loc[tbd, "Critic_Score"] / 10)
    given = ~tbd
    assert np.allclose(test.loc[given, "User_Score"], raw.loc[test.index[given], "User_Score"].astype(float))


def test_prepare_is_deterministic_and_leaves_its_input_alone(raw):
    before = raw.copy()
    first, second = prepare(raw), prepare(raw)
    pd.testing.assert_frame_equal(raw, before)
    for name in features.SPLIT_NAMES:
        pd.testing.assert_frame_equal(first.splits[name], second.splits[name])
    other = prepare(raw, seed=7)
    assert list(other.train.index) != list(first.train.index) and other.seed == 7


def test_only_non_hits_is_refused(make_frame):
    frame = make_frame(300, hit_fraction=0.0)
    with pytest.raises(WorkshopError, match=r"has only non-hits \(no game sold more than 1 million units\): 0 hits in"):
        prepare(frame)


def test_a_split_with_a_single_class_is_refused(make_frame):
    frame = make_frame(300, hit_fraction=0.0, incomplete_fraction=0.0)
    frame.loc[0, "Global_Sales"] = 5.0  # one hit: at most one of the three splits can hold it
    with pytest.raises(
        WorkshopError, match=r"The (train|validation|test) split has only non-hits .*: 0 hits in \d+ rows"
    ):
        prepare(frame)


def test_only_hits_is_refused(make_frame):
    with pytest.raises(WorkshopError, match=r"has only hits"):
        prepare(make_frame(200, hit_fraction=1.0))


def test_too_few_complete_rows_is_refused(make_frame):
    frame = make_frame(100, incomplete_fraction=0.0)
    frame.loc[10:, "Rating"] = None
    with pytest.raises(WorkshopError, match=r"Only 10 of the dataset's 100 rows have all of .*Rating.*at least 50"):
        prepare(frame)


def test_prepare_validates_a_frame_it_is_given(make_frame):
    with pytest.raises(WorkshopError, match=r"lacks the column 'Genre'"):
        prepare(make_frame(100).drop(columns=["Genre"]))


# --- write_splits and the manifest -------------------------------------------------------------------


def test_write_splits_writes_libsvm_and_a_manifest(prepared, written, synthetic_csv):
    out, manifest = written
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "test.libsvm",
        "train.libsvm",
        "validation.libsvm",
    ]
    assert manifest.source == str(synthetic_csv) and len(manifest.sha256) == 64
    assert manifest.n_features == len(manifest.feature_names) == len(prepared.feature_names)
    assert manifest.feature_names == prepared.feature_names
    assert (manifest.rows, manifest.hits) == (prepared.rows, prepared.hits)
    assert manifest.preprocessing["seed"] == 1729 and manifest.preprocessing["split_fractions"] == [0.7, 0.2, 0.1]
    for name, frame in prepared.splits.items():
        summary = manifest.splits[name]
        assert (summary.rows, summary.hits) == (len(frame), int(frame[LABEL].sum()))
        x, y = load_svmlight_file(str(out / summary.file), n_features=manifest.n_features, zero_based=True)
        assert np.array_equal(y, frame[LABEL].to_numpy())
        assert np.allclose(x.toarray(), frame.loc[:, list(manifest.feature_names)].to_numpy(dtype=float))
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk["feature_names"] == list(prepared.feature_names)
    assert on_disk["splits"]["train"]["rows"] == len(prepared.train)


def test_manifest_round_trips(written):
    out, manifest = written
    assert Manifest.from_json(out / "manifest.json") == manifest


def test_write_splits_is_rerunnable(prepared, written, synthetic_csv, tmp_path):
    out, first = written
    again = write_splits(prepared, out, fetch(str(synthetic_csv), tmp_path / "cache"))
    assert {name: s.sha256 for name, s in again.splits.items()} == {name: s.sha256 for name, s in first.splits.items()}
    assert sorted(p.name for p in out.iterdir()) == [
        "manifest.json",
        "test.libsvm",
        "train.libsvm",
        "validation.libsvm",
    ]


def test_missing_manifest_names_the_task_to_run(tmp_path):
    with pytest.raises(WorkshopError, match=r"no data manifest at .*manifest\.json.*Run `invoke data` first"):
        Manifest.from_json(tmp_path / "manifest.json")


@pytest.mark.parametrize("content", ["{not json", '{"source": "x"}', "[]"])
def test_damaged_manifest(tmp_path, content):
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(WorkshopError, match=r"is damaged or from another version .*Run `invoke data` again"):
        Manifest.from_json(path)


def test_manifest_whose_feature_count_disagrees(written, tmp_path):
    out, _ = written
    payload = json.loads((out / "manifest.json").read_text())
    payload["n_features"] += 1
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(WorkshopError, match=r"is inconsistent .*features declared"):
        Manifest.from_json(path)


# --- the feature-order contract -----------------------------------------------------------------------


def test_raw_rows_encode_to_exactly_their_lines_in_test_libsvm(raw, prepared, written):
    out, manifest = written
    test_rows = raw.loc[prepared.test.index, RAW_ATTRIBUTES]
    aligned = align(test_rows, manifest.feature_names)
    assert to_libsvm(aligned, prepared.test[LABEL]) == (out / "test.libsvm").read_bytes()


def test_one_record_encodes_to_its_line(raw, prepared, written):
    out, manifest = written
    position = 3
    record = raw.loc[prepared.test.index[position], RAW_ATTRIBUTES].to_dict()
    label = int(prepared.test[LABEL].iloc[position])
    line = encode_rows([record], manifest.feature_names, "text/x-libsvm").decode()
    expected = (out / "test.libsvm").read_text().splitlines()[position]
    assert line == "0" + expected[1:] + "\n", "the same features; a new game has no label, so it is 0"
    assert expected.startswith(str(label))


def test_unknown_category_leaves_its_group_zero(prepared):
    names = prepared.feature_names
    known = {
        "Platform": "PS4",
        "Genre": "Action",
        "Publisher": "Ubisoft",
        "Rating": "E",
        "Critic_Score": 80,
        "User_Score": "tbd",
    }
    new_platform = {**known, "Platform": "PS5"}
    aligned = align([known, new_platform], names)
    assert list(aligned.columns) == list(names) and aligned.dtypes.eq(np.float64).all()
    platform = [name for name in names if name.startswith("Platform_")]
    assert aligned.loc[0, platform].sum() == 1 and aligned.loc[0, "Platform_PS4"] == 1
    assert aligned.loc[1, platform].sum() == 0
    others = [name for name in names if name not in platform]
    assert aligned.loc[0, others].equals(aligned.loc[1, others])
    assert aligned.loc[0, "User_Score"] == 8.0, "'tbd' is Critic_Score / 10, as in training"


def test_csv_payload_has_every_feature_in_order(prepared):
    record = {
        "Platform": "PC",
        "Genre": "Racing",
        "Publisher": "Nintendo",
        "Rating": "T",
        "Critic_Score": "71",
        "User_Score": "6.5",
    }
    body = encode_rows([record, record], prepared.feature_names, "text/csv").decode()
    lines = body.splitlines()
    assert len(lines) == 2 and lines[0] == lines[1]
    values = lines[0].split(",")
    assert len(values) == len(prepared.feature_names)
    assert values[:2] == ["71", "6.5"]
    ones = sorted(prepared.feature_names[i] for i, value in enumerate(values[2:], start=2) if value == "1")
    assert ones == ["Genre_Racing", "Platform_PC", "Publisher_Nintendo", "Rating_T"]
    assert set(values[2:]) == {"0", "1"}
    assert to_csv(align([record], prepared.feature_names)).decode() == lines[0] + "\n"


GOOD = {
    "Platform": "PC",
    "Genre": "Racing",
    "Publisher": "Nintendo",
    "Rating": "T",
    "Critic_Score": 71,
    "User_Score": 6.5,
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"Critic_Score": None},
            r"Critic_Score is missing for 1 game\(s\) \(first at record 1\)\. Give it as a number",
        ),
        ({"User_Score": ""}, r"User_Score is missing for 1 game\(s\) .*a number \(or 'tbd'\)"),
        ({"Critic_Score": "great"}, r"Critic_Score must be a number, but record 1 has 'great'"),
        ({"User_Score": "n/a"}, r"User_Score must be a number \(or 'tbd'\), but record 1 has 'n/a'"),
        ({"Platform": None}, r"Platform is missing for 1 game\(s\) .*unknown one \(a new platform\) is allowed"),
    ],
)
def test_bad_records_are_refused(prepared, change, message):
    with pytest.raises(WorkshopError, match=message):
        align([GOOD, {**GOOD, **change}], prepared.feature_names)


def test_records_without_an_attribute(prepared):
    record = {key: value for key, value in GOOD.items() if key != "Rating"}
    with pytest.raises(WorkshopError, match=r"the records lack Rating\. Give every attribute"):
        align([record], prepared.feature_names)


def test_no_records(prepared):
    with pytest.raises(WorkshopError, match=r"There are no games to encode"):
        align([], prepared.feature_names)


def test_feature_names_from_elsewhere_are_refused():
    with pytest.raises(WorkshopError, match=r"do not come from this preprocessing \(unexpected: \['f0', 'f1'\]\)"):
        align([GOOD], ["Critic_Score", "f0", "f1"])


def test_unknown_content_type(prepared):
    with pytest.raises(WorkshopError, match=r"Cannot encode games as 'application/json'"):
        encode_rows([GOOD], prepared.feature_names, "application/json")

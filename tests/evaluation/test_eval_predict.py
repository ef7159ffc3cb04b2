"""Batching the test split, parsing the container's responses and scoring through an ``invoke`` callable."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from rich.console import Console
from sklearn.datasets import load_svmlight_file

from vgsales.errors import WorkshopError
from vgsales.evaluation.scoring import CSV, JSON, LIBSVM, batches, parse_response, predict_all, progress_bar


def test_libsvm_batches_are_the_split_lines_in_order(synthetic_split):
    lines = [line for line in synthetic_split.path.read_bytes().splitlines() if line.strip()]
    sent = list(batches(synthetic_split.path, 100))

    assert [batch.n_rows for batch in sent] == [100, 100, synthetic_split.n_rows - 200]
    assert [batch.start_row for batch in sent] == [0, 100, 200]
    assert all(batch.content_type == LIBSVM for batch in sent)
    assert b"\n".join(batch.payload for batch in sent) == b"\n".join(lines)
    np.testing.assert_array_equal(np.concatenate([batch.y_true for batch in sent]), synthetic_split.labels)


def test_csv_batches_are_dense_rows_without_the_label(synthetic_split):
    sent = list(batches(synthetic_split.path, 50, CSV, n_features=synthetic_split.n_features))

    rows = [row.split(b",") for batch in sent for row in batch.payload.split(b"\n")]
    assert len(rows) == synthetic_split.n_rows
    assert {len(row) for row in rows} == {synthetic_split.n_features}  # the never-present last feature too
    in_file, _ = load_svmlight_file(str(synthetic_split.path), n_features=synthetic_split.n_features,
                                    zero_based=True)
    dense = np.array([[float(cell) if cell else np.nan for cell in row] for row in rows])
    # A feature the libsvm line leaves out is an empty (missing) cell; the others are the file's exact values.
    np.testing.assert_array_equal(np.isnan(dense), in_file.toarray() == 0)
    np.testing.assert_array_equal(np.nan_to_num(dense), in_file.toarray())


def test_csv_copies_values_verbatim_and_keeps_explicit_zeros(tmp_path):
    split = tmp_path / "test.libsvm"
    split.write_text("1 0:7.7 2:0 4:1e-05 # a comment\n0 1:85\n")
    (first, ) = batches(split, 10, CSV, n_features=5)
    assert first.payload == b"7.7,,0,,1e-05\n,85,,,"
    np.testing.assert_array_equal(first.y_true, [1, 0])


@pytest.mark.parametrize("size", [0, -3, 2.5, True])
def test_batch_size_below_one_or_not_whole_is_refused_at_once(synthetic_split, size):
    with pytest.raises(WorkshopError, match="batch size"):
        batches(synthetic_split.path, size)


def test_csv_without_feature_count_is_refused(synthetic_split):
    with pytest.raises(WorkshopError, match="feature count"):
        batches(synthetic_split.path, 100, CSV)
    with pytest.raises(WorkshopError, match="feature count"):
        batches(synthetic_split.path, 100, CSV, n_features=0)


def test_unknown_request_content_type_is_refused(synthetic_split):
    with pytest.raises(WorkshopError, match="application/x-recordio"):
        batches(synthetic_split.path, 100, "application/x-recordio-protobuf")


def test_missing_empty_and_malformed_splits_are_refused(tmp_path, synthetic_split):
    with pytest.raises(WorkshopError, match="invoke data"):
        batches(tmp_path / "absent.libsvm", 100)
    (tmp_path / "empty.libsvm").write_text("\n\n")
    with pytest.raises(WorkshopError, match="no rows"):
        batches(tmp_path / "empty.libsvm", 100)
    (tmp_path / "bad.libsvm").write_text("1 0:1.5\nnot libsvm at all\n")
    with pytest.raises(WorkshopError, match="not a valid"):
        batches(tmp_path / "bad.libsvm", 100)
    (tmp_path / "labels.libsvm").write_text("2 0:1.5\n0 1:1\n")
    with pytest.raises(WorkshopError, match="labels other than 0 and 1"):
        batches(tmp_path / "labels.libsvm", 100)
    with pytest.raises(WorkshopError, match="not a valid"):  # a feature index beyond the model's features
        batches(synthetic_split.path, 100, CSV, n_features=synthetic_split.n_features - 3)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"0.25,0.5,0.75", "text/csv"),
        (b"0.25\n0.5\n0.75\n", "text/csv"),
        (b"0.25\r\n0.5\r\n0.75", "text/csv; charset=utf-8"),
        (b'{"predictions": [{"score": 0.25}, {"score": 0.5}, {"score": 0.75}]}', "application/json"),
    ],
)
def test_both_response_formats_parse(body, content_type):
    assert parse_response(body, content_type) == [0.25, 0.5, 0.75]


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"", "text/csv", "empty"),
        (b"0.1,oops,0.3", "text/csv", "'oops'"),
        (b"<html>Internal error</html>", "text/csv", "where a score should be"),
        (b"0.1,nan", "text/csv", "non-finite"),
        (b'{"predictions": [{"score": 0.1}', "application/json", "does not parse"),
        (b'{"scores": [0.1]}', "application/json", '"predictions"'),
        (b'{"predictions": [{"score": "0.1"}]}', "application/json", 'numeric "score"'),
        (b'{"predictions": [0.1]}', "application/json", 'numeric "score"'),
        (b"0.1", "application/octet-stream", "content type"),
        (b"\xff\xfe", "text/csv", "not UTF-8"),
    ],
)
def test_malformed_responses_are_refused(body, content_type, message):
    with pytest.raises(WorkshopError, match=message):
        parse_response(body, content_type)


@pytest.mark.parametrize(
    ("accept", "separator"), [("text/csv", "\n"), ("text/csv", ","), ("application/json", None)]
)
@pytest.mark.parametrize("content_type", [LIBSVM, CSV])
def test_scores_come_back_in_split_order_under_concurrency(synthetic_split, make_endpoint, accept, separator,
                                                           content_type):
    # The first three requests wait until a later one has answered, so later batches complete first: order must
    # come from the batch.
    endpoint = make_endpoint(accept=accept, csv_separator=separator or "\n", held_first_calls=3)
    sent = batches(synthetic_split.path, 20, content_type, synthetic_split.n_features)
    predictions = predict_all(sent, endpoint, concurrency=4)

    assert endpoint.completed != endpoint.calls, "the test must really reorder completions"
    np.testing.assert_array_equal(predictions.y_true, synthetic_split.labels)
    np.testing.assert_allclose(predictions.y_score, synthetic_split.expected_scores(), rtol=1e-6)
    assert predictions.n == synthetic_split.n_rows
    assert predictions.n_requests == 12
    assert predictions.batch_rows.sum() == synthetic_split.n_rows
    assert (predictions.latencies_s > 0).all()
    assert predictions.latency_ms(99) >= predictions.latency_ms(50) > 0
    assert set(predictions.summary()) >= {"rows_per_second", "latency_p50_ms", "latency_p99_ms"}


def test_progress_reports_every_batch_up_to_the_total(synthetic_split, endpoint):
    seen = []
    predict_all(batches(synthetic_split.path, 100), endpoint, concurrency=2, progress=lambda d, t: seen.append((d, t)))

    assert len(seen) == 3
    assert [total for _, total in seen] == [synthetic_split.n_rows] * 3
    assert sorted(done for done, _ in seen) == [done for done, _ in seen]
    assert seen[-1][0] == synthetic_split.n_rows


def test_a_failing_batch_is_named_and_not_retried(synthetic_split, endpoint):
    attempts = []

    def flaky(payload: bytes, content_type: str):
        attempts.append(payload)
        if len(attempts) == 2:
            raise ConnectionError("endpoint went away")
        return endpoint(payload, content_type)

    with pytest.raises(WorkshopError, match=r"batch 2 \(test rows 101-200\).*ConnectionError: endpoint went away"):
        predict_all(batches(synthetic_split.path, 100), flaky, concurrency=1)
    assert len(attempts) == 2  # stopped at the failure: batch 3 was never sent, batch 2 never retried


def test_a_malformed_answer_is_named_by_batch(synthetic_split, endpoint):
    def html_on_third_batch(payload: bytes, content_type: str):
        if payload.startswith(synthetic_split.path.read_bytes().splitlines()[200]):
            return b"<html>gateway timeout</html>", "text/html"
        return endpoint(payload, content_type)

    with pytest.raises(WorkshopError, match=r"Bad response to batch 3 \(test rows 201-237\).*'text/html'"):
        predict_all(batches(synthetic_split.path, 100), html_on_third_batch, concurrency=3)


def test_a_wrong_number_of_scores_is_refused(synthetic_split, endpoint):
    def one_short(payload: bytes, content_type: str):
        scores = parse_response(*endpoint(payload, content_type))
        return json.dumps({"predictions": [{"score": s} for s in scores[:-1]]}).encode(), JSON

    with pytest.raises(WorkshopError, match=r"returned 99 scores for batch 1 \(test rows 1-100\), which has 100"):
        predict_all(batches(synthetic_split.path, 100), one_short, concurrency=1)


@pytest.mark.parametrize("concurrency", [0, -1, 1.5])
def test_concurrency_below_one_is_refused(synthetic_split, endpoint, concurrency):
    with pytest.raises(WorkshopError, match="concurrency"):
        predict_all(batches(synthetic_split.path, 100), endpoint, concurrency=concurrency)


def test_rich_progress_bar_ends_at_the_row_count(synthetic_split, endpoint):
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    with progress_bar(console=console) as progress:
        predict_all(batches(synthetic_split.path, 100), endpoint, progress=progress)
    output = console.file.getvalue()
    assert "Scoring the test split" in output
    assert f"{synthetic_split.n_rows}/{synthetic_split.n_rows} rows" in output

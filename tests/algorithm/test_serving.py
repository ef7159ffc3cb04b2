"""Request parsing and response encoding of the built-in XGBoost container, without a server."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb

from vgsales.algorithm.serving import (
    ServingError,
    encode,
    parse_csv,
    parse_libsvm,
    predict,
    request_format,
    response_style,
    response_type,
)


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(200, 4)).astype(np.float32)
    return xgb.train({"objective": "binary:logistic", "max_depth": 2}, xgb.DMatrix(rows, label=rows[:, 0] > 0), 5)


def test_libsvm_rows_become_a_sparse_matrix_with_the_models_width():
    matrix = parse_libsvm(b"1 0:1.5 3:-2\n\n0 2:7e-1\r\n 1:4", num_features=4)
    assert matrix.shape == (3, 4)
    np.testing.assert_array_equal(matrix.toarray(), np.array([[1.5, 0, 0, -2], [0, 0, 0.7, 0], [0, 4, 0, 0]], dtype=np.float32))


def test_a_libsvm_line_without_label_or_features_is_a_row_of_missing_values():
    assert parse_libsvm(b"0\n1 0:1", num_features=2).shape == (2, 2)


@pytest.mark.parametrize("body", [b"0 1:2 x:y", b"0 1:2:3", b"zero 1:2", b"0 1.5:2", b"0 -1:2", b"0 12", b"\xff\xfe", b"\n \n"])
def test_malformed_libsvm_is_refused_with_415(body):
    with pytest.raises(ServingError) as refused:
        parse_libsvm(body, num_features=4)
    assert refused.value.status == 415


def test_a_libsvm_feature_beyond_the_model_is_refused_with_400():
    with pytest.raises(ServingError) as refused:
        parse_libsvm(b"0 4:1", num_features=4)
    assert refused.value.status == 400 and "larger than feature size of trained model 4" in refused.value.message


def test_csv_empty_fields_are_missing_values():
    matrix = parse_csv(b"1,,3\n4,5,6\n", num_features=3)
    assert np.isnan(matrix[0, 1]) and matrix[1, 2] == 6


@pytest.mark.parametrize(("body", "status"), [(b"1,2", 400), (b"1,a,3", 415), (b"1,2,3\n1,2", 415), (b"\xff", 415)])
def test_bad_csv_is_refused(body, status):
    with pytest.raises(ServingError) as refused:
        parse_csv(body, num_features=3)
    assert refused.value.status == status


SCORES = np.array([0.25, 0.5], dtype=np.float32)
LEGACY, NEWER = response_style("x/sagemaker-xgboost:1.2-1"), response_style("x/sagemaker-xgboost:1.2-2")


@pytest.mark.parametrize(("image", "honours"), [
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", False), ("x/xgboost:1", False),
    ("x/sagemaker-xgboost:0.90-2-cpu-py3", False), ("x/sagemaker-xgboost:1.0-1-cpu-py3", False),
    ("x/sagemaker-xgboost:1.2-1", False), ("x/sagemaker-xgboost:1.2-2", True),  # the boundary, both sides
    ("x/sagemaker-xgboost:1.3-1", True), ("x/sagemaker-xgboost:1.10-1", True), ("x/sagemaker-xgboost:3.2-0", True),
    ("x/sagemaker-xgboost@sha256:" + "0" * 64, True), (None, True),  # no tag to read: the newest behaviour
], ids=lambda value: str(value)[-28:])
def test_the_tag_decides_whether_accept_is_honoured(image, honours):
    assert response_style(image).honours_accept is honours


def test_up_to_1_2_1_real_time_answers_are_comma_joined_whatever_the_accept():
    for accept in (None, "text/csv", "application/json", "application/jsonlines", "text/plain"):
        prediction = encode(SCORES, accept, LEGACY)
        assert (prediction.body, prediction.content_type) == (b"0.25,0.5", "text/csv; charset=utf-8")


def test_from_1_2_2_real_time_answers_follow_the_accept():
    assert encode(SCORES, None, NEWER).body == encode(SCORES, "text/csv", NEWER).body == b"0.25\n0.5\n"
    assert json.loads(encode(SCORES, "application/json", NEWER).body) == {"predictions": [{"score": 0.25}, {"score": 0.5}]}
    assert encode(SCORES, "*/*", response_style("x/sagemaker-xgboost:1.7-1", {
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "application/json"})).content_type == "application/json"
    for accept, status in (("application/jsonlines", 500), ("application/x-recordio-protobuf", 500), ("text/plain", 406)):
        with pytest.raises(ServingError) as refused:
            encode(SCORES, accept, NEWER)
        assert refused.value.status == status, accept


@pytest.mark.parametrize("style", [LEGACY, NEWER], ids=["1.2-1", "1.2-2"])
def test_batch_answers_are_a_line_per_score_whatever_the_accept(style):
    for accept in ("text/csv", "application/json", None):
        assert encode(SCORES, accept, style, batch=True).body == b"0.25\n0.5\n"
    if style.honours_accept:  # 1.2-2 on still reads the Accept header first
        with pytest.raises(ServingError, match="not supported"):
            encode(SCORES, "text/plain", style, batch=True)
    else:
        assert encode(SCORES, "text/plain", style, batch=True).body == b"0.25\n0.5\n"


def test_predict_matches_booster_predict_for_both_formats(booster):
    rows = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 1.0, -1.0, 3.0]], dtype=np.float32)
    wanted = booster.predict(xgb.DMatrix(rows))
    csv = b"\n".join(b",".join(str(v).encode() for v in row) for row in rows)
    libsvm = b"\n".join(b"0 " + b" ".join(f"{i}:{v}".encode() for i, v in enumerate(row)) for row in rows)
    for body, content_type in ((csv, "text/csv"), (libsvm, "text/libsvm"), (csv, None)):
        got = np.array(predict(booster, 4, body, content_type, None).body.splitlines(), dtype=float)
        np.testing.assert_allclose(got, wanted, rtol=1e-6)


@pytest.mark.parametrize(
    ("content_type", "accept", "status"),
    [("application/json", None, 415), ("text/plain", None, 415), ("text/csv", "application/xml", 406)],
)
def test_unsupported_types_are_refused(booster, content_type, accept, status):
    with pytest.raises(ServingError) as refused:
        predict(booster, 4, b"1,2,3,4", content_type, accept)
    assert refused.value.status == status


@pytest.mark.parametrize(
    ("content_type", "parsed"),
    [("Text/CSV", "csv"), ("text/csv; charset=utf-8", "csv"), ("TEXT/X-LIBSVM", "libsvm"), ("LibSVM", "libsvm")],
)
def test_a_content_type_is_read_as_the_container_reads_it(content_type, parsed):
    """The container lower-cases the media type and ignores its parameters (media types are case-insensitive)."""
    assert request_format(content_type) == parsed


@pytest.mark.parametrize("content_type", ["text/csvx", "text/x-libsvm2", "text/plain; csv"])
def test_a_content_type_that_only_starts_like_one_the_container_takes_is_415(content_type):
    with pytest.raises(ServingError) as refused:
        request_format(content_type)
    assert refused.value.status == 415


@pytest.mark.parametrize("accept", ["*/*", "*/*; q=0.8", None, ""])
def test_any_accept_type_gets_the_containers_default_csv(accept):
    """curl and many HTTP libraries send `Accept: */*`: the container answers text/csv, not 406."""
    assert response_type(accept) == "text/csv"


def test_an_accept_type_the_container_cannot_produce_is_406():
    with pytest.raises(ServingError) as refused:
        response_type("application/xml")
    assert refused.value.status == 406

"""A small synthetic test split and a real XGBoost model behind an in-process ``invoke`` callable.

The callable parses each payload the way the built-in container does (libsvm or dense CSV) and answers with
``booster.predict``, so batching, payload encoding, ordering and response parsing are all exercised for real.
"""

from __future__ import annotations

import functools
import io
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb
from scipy import sparse
from sklearn.datasets import dump_svmlight_file, load_svmlight_file, make_classification

N_FEATURES = 12
TEST_ROWS = 237  # not a multiple of the batch sizes used, so the last batch is short
HELD_AT_MOST_SECONDS = 60  # only a caller that sends one batch at a time waits this long, and then fails


@dataclass(frozen=True)
class SyntheticSplit:
    path: Path
    n_features: int
    n_rows: int
    features: np.ndarray
    labels: np.ndarray
    booster: xgb.Booster

    def expected_scores(self) -> np.ndarray:
        # libsvm leaves zeros out, so XGBoost sees them as missing, as it did in training.
        return self.booster.predict(xgb.DMatrix(sparse.csr_matrix(self.features)))


@pytest.fixture(scope="session")
def synthetic_split(tmp_path_factory) -> SyntheticSplit:
    features, labels = make_classification(
        n_samples=600 + TEST_ROWS, n_features=N_FEATURES, n_informative=6, weights=[0.8], random_state=7
    )
    features[np.abs(features) < 0.5] = 0.0  # sparse rows, as the one-hot dataset is
    features[:, -1] = 0.0  # the last feature never appears in libsvm lines: CSV needs n_features
    train_x, test_x = features[:600], features[600:]
    train_y, test_y = labels[:600], labels[600:]
    booster = xgb.train(
        {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1},
        xgb.DMatrix(sparse.csr_matrix(train_x), label=train_y),  # trained as SageMaker does, from libsvm
        num_boost_round=15,
    )
    path = tmp_path_factory.mktemp("split") / "test.libsvm"
    dump_svmlight_file(test_x, test_y, str(path), zero_based=True)
    return SyntheticSplit(path, N_FEATURES, TEST_ROWS, test_x, test_y, booster)


@dataclass
class BoosterEndpoint:
    """An ``invoke`` callable that scores payloads with a real booster, like the XGBoost container."""

    booster: xgb.Booster
    accept: str = "text/csv"
    csv_separator: str = "\n"
    # The first N calls wait until a later call has answered, so later batches finish first. N must be below the
    # caller's concurrency, or no later call can start.
    held_first_calls: int = 0
    calls: list[bytes] = field(default_factory=list)
    completed: list[bytes] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _a_later_call_answered: threading.Event = field(default_factory=threading.Event)

    def __call__(self, payload: bytes, content_type: str) -> tuple[bytes, str]:
        with self._lock:
            call_number = len(self.calls)
            self.calls.append(payload)
        if call_number < self.held_first_calls and not self._a_later_call_answered.wait(HELD_AT_MOST_SECONDS):
            raise TimeoutError(f"call {call_number} was held for {HELD_AT_MOST_SECONDS} s and no later call "
                               "answered meanwhile: were the batches sent one at a time?")
        if content_type == "text/x-libsvm":
            rows, _ = load_svmlight_file(io.BytesIO(payload), n_features=N_FEATURES, zero_based=True)
        elif content_type == "text/csv":
            # As the container's csv_to_dmatrix does: an empty cell is a missing value.
            rows = np.array([[float(cell) if cell else np.nan for cell in line.split(",")]
                             for line in payload.decode().split("\n")])
        else:
            raise ValueError(f"unsupported content type {content_type}")
        scores = self.booster.predict(xgb.DMatrix(rows)).tolist()
        with self._lock:
            self.completed.append(payload)
        if call_number >= self.held_first_calls:
            self._a_later_call_answered.set()
        if self.accept == "application/json":
            return json.dumps({"predictions": [{"score": score} for score in scores]}).encode(), self.accept
        return self.csv_separator.join(repr(score) for score in scores).encode(), "text/csv; charset=utf-8"


@pytest.fixture
def make_endpoint(synthetic_split):
    """``make_endpoint(accept=..., csv_separator=..., held_first_calls=...)`` -> a BoosterEndpoint."""
    return functools.partial(BoosterEndpoint, synthetic_split.booster)


@pytest.fixture
def endpoint(make_endpoint) -> BoosterEndpoint:
    return make_endpoint()

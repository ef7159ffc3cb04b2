"""Send the held-out test split to an endpoint in batches and collect its scores in the split's order.

Nothing here talks to AWS: the caller passes an ``invoke(payload, content_type) -> (body, content_type)``
callable, which on either target wraps the SageMaker runtime's InvokeEndpoint. That keeps batching, ordering
and response parsing testable against an in-process booster.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sklearn.datasets import load_svmlight_file

from vgsales.errors import WorkshopError

LIBSVM = "text/x-libsvm"
CSV = "text/csv"
JSON = "application/json"
REQUEST_CONTENT_TYPES = (LIBSVM, CSV)
RESPONSE_CONTENT_TYPES = (CSV, JSON)

Invoke = Callable[[bytes, str], tuple[bytes, str]]
"""Sends one payload with its content type; returns the response body and the response's content type."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(rows_done, rows_total)`` after each batch comes back."""


@dataclass(frozen=True)
class Batch:
    """One request's worth of consecutive test rows."""

    index: int
    start_row: int
    payload: bytes
    content_type: str
    y_true: np.ndarray

    @property
    def n_rows(self) -> int:
        return len(self.y_true)

    def describe(self) -> str:
        # One-based, because users read these numbers against the split file's lines.
        return f"batch {self.index + 1} (test rows {self.start_row + 1}-{self.start_row + self.n_rows})"


@dataclass(frozen=True)
class Predictions:
    """The endpoint's scores in test-split order, with each request's round-trip time."""

    y_true: np.ndarray
    y_score: np.ndarray
    latencies_s: np.ndarray
    batch_rows: np.ndarray
    wall_seconds: float

    @property
    def n(self) -> int:
        return len(self.y_true)

    @property
    def n_requests(self) -> int:
        return len(self.latencies_s)

    def latency_ms(self, percentile: float) -> float:
        return float(np.percentile(self.latencies_s, percentile) * 1000.0)

    @property
    def rows_per_second(self) -> float:
        return self.n / self.wall_seconds if self.wall_seconds > 0 else math.inf

    def summary(self) -> dict[str, float | int]:
        return {
            "rows": self.n,
            "requests": self.n_requests,
            "wall_seconds": round(self.wall_seconds, 4),
            "rows_per_second": round(self.rows_per_second, 1),
            "latency_p50_ms": round(self.latency_ms(50), 3),
            "latency_p99_ms": round(self.latency_ms(99), 3),
        }


def endpoint_invoker(runtime, endpoint_name: str) -> Callable[[bytes, str], tuple[bytes, str]]:
    """``invoke(body, content_type) -> (answer, its content type)`` through an endpoint, with a sagemaker-runtime
    client (thread-safe: the scoring threads share it)."""

    def invoke(body: bytes, content_type: str) -> tuple[bytes, str]:
        response = runtime.invoke_endpoint(EndpointName=endpoint_name, ContentType=content_type, Body=body)
        return response["Body"].read(), response.get("ContentType", "text/csv")

    return invoke


def batches(
    libsvm_path: Path,
    batch_size: int,
    content_type: str = LIBSVM,
    n_features: int | None = None,
) -> Iterator[Batch]:
    """The test split's rows in file order, ``batch_size`` rows per batch.

    libsvm payloads are the split's own lines, label included, exactly as the workshop sent them (the
    container ignores the label). CSV payloads are dense rows without the label, so they need ``n_features``:
    the test split alone cannot tell how many trailing features the model was trained with. A feature a
    libsvm line leaves out becomes an empty CSV cell, which the container reads as missing, as it reads the
    libsvm line; writing 0 instead would change the model's answers (trees trained on libsvm send missing
    values down their default branch, not the ``< threshold`` one).
    Arguments are checked here, before the first batch is requested, so mistakes surface immediately.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise WorkshopError(
            f"The evaluation batch size must be a whole number of rows, at least 1; got {batch_size!r}. "
            "Set workshop.evaluate.batch_size (the workshop used 100)."
        )
    if content_type not in REQUEST_CONTENT_TYPES:
        raise WorkshopError(
            f"Cannot send the test split as {content_type!r}: the endpoint is called with "
            f"{' or '.join(REQUEST_CONTENT_TYPES)}. Set workshop.evaluate.content_type to one of them."
        )
    if n_features is not None and (isinstance(n_features, bool) or not isinstance(n_features, int) or n_features < 1):
        raise WorkshopError(f"The model's feature count must be a whole number above 0; got {n_features!r}.")
    if content_type == CSV and n_features is None:
        raise WorkshopError(
            "Sending text/csv needs the model's feature count (331 for the workshop's data), because CSV rows "
            "are dense and the test split may not mention the last features. Pass it from the data manifest."
        )
    lines, labels = _read_split(Path(libsvm_path), n_features)
    return _iter_batches(lines, labels, batch_size, content_type, n_features)


def _iter_batches(lines, labels, batch_size, content_type, n_features) -> Iterator[Batch]:
    for index, start in enumerate(range(0, len(lines), batch_size)):
        rows = lines[start:start + batch_size]
        if content_type == CSV:
            rows = [_csv_row(line, n_features) for line in rows]
        yield Batch(index, start, b"\n".join(rows), content_type, labels[start:start + batch_size])


def _read_split(path: Path, n_features: int | None):
    if not path.is_file():
        raise WorkshopError(
            f"The test split {path} does not exist. Run `invoke data` first; it writes the three splits."
        )
    # Blank and comment lines are skipped the same way load_svmlight_file skips them, so the two stay aligned.
    lines = [line.strip() for line in path.read_bytes().splitlines()]
    lines = [line for line in lines if line and not line.startswith(b"#")]
    if not lines:
        raise WorkshopError(f"The test split {path} has no rows. Run `invoke data` again to rebuild it.")
    try:
        features, labels = load_svmlight_file(str(path), n_features=n_features, zero_based=True)
    except ValueError as exc:
        raise WorkshopError(
            f"The test split {path} is not a valid zero-based libsvm file for this model: {exc}. "
            "Run `invoke data` again to rebuild it."
        ) from exc
    if features.shape[0] != len(lines):
        raise WorkshopError(
            f"The test split {path} has {len(lines)} data lines but {features.shape[0]} parseable rows; "
            "run `invoke data` again to rebuild it."
        )
    if not np.isin(labels, (0.0, 1.0)).all():
        bad = sorted(set(np.unique(labels).tolist()) - {0.0, 1.0})[:5]
        raise WorkshopError(
            f"The test split {path} has labels other than 0 and 1 (for example {bad}); the workshop's label "
            "is 1 for a hit and 0 otherwise. Run `invoke data` again to rebuild it."
        )
    return lines, labels.astype(np.int64)


def _csv_row(line: bytes, n_features: int) -> bytes:
    # The line was validated by load_svmlight_file; values are copied as written, so nothing is rounded.
    cells = [b""] * n_features
    for token in line.split(b"#", 1)[0].split()[1:]:
        index, _, value = token.partition(b":")
        if index != b"qid":
            cells[int(index)] = value
    return b",".join(cells)


def parse_response(body: bytes, content_type: str) -> list[float]:
    """Scores from a built-in XGBoost container response.

    text/csv comes comma-separated from some container versions and one score per line from others; both
    are accepted. application/json is ``{"predictions": [{"score": x}, ...]}``.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in RESPONSE_CONTENT_TYPES:
        raise WorkshopError(
            f"The endpoint answered with content type {content_type!r}; expected "
            f"{' or '.join(RESPONSE_CONTENT_TYPES)}. Body starts with: {_preview(body)}"
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkshopError(f"The endpoint's response is not UTF-8 text: {_preview(body)}") from exc
    scores = _parse_csv(text) if media_type == CSV else _parse_json(text)
    non_finite = [score for score in scores if not math.isfinite(score)]
    if non_finite:
        raise WorkshopError(f"The endpoint returned non-finite scores ({non_finite[:3]}); the model is unusable.")
    return scores


def _parse_csv(text: str) -> list[float]:
    tokens = [token.strip() for token in re.split(r"[,\r\n]+", text.strip())]
    if tokens == [""]:
        raise WorkshopError("The endpoint returned an empty text/csv response instead of scores.")
    scores = []
    for token in tokens:
        try:
            scores.append(float(token))
        except ValueError:
            raise WorkshopError(
                f"The endpoint's text/csv response has {token[:40]!r} where a score should be. "
                f"Response starts with: {_preview(text)}"
            ) from None
    return scores


def _parse_json(text: str) -> list[float]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkshopError(f"The endpoint's JSON response does not parse ({exc}): {_preview(text)}") from exc
    predictions = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(predictions, list):
        raise WorkshopError(
            'The endpoint\'s JSON response has no "predictions" list; expected {"predictions": [{"score": x}, ...]}. '
            f"Got: {_preview(text)}"
        )
    scores = []
    for position, item in enumerate(predictions):
        score = item.get("score") if isinstance(item, dict) else None
        if isinstance(score, bool) or not isinstance(score, (int, float)):
            raise WorkshopError(
                f'Prediction {position + 1} in the endpoint\'s JSON response has no numeric "score": '
                f"{_preview(json.dumps(item))}"
            )
        scores.append(float(score))
    return scores


def _preview(content: bytes | str, limit: int = 200) -> str:
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def predict_all(
    batches: Iterable[Batch],
    invoke: Invoke,
    concurrency: int = 4,
    progress: ProgressCallback | None = None,
) -> Predictions:
    """Send every batch, up to ``concurrency`` at a time, and return the scores in the batches' order.

    Nothing is retried here: a failed or malformed answer stops the run with an error naming the batch, and
    the batches not yet sent are cancelled.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise WorkshopError(
            f"The evaluation concurrency must be a whole number of requests, at least 1; got {concurrency!r}. "
            "Set workshop.evaluate.concurrency."
        )
    todo = list(batches)
    if not todo:
        raise WorkshopError("There are no batches to send: the test split is empty. Run `invoke data` again.")
    total_rows = sum(batch.n_rows for batch in todo)
    scores: list[np.ndarray] = [np.empty(0)] * len(todo)
    latencies = np.zeros(len(todo))
    rows_done = 0
    stop = threading.Event()
    started = perf_counter()
    with ThreadPoolExecutor(max_workers=min(concurrency, len(todo)), thread_name_prefix="evaluate") as pool:
        futures = [pool.submit(_send, batch, invoke, stop) for batch in todo]
        positions = {future: position for position, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                if future.exception() is not None:
                    break
                position = positions[future]
                scores[position], latencies[position] = future.result()
                rows_done += todo[position].n_rows
                if progress is not None:
                    progress(rows_done, total_rows)
        finally:
            if rows_done < total_rows:  # a batch failed, or the caller interrupted the run
                stop.set()
                for pending in futures:
                    pending.cancel()
        if rows_done < total_rows:
            wait(futures)
            raise _first_failure(futures)
    return Predictions(
        y_true=np.concatenate([batch.y_true for batch in todo]),
        y_score=np.concatenate(scores),
        latencies_s=latencies,
        batch_rows=np.array([batch.n_rows for batch in todo]),
        wall_seconds=perf_counter() - started,
    )


class _Skipped(Exception):
    """A batch left unsent because another batch had already failed."""


def _first_failure(futures) -> BaseException:
    # Report the earliest batch that really failed, not whichever failure the scheduler surfaced first.
    errors = [f.exception() for f in futures if not f.cancelled() and f.exception() is not None]
    real = [error for error in errors if not isinstance(error, _Skipped)]
    return (real or errors)[0]


def _send(batch: Batch, invoke: Invoke, stop: threading.Event) -> tuple[np.ndarray, float]:
    if stop.is_set():
        raise _Skipped(batch.describe())
    try:
        return _send_once(batch, invoke)
    except BaseException:
        stop.set()  # the other workers send nothing more
        raise


def _send_once(batch: Batch, invoke: Invoke) -> tuple[np.ndarray, float]:
    started = perf_counter()
    try:
        body, response_type = invoke(batch.payload, batch.content_type)
    except Exception as exc:
        raise WorkshopError(f"The endpoint failed on {batch.describe()}: {type(exc).__name__}: {exc}") from exc
    latency = perf_counter() - started
    try:
        scores = parse_response(body, response_type)
    except WorkshopError as exc:
        raise WorkshopError(f"Bad response to {batch.describe()}: {exc}") from exc
    if len(scores) != batch.n_rows:
        raise WorkshopError(
            f"The endpoint returned {len(scores)} scores for {batch.describe()}, which has {batch.n_rows} rows; "
            "the endpoint's model does not read this payload the way the data step wrote it."
        )
    return np.asarray(scores, dtype=np.float64), latency


@contextmanager
def progress_bar(description: str = "Scoring the test split", console: Console | None = None):
    """A rich progress bar, yielded as a ``ProgressCallback`` for ``predict_all``."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=None)

        def update(rows_done: int, rows_total: int) -> None:
            bar.update(task, completed=rows_done, total=rows_total)

        yield update

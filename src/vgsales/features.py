"""The workshop's preprocessing, its libsvm splits and manifest, and the feature-order contract.

``prepare`` repeats the AWS notebook step for step, so that on the workshop's file it gives the
same 8,021 rows, the same 331 features in the same order and the same shuffled 70/20/10 split; the libsvm
files it leads to are byte-identical to those AWS committed. ``align`` turns a new game's raw attributes into
a vector in the manifest's feature order, which is what the trained model and the endpoint expect.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.datasets import dump_svmlight_file

from vgsales import dataset
from vgsales.dataset import FetchedDataset, atomic_write_bytes, sha256_of
from vgsales.errors import WorkshopError

HIT_THRESHOLD_MILLIONS = 1.0
DROPPED_COLUMNS: tuple[str, ...] = (
    "Name", "Year_of_Release", "NA_Sales", "EU_Sales", "JP_Sales", "Other_Sales", "Global_Sales",
    "Critic_Count", "User_Count", "Developer",
)  # fmt: skip
SCORE_COLUMNS: tuple[str, ...] = ("Critic_Score", "User_Score")
CATEGORICAL_COLUMNS: tuple[str, ...] = ("Platform", "Genre", "Publisher", "Rating")
SEED = 1729
SPLIT_NAMES: tuple[str, ...] = ("train", "validation", "test")
SPLIT_FRACTIONS: tuple[float, ...] = (0.7, 0.2, 0.1)
# The notebook cuts at int(0.7 n) and int(0.9 n); 0.7 + 0.2 is 0.8999999999999999 in floating point, so
# the cut points are kept as written rather than summed from the fractions.
SPLIT_POINTS: tuple[float, float] = (0.7, 0.9)
# Below this the 10% test split holds a handful of rows; the workshop's file keeps 8,021.
MIN_ROWS = 50
LABEL = "label"
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class PreparedData:
    """The three shuffled splits, each a frame of ``label`` (1 = hit) then the features in order."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    feature_names: tuple[str, ...]
    raw_rows: int
    raw_hits: int
    user_scores_filled: int
    seed: int

    @property
    def splits(self) -> dict[str, pd.DataFrame]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    @property
    def rows(self) -> int:
        return sum(len(frame) for frame in self.splits.values())

    @property
    def hits(self) -> int:
        return sum(_hits(frame) for frame in self.splits.values())

    def counts(self) -> dict[str, tuple[int, int]]:
        """(rows, hits) per split."""
        return {name: (len(frame), _hits(frame)) for name, frame in self.splits.items()}


def prepare(df: pd.DataFrame, seed: int = SEED) -> PreparedData:
    """The AWS notebook's preprocessing (target, drops, dropna, User_Score, dummies, shuffled split) on a raw
    16-column frame (as returned by ``dataset.load``)."""
    data = dataset.validate_frame(df).copy()
    data["y"] = data["Global_Sales"] > HIT_THRESHOLD_MILLIONS
    raw_rows, raw_hits = len(data), int(data["y"].sum())
    data = data.drop(columns=list(DROPPED_COLUMNS)).dropna()
    _require_enough_rows(len(data), raw_rows)
    _require_both_classes("dataset after dropping incomplete rows", len(data), int(data["y"].sum()))

    user_score = pd.to_numeric(data["User_Score"], errors="coerce")
    user_scores_filled = int(user_score.isna().sum())
    data["User_Score"] = user_score.fillna(data["Critic_Score"] / 10.0)
    data["y"] = data["y"].map({True: "yes", False: "no"})
    model_data = pd.get_dummies(data)

    shuffled = model_data.sample(frac=1, random_state=seed)
    frame = shuffled.drop(columns=["y_no", "y_yes"])
    feature_names = tuple(str(column) for column in frame.columns)
    frame.insert(0, LABEL, shuffled["y_yes"].astype(int))
    n = len(frame)
    # np.split(DataFrame) returns ndarrays on pandas 3 + numpy 2; iloc at the same indices is equivalent.
    first, second = int(SPLIT_POINTS[0] * n), int(SPLIT_POINTS[1] * n)
    parts = dict(zip(SPLIT_NAMES, (frame.iloc[:first], frame.iloc[first:second], frame.iloc[second:]), strict=True))
    for name, part in parts.items():
        _require_both_classes(f"{name} split", len(part), _hits(part))
    return PreparedData(
        **parts,
        feature_names=feature_names,
        raw_rows=raw_rows,
        raw_hits=raw_hits,
        user_scores_filled=user_scores_filled,
        seed=seed,
    )


@dataclass(frozen=True)
class SplitSummary:
    file: str
    rows: int
    hits: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What ``invoke data`` produced; later tasks read the feature order and the split files from it."""

    source: str
    sha256: str
    created_at: str
    rows: int
    hits: int
    n_features: int
    feature_names: tuple[str, ...]
    splits: dict[str, SplitSummary]
    preprocessing: dict[str, Any] = field(default_factory=dict)
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        payload = asdict(self)
        payload["feature_names"] = list(self.feature_names)
        return json.dumps(payload, indent=2) + "\n"

    def write(self, path: Path) -> None:
        atomic_write_bytes(Path(path), self.to_json().encode())

    @classmethod
    def from_json(cls, path: Path) -> Manifest:
        path = Path(path)
        if not path.is_file():
            raise WorkshopError(
                f"There is no data manifest at {path}, so the prepared splits are missing. Run `invoke data` first."
            )
        try:
            payload = json.loads(path.read_text())
            splits = {name: SplitSummary(**summary) for name, summary in payload.pop("splits").items()}
            manifest = cls(**{**payload, "feature_names": tuple(payload["feature_names"]), "splits": splits})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise WorkshopError(
                f"The data manifest {path} is damaged or from another version ({type(exc).__name__}: {exc}). "
                "Run `invoke data` again to rewrite it."
            ) from None
        if manifest.format != MANIFEST_FORMAT or len(manifest.feature_names) != manifest.n_features:
            raise WorkshopError(
                f"The data manifest {path} is inconsistent (format {manifest.format}, {manifest.n_features} "
                f"features declared, {len(manifest.feature_names)} named). Run `invoke data` again."
            )
        return manifest


def write_splits(prepared: PreparedData, out_dir: Path, source: FetchedDataset) -> Manifest:
    """Write train/validation/test.libsvm and manifest.json into ``out_dir``; safe to run again.

    Every file is written under a temporary name and renamed into place, the manifest last, so a run that
    dies half-way never leaves a manifest that describes files it did not write.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    try:
        summaries = {}
        for name, frame in prepared.splits.items():
            handle, temporary = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            written[name] = Path(temporary)
            with os.fdopen(handle, "wb") as out:
                dump_svmlight_file(frame.loc[:, list(prepared.feature_names)], frame[LABEL], out, zero_based=True)
            summaries[name] = SplitSummary(
                file=f"{name}.libsvm",
                rows=len(frame),
                hits=_hits(frame),
                bytes=written[name].stat().st_size,
                sha256=sha256_of(written[name]),
            )
        for name, temporary in written.items():
            os.replace(temporary, out_dir / summaries[name].file)
    finally:
        for temporary in written.values():
            temporary.unlink(missing_ok=True)
    manifest = Manifest(
        source=source.source,
        sha256=source.sha256,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        rows=prepared.rows,
        hits=prepared.hits,
        n_features=len(prepared.feature_names),
        feature_names=prepared.feature_names,
        splits=summaries,
        preprocessing={
            "seed": prepared.seed,
            "split_fractions": list(SPLIT_FRACTIONS),
            "split_points": list(SPLIT_POINTS),
            "hit_threshold_millions": HIT_THRESHOLD_MILLIONS,
            "dropped_columns": list(DROPPED_COLUMNS),
            "user_score_fill": "Critic_Score / 10 where User_Score is not numeric ('tbd')",
            "label": "1 when Global_Sales > 1 (million units), else 0",
            "libsvm_zero_based": True,
            "raw_rows": prepared.raw_rows,
            "raw_hits": prepared.raw_hits,
            "user_scores_filled": prepared.user_scores_filled,
        },
    )
    manifest.write(out_dir / MANIFEST_NAME)
    return manifest


# --- the feature-order contract -----------------------------------------------------------------------


def align(records: Iterable[Mapping[str, Any]] | pd.DataFrame, feature_names: Iterable[str]) -> pd.DataFrame:
    """Encode raw games (Platform, Genre, Publisher, Rating, Critic_Score, User_Score) in the given order.

    The result has exactly ``feature_names`` as float columns, as ``prepare`` built them: User_Score 'tbd'
    becomes Critic_Score / 10, and a category the model never saw (a new platform) leaves its group all zero.
    """
    names = list(feature_names)
    _require_contract_names(names)
    frame = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    if frame.empty:
        raise WorkshopError("There are no games to encode: give at least one record with the game's attributes.")
    required = (*SCORE_COLUMNS, *CATEGORICAL_COLUMNS)
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise WorkshopError(
            f"Each game needs {', '.join(required)}; the records lack {', '.join(missing)}. Give every attribute "
            f"(User_Score may be '{dataset.USER_SCORE_PLACEHOLDER}' when there is no user score yet)."
        )
    critic = _required_numbers(frame["Critic_Score"], allowed=())
    user = _required_numbers(frame["User_Score"], allowed=(dataset.USER_SCORE_PLACEHOLDER,))
    raw = pd.DataFrame({"Critic_Score": critic, "User_Score": user.fillna(critic / 10.0)}, index=frame.index)
    for column in CATEGORICAL_COLUMNS:
        values = frame[column]
        absent = values.isna() | (values.astype("string").str.strip() == "")
        if absent.any():
            raise WorkshopError(
                f"{column} is missing for {int(absent.sum())} game(s) (first at record {_position(absent)}). "
                "Give every game a value; an unknown one (a new platform) is allowed and encodes as all zeros."
            )
        raw[column] = values.astype(str)
    encoded = pd.get_dummies(raw, columns=list(CATEGORICAL_COLUMNS))
    return encoded.reindex(columns=names, fill_value=0).astype(np.float64)


def to_libsvm(aligned: pd.DataFrame, labels: Iterable[int] | None = None) -> bytes:
    """Zero-based libsvm lines as in the splits; without labels each line starts with a 0 the model ignores."""
    y = np.zeros(len(aligned), dtype=int) if labels is None else np.asarray(list(labels), dtype=int)
    buffer = io.BytesIO()
    dump_svmlight_file(aligned, y, buffer, zero_based=True)
    return buffer.getvalue()


def to_csv(aligned: pd.DataFrame) -> bytes:
    """CSV rows of features only, no header, as SageMaker's built-in XGBoost expects for text/csv.

    Numbers are written as in the libsvm splits (%.16g). Mind that the model was trained on libsvm, where a
    zero is absent (missing to XGBoost); CSV sends zeros as values, so its scores can differ slightly.
    """
    return aligned.to_csv(header=False, index=False, lineterminator="\n", float_format="%.16g").encode()


def encode_rows(
    records: Iterable[Mapping[str, Any]] | pd.DataFrame,
    feature_names: Iterable[str],
    content_type: str = "text/x-libsvm",
) -> bytes:
    """A request body for the endpoint: raw games aligned to ``feature_names`` in ``content_type``.

    libsvm is the default because it is how the model saw its training data (see ``to_csv``).
    """
    aligned = align(records, feature_names)
    if content_type == "text/csv":
        return to_csv(aligned)
    if content_type in ("text/x-libsvm", "text/libsvm"):
        return to_libsvm(aligned)
    raise WorkshopError(f"Cannot encode games as {content_type!r}: use text/csv or text/x-libsvm.")


# --- helpers -------------------------------------------------------------------------------------------


def _hits(frame: pd.DataFrame) -> int:
    return int(frame[LABEL].sum())


def _require_enough_rows(rows: int, raw_rows: int) -> None:
    if rows >= MIN_ROWS:
        return
    kept = ", ".join(column for column in dataset.EXPECTED_COLUMNS if column not in DROPPED_COLUMNS)
    raise WorkshopError(
        f"Only {rows:,} of the dataset's {raw_rows:,} rows have all of {kept}; the preprocessing drops the "
        f"others, and at least {MIN_ROWS} complete rows are needed for a 70/20/10 split (the workshop's file "
        "keeps 8,021). Use a more complete dataset."
    )


def _require_both_classes(what: str, rows: int, hits: int) -> None:
    if 0 < hits < rows:
        return
    only = "non-hits (no game sold more than 1 million units)" if hits == 0 else "hits (every game sold over 1M)"
    raise WorkshopError(
        f"The {what} has only {only}: {hits:,} hits in {rows:,} rows. A classifier needs both classes in "
        "every split (the workshop's file has 1,344 hits in 8,021 complete rows). Use a dataset that holds "
        "both hits and non-hits."
    )


def _require_contract_names(names: list[str]) -> None:
    prefixes = tuple(f"{column}_" for column in CATEGORICAL_COLUMNS)
    stray = [name for name in names if name not in SCORE_COLUMNS and not name.startswith(prefixes)]
    if stray or not names:
        raise WorkshopError(
            f"The feature names do not come from this preprocessing (unexpected: {stray[:5] or 'none given'}). "
            "Use the feature_names of the manifest written by `invoke data`."
        )


def _required_numbers(values: pd.Series, allowed: tuple[str, ...]) -> pd.Series:
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype(np.float64)
    absent = values.isna() | (text == "")
    bad = ~absent & numbers.isna() & ~text.isin(allowed)
    also = f" (or '{allowed[0]}')" if allowed else ""
    if absent.any():
        raise WorkshopError(
            f"{values.name} is missing for {int(absent.sum())} game(s) (first at record {_position(absent)}). "
            f"Give it as a number{also} for every game."
        )
    if bad.any():
        raise WorkshopError(
            f"{values.name} must be a number{also}, but record {_position(bad)} has "
            f"{values[bad].iloc[0]!r}. Fix that value."
        )
    return numbers


def _position(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])

"""A first look at the raw dataset, as the workshop notebook takes it: hits, scores against sales, and the
two cleaning decisions (dropping games without reviews, filling 'tbd' user scores).

Every function reads the raw 16-column frame (``dataset.load``) and uses the preprocessing's own constants,
so what the lesson shows is what ``features.prepare`` does. Charts are drawn with matplotlib's object API
and shown by Jupyter through ``Chart._repr_png_``: no pyplot state, the same output in any notebook.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from vgsales import dataset, features
from vgsales.settings import Settings
from vgsales.state import RunState

HIT_LABELS = ("not a hit", "hit")
_PLAIN = FuncFormatter(lambda value, _: f"{value:g}")


@dataclass(frozen=True)
class Chart:
    """A matplotlib figure that Jupyter displays as a PNG when it is a cell's result."""

    figure: Figure
    dpi: int = 100

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        return buffer.getvalue()

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.figure.savefig(path, dpi=self.dpi)
        return path


@dataclass(frozen=True)
class Table:
    """A table with a one-line note above it, displayed together as a cell's result."""

    note: str
    frame: pd.DataFrame

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.note)}</p>{self.frame.to_html()}"

    def __repr__(self) -> str:
        return f"{self.note}\n{self.frame.to_string()}"


def new_figure(columns: int = 1, width: float = 5.0, height: float = 4.0) -> tuple[Figure, list]:
    figure = Figure(figsize=(width * columns, height), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, columns, squeeze=False)[0]
    return figure, list(axes)


def load_raw(settings: Settings) -> pd.DataFrame:
    """The raw dataset from ``settings.data_source``, verified (``settings.data_sha256``) and cached exactly as
    ``invoke data`` gets it."""
    fetched = dataset.fetch(settings.data_source, RunState(settings).cache_dir, expected_sha256=settings.data_sha256)
    return dataset.load(fetched.path)


def is_hit(raw: pd.DataFrame) -> pd.Series:
    """The workshop's target: more than one million units sold worldwide."""
    return raw["Global_Sales"] > features.HIT_THRESHOLD_MILLIONS


def hit_counts(raw: pd.DataFrame) -> pd.Series:
    hits = is_hit(raw)
    return pd.Series([int((~hits).sum()), int(hits.sum())], index=list(HIT_LABELS), name="games")


def plot_hits(raw: pd.DataFrame) -> Chart:
    """Bar chart of hits and non-hits: how imbalanced the two classes are."""
    counts = hit_counts(raw)
    figure, (axes,) = new_figure()
    bars = axes.bar(counts.index, counts.to_numpy(), color=["#9aa9b8", "#e07a24"])
    axes.bar_label(bars, labels=[f"{count:,}" for count in counts])
    axes.set_ylabel("games")
    axes.set_title(f"{counts['hit'] / counts.sum():.1%} of {counts.sum():,} games sold over 1 million units")
    return Chart(figure)


def review_scores(raw: pd.DataFrame) -> pd.DataFrame:
    """Critic and user scores beside global sales, with user scores made numeric as the preprocessing does."""
    scores = raw.loc[:, ["Critic_Score", "User_Score", "Global_Sales"]].copy()
    scores["User_Score"] = _filled_user_scores(scores)
    return scores


def plot_scores_vs_sales(raw: pd.DataFrame) -> Chart:
    """Critic and user scores against global sales, both axes logarithmic so that the many small sellers and
    the few blockbusters fit in one picture."""
    scores = review_scores(raw)
    figure, axes = new_figure(columns=2)
    for ax, column in zip(axes, ("Critic_Score", "User_Score"), strict=True):
        # Sales of 0.00 (under 5,000 units) and missing scores have no place on a log axis.
        shown = scores[(scores[column] > 0) & (scores["Global_Sales"] > 0)]
        hits = shown["Global_Sales"] > features.HIT_THRESHOLD_MILLIONS
        ax.scatter(shown.loc[~hits, column], shown.loc[~hits, "Global_Sales"], s=6, alpha=0.35,
                   color="#5b7a99", label=HIT_LABELS[0])
        ax.scatter(shown.loc[hits, column], shown.loc[hits, "Global_Sales"], s=6, alpha=0.5,
                   color="#e07a24", label=HIT_LABELS[1])
        ax.axhline(features.HIT_THRESHOLD_MILLIONS, color="black", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        # Scores read better as 20, 50, 80 than as 2x10^1.
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(_PLAIN)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(column)
        ax.set_ylabel("Global_Sales (million units)")
        ax.set_title(f"{column} vs sales, {len(shown):,} games")
        ax.legend(loc="upper left", markerscale=3)
    return Chart(figure)


def missing_values(raw: pd.DataFrame) -> Table:
    """Missing values per column the model keeps: mostly the review scores and the rating.

    The workshop drops every row with one of them missing: the scores are the features the prediction rests
    on, and too many are missing to fill in reliably.
    """
    kept = raw.drop(columns=list(features.DROPPED_COLUMNS))
    missing = kept.isna().sum()
    frame = pd.DataFrame({"missing": missing, "share of games": (missing / len(kept)).round(3)})
    complete = complete_rows(raw)
    note = (
        f"{len(complete):,} of {len(kept):,} games have every value and are kept; "
        f"{int(is_hit(complete).sum()):,} of them are hits."
    )
    return Table(note, frame.sort_values("missing", ascending=False))


def complete_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The games the model learns from: those with every kept column present."""
    return raw.loc[raw.drop(columns=list(features.DROPPED_COLUMNS)).dropna().index]


def tbd_user_scores(raw: pd.DataFrame, examples: int = 5) -> Table:
    """Games whose user score is still 'tbd', with the value the preprocessing puts there: Critic_Score / 10.

    Rows already dropped for missing reviews are left out, so the count is what the preprocessing fills.
    """
    complete = complete_rows(raw)
    tbd = complete[complete["User_Score"].astype(str).str.strip() == dataset.USER_SCORE_PLACEHOLDER]
    frame = tbd.loc[:, ["Name", "Platform", "Critic_Score", "User_Score"]].copy()
    frame["filled User_Score"] = frame["Critic_Score"] / 10.0
    note = f"{len(tbd):,} of {len(complete):,} kept games have User_Score 'tbd'; each gets its Critic_Score / 10."
    return Table(note, frame.head(examples))


def _filled_user_scores(frame: pd.DataFrame) -> pd.Series:
    numeric = pd.to_numeric(frame["User_Score"], errors="coerce")
    return numeric.fillna(frame["Critic_Score"] / 10.0).astype(np.float64)

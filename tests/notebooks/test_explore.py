"""The lesson's look at the raw data, on the real dataset: the numbers the notebook's text relies on."""

from __future__ import annotations

import pandas as pd
import pytest
from PIL import Image

from vgsales import dataset, explore, features


@pytest.fixture(scope="module")
def raw(shared_dataset) -> pd.DataFrame:
    return dataset.load(shared_dataset)


def png_size(chart: explore.Chart) -> tuple[int, int]:
    import io

    data = chart._repr_png_()
    assert data.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(data)).size


def test_hit_counts(raw) -> None:
    counts = explore.hit_counts(raw)
    assert counts.to_dict() == {"not a hit": 14_662, "hit": 2_057}


def test_missing_values_explain_the_dropped_rows(raw) -> None:
    table = explore.missing_values(raw)
    assert table.note.startswith("8,021 of 16,719 games have every value and are kept; 1,344 of them are hits")
    assert table.frame.loc["Critic_Score", "missing"] == 8_582
    assert table.frame.index[0] == "Critic_Score"  # most missing first
    # Only the columns the model keeps are shown.
    assert not set(table.frame.index) & set(features.DROPPED_COLUMNS)
    assert len(explore.complete_rows(raw)) == features.prepare(raw).rows


def test_tbd_user_scores_are_filled_with_the_critic_score_over_ten(raw) -> None:
    table = explore.tbd_user_scores(raw, examples=3)
    assert table.note.startswith("1,078 of 8,021 kept games have User_Score 'tbd'")
    assert len(table.frame) == 3
    assert (table.frame["User_Score"] == "tbd").all()
    assert (table.frame["filled User_Score"] == table.frame["Critic_Score"] / 10).all()
    assert "filled User_Score" in repr(table) and "<table" in table._repr_html_()


def test_review_scores_are_numeric_with_tbd_filled(raw) -> None:
    scores = explore.review_scores(raw)
    assert scores["User_Score"].dtype == "float64"
    tbd = raw["User_Score"].astype(str) == "tbd"
    # Where the critic score is missing too, both are NaN: such rows are dropped later anyway.
    pd.testing.assert_series_equal(scores.loc[tbd, "User_Score"], raw.loc[tbd, "Critic_Score"] / 10, check_names=False)


def test_charts_render_as_png(raw, tmp_path) -> None:
    assert png_size(explore.plot_hits(raw)) == (500, 400)
    scatter = explore.plot_scores_vs_sales(raw)
    assert png_size(scatter) == (1000, 400)
    axes = scatter.figure.axes
    assert [ax.get_xscale() for ax in axes] == ["log", "log"]
    assert [ax.get_yscale() for ax in axes] == ["log", "log"]
    assert scatter.save(tmp_path / "scatter.png").stat().st_size > 10_000

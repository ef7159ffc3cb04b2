"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASET = PROJECT_ROOT.parent / "shared" / "data" / "Video_Games_Sales_as_at_22_Dec_2016.csv"


@pytest.fixture(scope="session")
def shared_dataset() -> Path:
    """The real dataset. CI has it beside the project; elsewhere tests that need it skip, in CI they fail."""
    if not SHARED_DATASET.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must provide the shared dataset at {SHARED_DATASET}")
        pytest.skip(f"the real dataset is not at {SHARED_DATASET}")
    return SHARED_DATASET

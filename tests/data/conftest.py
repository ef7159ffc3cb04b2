"""Fixtures for the data tests: a generated dataset of the real schema and a loopback web server.

The generated dataset mimics what the preprocessing cares about: blank cells that dropna() removes, 'tbd'
user scores, a few categories per column, and hits (Global_Sales > 1) that tend to have higher critic
scores, so a model trained on it learns something. Tests run with --import-mode=importlib, so helpers are
handed to them as fixtures rather than imported.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vgsales.dataset import EXPECTED_COLUMNS

PLATFORMS = ("PS4", "XOne", "WiiU", "PC", "3DS")
GENRES = ("Action", "Sports", "Racing", "Puzzle")
PUBLISHERS = ("Nintendo", "Sony Computer Entertainment", "Ubisoft", "Electronic Arts", "Indie Co")
RATINGS = ("E", "T", "M")


def synthetic_frame(
    rows: int = 400,
    *,
    hit_fraction: float = 0.2,
    incomplete_fraction: float = 0.1,
    tbd_fraction: float = 0.1,
    seed: int = 0,
) -> pd.DataFrame:
    """Raw rows as the CSV holds them: User_Score as text ('7.5', 'tbd' or blank)."""
    rng = np.random.default_rng(seed)
    is_hit = rng.random(rows) < hit_fraction
    critic = np.where(is_hit, rng.integers(70, 98, rows), rng.integers(25, 90, rows)).astype(float)
    user = np.round(critic / 10 + rng.normal(0, 0.8, rows), 1).clip(0, 10)
    user_text = np.where(rng.random(rows) < tbd_fraction, "tbd", user.astype(str))
    regional = rng.dirichlet(np.ones(4), rows)
    total = np.round(np.where(is_hit, rng.uniform(1.05, 20, rows), rng.uniform(0.01, 0.95, rows)), 2)
    frame = pd.DataFrame(
        {
            "Name": [f"Game {i}" for i in range(rows)],
            "Platform": rng.choice(PLATFORMS, rows),
            "Year_of_Release": rng.integers(2000, 2017, rows).astype(float),
            "Genre": rng.choice(GENRES, rows),
            "Publisher": rng.choice(PUBLISHERS, rows),
            "NA_Sales": np.round(total * regional[:, 0], 2),
            "EU_Sales": np.round(total * regional[:, 1], 2),
            "JP_Sales": np.round(total * regional[:, 2], 2),
            "Other_Sales": np.round(total * regional[:, 3], 2),
            "Global_Sales": total,
            "Critic_Score": critic,
            "Critic_Count": rng.integers(5, 100, rows).astype(float),
            "User_Score": user_text,
            "User_Count": rng.integers(5, 1000, rows).astype(float),
            "Developer": rng.choice(("Studio A", "Studio B", "Studio C"), rows),
            "Rating": rng.choice(RATINGS, rows),
        },
        columns=list(EXPECTED_COLUMNS),
    )
    # Blank cells in columns the preprocessing keeps, so dropna() has rows to drop, as in the real file.
    incomplete = np.flatnonzero(rng.random(rows) < incomplete_fraction)
    kept_columns = ("Critic_Score", "User_Score", "Rating", "Publisher")
    for offset, row in enumerate(incomplete):
        frame.loc[row, kept_columns[offset % len(kept_columns)]] = np.nan
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Comma-separated with CRLF line ends, as the real file."""
    path = Path(path)
    frame.to_csv(path, index=False, lineterminator="\r\n")
    return path


@pytest.fixture
def make_frame():
    """``make_frame(rows=400, hit_fraction=0.2, incomplete_fraction=0.1, tbd_fraction=0.1, seed=0)``."""
    return synthetic_frame


@pytest.fixture
def write_dataset(tmp_path: Path):
    """``write_dataset(frame, name="dataset.csv") -> Path``: the frame as the real file is written."""

    def write(frame: pd.DataFrame, name: str = "dataset.csv") -> Path:
        return write_csv(frame, tmp_path / name)

    return write


@pytest.fixture
def synthetic_csv(tmp_path: Path) -> Path:
    """400 rows of the real schema, with incomplete rows, 'tbd' scores and about 20% hits."""
    return write_csv(synthetic_frame(), tmp_path / "synthetic.csv")


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "text/csv"
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()


class FileServer:
    """Serves fixed responses on 127.0.0.1 and counts the requests each path received."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests[self.path] += 1
                route = server.routes.get(self.path, Route(b"not found", status=404, content_type="text/plain"))
                time.sleep(route.delay)
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                for name, value in route.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        # A short poll interval keeps shutdown() (and so each test's teardown) fast.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def add(self, path: str, body: bytes, **options) -> str:
        """Serve ``body`` at ``path``; returns its URL."""
        self.routes[path] = Route(body, **options)
        return self.url(path)

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def file_server():
    server = FileServer().start()
    yield server
    server.stop()

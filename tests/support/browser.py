"""A real headless browser for the tests of web pages: Debian's chromium and its chromedriver (.ci/run installs
them; nothing is downloaded at run time), driven by selenium. Screenshots go to test-artifacts/ in the project
folder (VGSALES_TEST_ARTIFACTS names another): look at them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromedriver")


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("VGSALES_TEST_ARTIFACTS", PROJECT_ROOT / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def needs(condition: bool, reason: str) -> None:
    """Skip without ``reason``'s tool, or fail under CI, which must have it."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {reason}")
        pytest.skip(f"no {reason}")


def needs_chromium() -> None:
    needs(all(Path(path).exists() for path in CHROMIUM), "chromium and chromedriver (apt-get install chromium chromium-driver)")


def chromium():
    """A new headless chromium session; quit() it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    needs_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM[0]
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMIUM[1]), options=options)

"""A setup that fails leaves nothing running that it started, and says so; one it did not start stays."""

from __future__ import annotations

import pytest

from vgsales import target
from vgsales.errors import WorkshopError
from vgsales.infra import stack


def failing_settings(make_settings, tmp_path):
    # A provider mirror that is not a folder fails setup after the emulator has started, before Terraform runs.
    return make_settings(tmp_path, **{"terraform.plugin_mirror": str(tmp_path / "no-such-mirror")})


def test_a_failed_setup_stops_the_emulator_it_started(make_settings, tmp_path):
    settings = failing_settings(make_settings, tmp_path)
    service = target.of(settings).service
    try:
        with pytest.raises(WorkshopError) as failed:
            stack.setup(settings)
        assert "is not a folder" in str(failed.value)
        assert str(failed.value).endswith("The local AWS emulator that this setup started has been stopped again.")
        assert service.running() is None
    finally:
        service.stop()


def test_a_failed_setup_leaves_an_emulator_it_found_running(make_settings, tmp_path):
    settings = failing_settings(make_settings, tmp_path)
    service = target.of(settings).service
    info, started = service.start()
    try:
        assert started
        with pytest.raises(WorkshopError) as failed:
            stack.setup(settings)
        assert "stopped again" not in str(failed.value)
        assert service.running() == info, "an emulator the user started (emulator.start) is theirs to stop"
    finally:
        service.stop()

"""How `invoke train` shows the training log it streams from CloudWatch."""

from __future__ import annotations

import logging

from vgsales.cli import console as vgsales_console
from vgsales.pipeline import train


def test_container_lines_show_tabs_as_tabs_and_no_stream_name():
    record = logging.LogRecord("sagemaker.core.resources", logging.INFO, __file__, 1,
                               "vgsales-xgb-1/algo-1-17:\n[3]#011train-auc:0.87512#011validation-auc:0.85201", None, None)  # fmt: skip
    record.markup = False
    with vgsales_console.console.capture() as captured:
        train._LogLines().emit(record)
    # rich expands a tab to the next tab stop, as a terminal does: the metrics line up in columns.
    assert captured.get() == "  [3]\ttrain-auc:0.87512\tvalidation-auc:0.85201".expandtabs(8) + "\n"
    assert "#011" not in captured.get()

"""How `invoke train` shows the training log it streams from CloudWatch."""

from __future__ import annotations

import logging

from vgsales import output as vgsales_console
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


def _container_record(stream: str, message: str) -> logging.LogRecord:
    record = logging.LogRecord("sagemaker.core.resources", logging.INFO, __file__, 1, f"{stream}:\n{message}",
                               None, None)
    record.markup = False  # as sagemaker-core marks a log event from the job's container
    return record


def _printed(handler: logging.Handler, *records: logging.LogRecord) -> list[str]:
    with vgsales_console.console.capture() as captured:
        for record in records:
            handler.emit(record)
    return captured.get().splitlines()


def test_with_several_instances_each_line_starts_with_its_host():
    """Two hosts log the same kind of line: without the host, 200 rounds read as one run counting twice."""
    job = "vgsales-xgb-20261102-100000-ab12"
    lines = _printed(
        train._LogLines(instance_count=2),
        _container_record(f"{job}/algo-1-1762077600", "[0]#011train-auc:0.77831#011validation-auc:0.76336"),
        _container_record(f"{job}/algo-2-1762077601", "[0]#011train-auc:0.77790#011validation-auc:0.76402"),
        _container_record(f"{job}/algo-10-1762077601", "Train matrix has 2807 rows"),
    )
    assert lines == [
        "  [algo-1] [0]\ttrain-auc:0.77831\tvalidation-auc:0.76336".expandtabs(8),
        "  [algo-2] [0]\ttrain-auc:0.77790\tvalidation-auc:0.76402".expandtabs(8),
        "  [algo-10] Train matrix has 2807 rows",
    ]


def test_with_one_instance_lines_carry_no_host():
    one = _container_record("vgsales-xgb-1/algo-1-1762077600", "[0]#011x")
    assert _printed(train._LogLines(instance_count=1), one) == ["  [0]\tx".expandtabs(8)]


def test_the_sdks_own_messages_are_not_container_lines():
    record = logging.LogRecord("sagemaker.core.resources", logging.INFO, __file__, 1,
                               "Final Resource Status: [bold]Completed", None, None)
    assert _printed(train._LogLines(instance_count=2), record) == ["Final Resource Status: Completed"]


def test_the_hyperparameters_line_is_sorted_name_value_pairs():
    assert train.name_values({"num_round": "100", "eta": "0.1", "objective": "binary:logistic", "max_depth": "3"}) == (
        "eta=0.1, max_depth=3, num_round=100, objective=binary:logistic"
    )

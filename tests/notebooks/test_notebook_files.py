"""The two notebooks as files: same code, outputs stripped, the lesson's sections in order."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
CHINESE = NOTEBOOKS_DIR / "cht-video-game-sales-xgboost.ipynb"
ENGLISH = NOTEBOOKS_DIR / "video-game-sales-xgboost.ipynb"

CHINESE_SECTIONS = ("背景", "設定", "資料", "訓練模型", "部署模型", "評估模型", "額外評估", "調整超參數", "清除資源")
ENGLISH_SECTIONS = ("Background", "Setup", "Data", "Train", "Deploy", "Evaluate", "Further evaluation",
                    "Tune the hyperparameters", "Clean up")


def read_notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


@pytest.fixture(params=[CHINESE, ENGLISH], ids=["zh-TW", "en"])
def notebook_path(request) -> Path:
    return request.param


def code_cells(notebook: dict) -> list[tuple[str, str]]:
    return [(cell.get("id"), source(cell)) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_both_notebooks_have_the_same_code_cells_in_the_same_order() -> None:
    """The same code, cell metadata (nbclient reads tags such as raises-exception) and kernel: what one notebook
    does when executed, the other does too, which is why tests/notebooks/test_execution.py executes one of them."""
    chinese, english = read_notebook(CHINESE), read_notebook(ENGLISH)
    assert len(code_cells(chinese)) > 10
    assert code_cells(chinese) == code_cells(english)
    assert [cell.get("metadata") for cell in chinese["cells"] if cell["cell_type"] == "code"] == [
        cell.get("metadata") for cell in english["cells"] if cell["cell_type"] == "code"]
    assert chinese["metadata"] == english["metadata"]


def test_both_notebooks_have_the_same_cell_layout() -> None:
    """Markdown differs by language only: the same cells, in the same places."""
    chinese, english = ([(cell.get("id"), cell["cell_type"]) for cell in read_notebook(path)["cells"]]
                        for path in (CHINESE, ENGLISH))
    assert chinese == english


def test_outputs_are_stripped(notebook_path) -> None:
    notebook = read_notebook(notebook_path)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"cell {cell.get('id')} has outputs"
            assert cell["execution_count"] is None, f"cell {cell.get('id')} has an execution count"
        assert cell.get("metadata", {}) == {}, f"cell {cell.get('id')} has metadata"
        assert "attachments" not in cell
    assert set(notebook["metadata"]) <= {"kernelspec", "language_info"}
    assert set(notebook["metadata"].get("language_info", {})) <= {"name"}


def test_notebooks_are_valid_nbformat(notebook_path) -> None:
    notebook = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize(("path", "sections"), [(CHINESE, CHINESE_SECTIONS), (ENGLISH, ENGLISH_SECTIONS)],
                         ids=["zh-TW", "en"])
def test_the_lesson_keeps_its_sections_in_order(path, sections) -> None:
    headings = [
        line[3:].strip()
        for cell in read_notebook(path)["cells"] if cell["cell_type"] == "markdown"
        for line in source(cell).splitlines() if line.startswith("## ")
    ]
    assert [heading for heading in headings if heading in sections] == list(sections)


def test_the_chinese_notebook_is_in_traditional_chinese() -> None:
    text = "".join(source(cell) for cell in read_notebook(CHINESE)["cells"] if cell["cell_type"] == "markdown")
    # Characters that differ between the scripts: the traditional ones must be used, the simplified never.
    for traditional in ("資料", "訓練", "預測", "熱銷", "費用", "執行個體"):
        assert traditional in text
    for simplified in ("资料", "训练", "预测", "热销", "费用", "数据"):
        assert simplified not in text


def test_the_teaching_content_is_kept(notebook_path) -> None:
    cells = read_notebook(notebook_path)["cells"]
    code = "\n".join(source(cell) for cell in cells if cell["cell_type"] == "code")
    for call in ("plot_hits", "plot_scores_vs_sales", "missing_values", "tbd_user_scores", "confusion_frame",
                 "compare_thresholds", "clean_up"):
        assert f".{call}(" in code
    text = "\n".join(source(cell) for cell in cells if cell["cell_type"] == "markdown")
    assert "scale_pos_weight" in text
    assert "invoke teardown" in text
    # The clean-up comes last, with its cost warning.
    assert "clean_up" in source(cells[-1])
    assert "⚠️" in source(cells[-2])


def test_code_cells_are_short_calls_into_the_package(notebook_path) -> None:
    """Each step is a call to the package: no bucket names, no long inline code, nothing to edit by hand."""
    for cell_id, code in code_cells(read_notebook(notebook_path)):
        ast.parse(code)
        assert len(code.splitlines()) <= 7, f"cell {cell_id} is too long for a lesson step"
        assert not re.search(r"s3://|arn:aws|bucket\s*=|<.*>", code), f"cell {cell_id} has a hand-edited value"

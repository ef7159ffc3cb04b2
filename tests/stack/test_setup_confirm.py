"""On the aws target, setup shows the plan and asks `[y/N]` before creating anything that costs money: only y or
yes applies it; Enter, the capital N's default, and anything else cancels with nothing created."""

from __future__ import annotations

import pytest

from vgsales.output import console
from vgsales.errors import WorkshopError
from vgsales.infra import stack

IDENTITY = {"Account": "123456789012"}


class Terminal:
    def isatty(self) -> bool:
        return True


def answer(monkeypatch, settings, reply: str) -> None:
    monkeypatch.setattr(stack.sys, "stdin", Terminal())
    monkeypatch.setattr(console, "input", lambda question: reply)
    with console.capture():
        stack._confirm("Plan: 3 to add, 0 to change, 0 to destroy.", IDENTITY, settings)


@pytest.mark.parametrize("reply", ["y", "yes", " Yes ", "Y"])
def test_setup_applies_after_a_yes(monkeypatch, make_settings, tmp_path, reply):
    answer(monkeypatch, make_settings(tmp_path, target="aws"), reply)


@pytest.mark.parametrize("reply", ["", "   ", "n", "no", "ye", "yes please", "sure"], ids=repr)
def test_enter_or_any_other_answer_cancels_setup(monkeypatch, make_settings, tmp_path, reply):
    with pytest.raises(WorkshopError, match="Setup cancelled: nothing was created"):
        answer(monkeypatch, make_settings(tmp_path, target="aws"), reply)


def test_without_a_terminal_setup_does_not_guess_an_answer(monkeypatch, make_settings, tmp_path):
    class Pipe:
        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(stack.sys, "stdin", Pipe())
    monkeypatch.setattr(console, "input", lambda question: pytest.fail("asked without a terminal"))
    with console.capture(), pytest.raises(WorkshopError, match="INVOKE_WORKSHOP_CONFIRM=false"):
        stack._confirm("Plan: 3 to add, 0 to change, 0 to destroy.", IDENTITY, make_settings(tmp_path, target="aws"))


def test_the_question_shows_how_to_answer(monkeypatch, make_settings, tmp_path):
    """rich's console.input renders its prompt as markup, where "[y/N]" is a style tag: unescaped, the question
    was asked without it (the rehearsal's terminal transcript showed it)."""
    monkeypatch.setattr(stack.sys, "stdin", Terminal())
    monkeypatch.setattr(console, "input", lambda question: console.print(question, end="") or "y")
    with console.capture() as captured:
        stack._confirm("Plan: 3 to add, 0 to change, 0 to destroy.", IDENTITY, make_settings(tmp_path, target="aws"))
    assert captured.get().rstrip().endswith("They cost money while they exist. [y/N]"), captured.get()

"""The exception types users see.

Every failure a user can cause or fix (bad input, a missing prerequisite, a failed job) is raised as a
WorkshopError with a one-paragraph message that says what went wrong and what to do. tasks.py turns it
into ``invoke.Exit(message, code=1)``, so users never see a traceback for these.
"""


class WorkshopError(Exception):
    """A failure with a message meant for the user, not a stack trace."""


class Interrupted(WorkshopError):
    """A Ctrl-C that a task has handled (stopped what it started); the message says what was stopped.

    Exits with 130 like any interrupted command (128 + SIGINT), whichever task was running."""

    exit_code = 130

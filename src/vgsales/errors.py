"""The one exception type users see.

Every failure a user can cause or fix (bad input, a missing prerequisite, a failed job) is raised as a
WorkshopError with a one-paragraph message that says what went wrong and what to do. tasks.py turns it
into ``invoke.Exit(message, code=1)``, so users never see a traceback for these.
"""


class WorkshopError(Exception):
    """A failure with a message meant for the user, not a stack trace."""

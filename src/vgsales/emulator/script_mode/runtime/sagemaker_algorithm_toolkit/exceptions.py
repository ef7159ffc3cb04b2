"""The algorithm toolkit's errors, as aws/sagemaker-xgboost-container v3.0-5 src/sagemaker_algorithm_toolkit/exceptions.py
defines them: UserError for what the user can fix, AlgorithmError, PlatformError."""

from __future__ import annotations

import warnings


class BaseToolkitError(Exception):
    """Base of the errors that end an algorithm unsuccessfully.

    message: why; caused_by: the underlying exception, whose class name the message then ends with.
    """

    def __init__(self, message=None, caused_by=None):
        formatted_message = BaseToolkitError._format_exception_message(message, caused_by)
        super().__init__(formatted_message)
        self.message = formatted_message
        self.caused_by = caused_by

    @staticmethod
    def _format_exception_message(message, caused_by):
        if message:
            formatted_message = message
        elif caused_by:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Suppress deprecation warning
                formatted_message = getattr(caused_by, "message", str(caused_by))
        else:
            formatted_message = "unknown error occurred"

        if caused_by:
            formatted_message += " (caused by {})".format(caused_by.__class__.__name__)

        return formatted_message


class AlgorithmError(BaseToolkitError):
    """Exception used to indicate a problem that occurred with the algorithm."""


class UserError(BaseToolkitError):
    """Exception used to indicate a problem caused by mis-configuration or other user input."""


class PlatformError(BaseToolkitError):
    """Exception used to indicate a problem caused by the underlying platform (e.g. network time-outs)."""

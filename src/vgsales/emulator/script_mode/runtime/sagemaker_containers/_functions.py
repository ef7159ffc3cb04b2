"""Helpers for user functions, as sagemaker-containers v2.8.6.post2 src/sagemaker_containers/_functions.py has them:
error_wrapper re-raises whatever a user function raises as the framework's error class (ClientError)."""

from __future__ import annotations

import collections
import inspect
import sys

from sagemaker_containers import _mapping

# inspect.ArgSpec, which the real module returns, is gone from Python 3.11; the same fields.
ArgSpec = collections.namedtuple("ArgSpec", "args varargs keywords defaults")


def matching_args(fn, dictionary):  # type: (Callable, _mapping.Mapping) -> dict
    """The entries of ``dictionary`` that are arguments of ``fn`` (all of them when fn takes **kwargs)."""
    arg_spec = getargspec(fn)

    if arg_spec.keywords:
        return dictionary

    return _mapping.split_by_criteria(dictionary, arg_spec.args).included


def getargspec(fn):  # type: (Callable) -> ArgSpec
    """The names and default values of a function's arguments."""
    full_arg_spec = inspect.getfullargspec(fn)
    return ArgSpec(full_arg_spec.args, full_arg_spec.varargs, full_arg_spec.varkw, full_arg_spec.defaults)


def error_wrapper(fn, error_class):  # type: (Callable or None, Exception) -> ...
    """fn, with any exception it raises re-raised as error_class(exception), traceback kept."""

    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as e:  # six.reraise(error_class, error_class(e), sys.exc_info()[2]) in the real one
            raise error_class(e).with_traceback(sys.exc_info()[2])

    return wrapper

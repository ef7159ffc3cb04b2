"""Dictionaries as environment variables and command-line arguments, as sagemaker-containers v2.8.6.post2
src/sagemaker_containers/_mapping.py does it (with collections.abc.Mapping, as the XGBoost image patches it)."""

from __future__ import annotations

import collections
import collections.abc
import itertools
import json

SplitResultSpec = collections.namedtuple("SplitResultSpec", "included excluded")


def to_env_vars(mapping):  # type: (dict) -> dict
    """{'model_dir': '/opt/ml/model', 'batch_size': 25} -> {'SM_MODEL_DIR': '/opt/ml/model', 'SM_BATCH_SIZE': '25'}:
    strings as they are, None as '', anything else as compact JSON with sorted keys."""

    def format_key(key):
        if key:
            return "SM_%s" % str(key).upper()
        return ""

    def format_value(_mapping):
        if isinstance(_mapping, bytes):
            return _mapping.decode("latin1")
        elif _mapping is None:
            return ""
        elif isinstance(_mapping, str):
            return str(_mapping)
        else:
            return json.dumps(_mapping, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    return {format_key(k): format_value(v) for k, v in mapping.items()}


def to_cmd_args(mapping):  # type: (dict) -> list
    """{'model_dir': '/opt/ml/model', 'batch_size': 25} -> ['--batch_size', '25', '--model_dir', '/opt/ml/model']:
    sorted by name, a one-letter name as -x, a dict value as k1=v1,k2=v2."""
    sorted_keys = sorted(mapping.keys())

    def arg_name(obj):
        string = _decode(obj)
        if string:
            return "--%s" % string if len(string) > 1 else "-%s" % string
        return ""

    arg_names = [arg_name(argument) for argument in sorted_keys]

    def arg_value(value):
        if hasattr(value, "items"):
            map_items = ["%s=%s" % (k, v) for k, v in sorted(value.items())]
            return ",".join(map_items)
        return _decode(value)

    arg_values = [arg_value(mapping[key]) for key in sorted_keys]

    items = zip(arg_names, arg_values)

    return [item for item in itertools.chain.from_iterable(items)]


def _decode(obj):  # type: (object) -> str
    if obj is None:
        return ""
    if isinstance(obj, bytes):
        return obj.decode("latin1")
    return str(obj)


def split_by_criteria(dictionary, keys=None, prefix=None):  # type: (dict, set or list or tuple, str) -> SplitResultSpec
    """Split a dictionary in two: the keys in ``keys`` or starting with ``prefix`` (included), and the rest."""
    keys = keys or []
    keys = set(keys)

    included_items = {
        k: dictionary[k] for k in dictionary.keys() if k in keys or (prefix and k.startswith(prefix))
    }
    excluded_items = {k: dictionary[k] for k in dictionary.keys() if k not in included_items}

    return SplitResultSpec(included=included_items, excluded=excluded_items)


class MappingMixin(collections.abc.Mapping):
    """A read-only mapping of an object's public properties."""

    def properties(self):  # type: () -> list
        _type = type(self)
        return [_property for _property in dir(_type) if self._is_property(_property)]

    def _is_property(self, _property):
        return isinstance(getattr(type(self), _property), property)

    def __getitem__(self, k):
        if not self._is_property(k):
            raise KeyError("Trying to access non property %s" % k)
        return getattr(self, k)

    def __len__(self):
        return len(self.properties())

    def __iter__(self):
        items = {_property: getattr(self, _property) for _property in self.properties()}
        return iter(items)

    def __str__(self):
        return str(dict(self))

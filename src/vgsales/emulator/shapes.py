"""Names for the data the emulator handles without a Python type of its own.

Requests, responses and policies are JSON documents whose shapes botocore's service models (and IAM's policy
grammar) define, not Python classes; WSGI hands dictionaries and callables around (PEP 3333). Naming them once
keeps the rest of the emulator typed, and says what each untyped value is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

# A JSON value: a request parameter, a member of a response, a policy's Action or Condition.
Json = Any
# A JSON object of AWS's API or of a policy document, as it is parsed.
Document = dict[str, Json]
ReadDocument = Mapping[str, Json]
# The keyword arguments of a moto constructor or backend method, passed through to it unchanged.
MotoArguments = Json

# WSGI (PEP 3333).
Environ = dict[str, Json]
StartResponse = Callable[..., Json]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

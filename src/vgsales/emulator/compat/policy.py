"""IAM policy evaluation with AWS's rules for conditions, shared by the bucket-policy and IAM simulation fixes.

moto's own evaluator (moto.iam.access_control.IAMPolicyStatement) knows only the StringEquals condition,
treats every other operator as matching, returns DENIED for an Allow statement whose condition fails, and
reads a statement without Resource as a trust policy that allows everything. Those are fine for moto's
optional access control but wrong for the two places the project relies on: the stack's deny-non-TLS bucket
policy and `iam simulate-principal-policy` checks of the least-privilege role.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from ..shapes import Json, ReadDocument


log = logging.getLogger(__name__)


class Decision(Enum):
    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicitDeny"
    IMPLICIT_DENY = "implicitDeny"  # nothing applied


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    matched: tuple[ReadDocument, ...] = ()  # the statements that decided


# A request's condition keys: most hold one value; a multivalued key (aws:TagKeys) holds a tuple of them.
Context = Mapping[str, str | tuple[str, ...]]


def evaluate(
    policies: Iterable[ReadDocument],
    action: str,
    resource: str,
    context: Context,
    resource_policy: bool = False,
) -> Outcome:
    """An explicit Deny in any policy wins, then any Allow; a statement whose conditions fail does not apply.

    resource_policy: the statements carry a Principal; only statements for every principal ("*") are
    applied, since the emulator does not track who signed a request.
    """
    allows: list[ReadDocument] = []
    denies: list[ReadDocument] = []
    for policy in policies:
        for statement in statements(policy):
            if not statement_applies(statement, action, resource, context, resource_policy):
                continue
            (denies if statement.get("Effect") == "Deny" else allows).append(statement)
    if denies:
        return Outcome(Decision.EXPLICIT_DENY, tuple(denies))
    if allows:
        return Outcome(Decision.ALLOWED, tuple(allows))
    return Outcome(Decision.IMPLICIT_DENY)


def statements(policy: ReadDocument) -> list[ReadDocument]:
    found = policy.get("Statement", [])
    return [found] if isinstance(found, Mapping) else list(found)


def statement_applies(
    statement: ReadDocument,
    action: str,
    resource: str,
    context: Context,
    resource_policy: bool = False,
) -> bool:
    if resource_policy and not _for_everyone(statement):
        return False
    if "NotAction" in statement:
        if _any_match(statement["NotAction"], action, ignore_case=True):
            return False
    elif not _any_match(statement.get("Action", []), action, ignore_case=True):
        return False
    if "NotResource" in statement:
        if _any_match(statement["NotResource"], resource):
            return False
    elif not _any_match(statement.get("Resource", []), resource):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def conditions_hold(conditions: Mapping[str, ReadDocument], context: Context) -> bool:
    """Every operator block and every key in it must match; any of a key's listed values may match."""
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, keys in conditions.items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key.lower(), _as_list(expected), lowered):
                return False
    return True


def _condition_holds(operator: str, key: str, expected: list[str], context: Context) -> bool:
    """AWS's rules (IAM user guide, "Condition operators" and "Set operators for multivalued context keys")."""
    if operator == "Null":
        # Null: true means "the key is absent" (a multivalued key with no values counts as absent)
        return (context.get(key) in (None, ())) == (expected[0].lower() == "true")
    qualifier, _, name = operator.rpartition(":")  # "ForAllValues", "ForAnyValue" or ""
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    compare = _OPERATORS.get(name)
    if compare is None or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        log.warning("policy condition operator %s is not emulated; the statement is not applied", operator)
        return False
    negated = "Not" in name
    found = context.get(key)
    values = () if found is None else (found,) if isinstance(found, str) else tuple(found)

    def holds(actual: str) -> bool:  # one value of the request against the policy's list
        matched = any(compare(actual, value) for value in expected)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(holds(value) for value in values)  # true for a key that is absent or empty
    if qualifier == "ForAnyValue":
        # false for a key that is absent or empty, unless IfExists
        return any(holds(value) for value in values) or (if_exists and not values)
    if not values:
        # AWS: a key missing from the request fails a condition, except IfExists and negated operators.
        return if_exists or negated
    # A plain operator on a key with several values (tags whose keys differ only in case: access.py) holds only
    # if it holds for each, so that no value can hide behind another.
    return all(holds(value) for value in values)


def _for_everyone(statement: ReadDocument) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        aws = principal.get("AWS")
        return aws == "*" or (isinstance(aws, list) and "*" in aws)
    return False


def _any_match(patterns: Json, value: str, ignore_case: bool = False) -> bool:
    return any(wildcard(pattern, ignore_case).fullmatch(value) for pattern in _as_list(patterns))


@lru_cache(maxsize=1024)
def wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """IAM wildcards: * is any run of characters, ? is one character, nothing else is special."""
    parts = (".".join(re.escape(piece) for piece in chunk.split("?")) for chunk in pattern.split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _numeric(test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(actual: str, expected: str) -> bool:
        try:
            return test(float(actual), float(expected))
        except ValueError:
            return False

    return compare


def _like(actual: str, expected: str) -> bool:
    return wildcard(expected).fullmatch(actual) is not None


def _equals(actual: str, expected: str) -> bool:
    return actual == expected


def _equals_ignore_case(actual: str, expected: str) -> bool:
    return actual.lower() == expected.lower()


# Negated operators use their positive comparison; _condition_holds inverts the result.
_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "Bool": _equals_ignore_case,
    "StringEquals": _equals,
    "StringNotEquals": _equals,
    "StringEqualsIgnoreCase": _equals_ignore_case,
    "StringNotEqualsIgnoreCase": _equals_ignore_case,
    "StringLike": _like,
    "StringNotLike": _like,
    "ArnEquals": _like,
    "ArnLike": _like,
    "ArnNotEquals": _like,
    "ArnNotLike": _like,
    "NumericEquals": _numeric(lambda a, e: a == e),
    "NumericNotEquals": _numeric(lambda a, e: a == e),
    "NumericLessThan": _numeric(lambda a, e: a < e),
    "NumericLessThanEquals": _numeric(lambda a, e: a <= e),
    "NumericGreaterThan": _numeric(lambda a, e: a > e),
    "NumericGreaterThanEquals": _numeric(lambda a, e: a >= e),
}


def _as_list(value: Json) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [str(v).lower() if isinstance(v, bool) else str(v) for v in values]

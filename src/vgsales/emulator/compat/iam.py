"""IAM policy simulation, so least-privilege checks of the stack's role run on the local target too.

moto gap (5.2.5): SimulatePrincipalPolicy is not implemented. This evaluates a role's or user's identity
policies (inline, attached managed, and a user's groups'), plus any PolicyInputList, with AWS's rules
(policy.py) for each action and resource asked about. Permission boundaries, SCPs and resource policies are
not part of the emulation: the stack uses none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from urllib.parse import unquote

from moto.core.responses import ActionResult
from moto.iam.exceptions import InvalidInput, NoSuchEntity
from moto.iam.models import IAMBackend, ManagedPolicy, Role, User
from moto.iam.responses import IamResponse

from . import policy
from ..shapes import Document, Json

Principal = Role | User


def simulate_principal_policy(response: IamResponse) -> ActionResult:
    """SimulatePrincipalPolicy for services.IamService."""
    source_arn = response._get_param("PolicySourceArn")
    actions = response._get_param("ActionNames", [])
    resources = response._get_param("ResourceArns", []) or ["*"]
    if not actions:
        raise InvalidInput("ActionNames must name at least one action")
    sources = principal_policies(response.backend, source_arn)
    for index, document in enumerate(response._get_param("PolicyInputList", []), start=1):
        sources.append((f"PolicyInputList.{index}", "none", _parse(document)))
    context = _context(response._get_param("ContextEntries", []))

    results = []
    for action in actions:
        for resource in resources:
            results.append(simulate(sources, action, resource, context))
    return ActionResult({"EvaluationResults": results, "IsTruncated": False})


def simulate(
    sources: list[tuple[str, str, Document]], action: str, resource: str, context: dict[str, str]
) -> Document:
    """One EvaluationResult: the decision, the statements behind it, and condition keys the caller left out."""
    outcome = policy.evaluate([document for _, _, document in sources], action, resource, context)
    matched = []
    missing: set[str] = set()
    for source_id, source_type, document in sources:
        for statement in policy.statements(document):
            if any(statement is decided for decided in outcome.matched):
                matched.append({"SourcePolicyId": source_id, "SourcePolicyType": source_type})
            # A statement that would match but for a condition key absent from the context: AWS reports it.
            unconditional = {key: value for key, value in statement.items() if key != "Condition"}
            if policy.statement_applies(unconditional, action, resource, context):
                for keys in statement.get("Condition", {}).values():
                    missing.update(key for key in keys if key.lower() not in context)
    return {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": outcome.decision.value,
        "MatchedStatements": matched,
        "MissingContextValues": sorted(missing),
    }


def principal_policies(backend: IAMBackend, arn: str) -> list[tuple[str, str, Document]]:
    """(policy id, AWS's PolicySourceType, document) for every identity policy of a role or user."""
    kind = arn.split(":", 5)[-1].split("/", 1)[0]
    if kind == "role":
        principal = _find(backend.get_roles(), arn)
        owners = [(principal, "role")]
    elif kind == "user":
        principal = _find(backend.users.values(), arn)
        owners = [(principal, "user")] + [(group, "group") for group in backend.get_groups_for_user(principal.name)]
    else:
        raise InvalidInput(f"PolicySourceArn {arn} is not a role or user ARN; the emulator simulates those")
    sources: list[tuple[str, str, Document]] = []
    for owner, source_type in owners:
        for name, document in owner.policies.items():
            sources.append((name, source_type, _parse(document)))
        for managed in owner.managed_policies.values():
            sources.append((managed.name, _managed_type(managed), _parse(_default_document(managed))))
    return sources


def _find(candidates: Iterable[Principal], arn: str) -> Principal:
    for candidate in candidates:
        if candidate.arn == arn:
            return candidate
    raise NoSuchEntity(f"The principal {arn} cannot be found.")


def _managed_type(managed: ManagedPolicy) -> str:
    return "aws-managed" if ":iam::aws:policy/" in managed.arn else "user-managed"


def _default_document(managed: ManagedPolicy) -> str:
    return next(version.document for version in managed.versions if version.is_default)


def _parse(document: Json) -> Document:
    if isinstance(document, dict):
        return document
    text = str(document)
    if not text.lstrip().startswith("{"):
        text = unquote(text)  # IAM hands policy documents around URL-encoded
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInput("A policy document is not valid JSON") from None


def _context(entries: list[Document]) -> dict[str, str]:
    context = {}
    for entry in entries:
        values = entry.get("ContextKeyValues") or []
        if isinstance(values, str):
            values = [values]
        # Our condition keys carry one value each.
        if values:
            context[str(entry.get("ContextKeyName", "")).lower()] = str(values[0])
    return context

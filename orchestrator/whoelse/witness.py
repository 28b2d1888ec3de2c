"""A model of the formula, read back as a concrete request, and re-decided by the concrete engine.

The request is the one the concrete engine takes (``Principal``, ``Request``, ``PolicyInputs``): the
caller with its tags, user id, source identity and role ARN; the free keys as the request's context
(spelled as the policies spell them); the organization of the caller's account and the endpoint the
request comes through as the engine's inputs.
"""
from __future__ import annotations

import ipaddress
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Any

import z3

from orchestrator.authz.engine.evaluate import Engine
from orchestrator.authz.engine.inputs import Decision, PolicyInputs
from orchestrator.authz.engine.organization import VpcEndpoint
from orchestrator.authz.engine.request import Principal, Request, anonymous_principal, service_principal
from orchestrator.whoelse.identity import ALLOW_EVERYTHING, Identity
from orchestrator.whoelse.keys import Endpoint, Keys
from orchestrator.whoelse.logic import EC_PREFIX
from orchestrator.whoelse.question import Question
from orchestrator.whoelse.symbols import (ADDRESS, ANONYMOUS, BOOLEAN, DATE, SERVICE, SESSION, TYPE_NAMES, USER, WHOLE,
                                          PrincipalVars, Slot)
from orchestrator.whoelse.text import decoded
from orchestrator.whoelse.verdict import Witness

__all__ = ["Replay", "read_model", "redecide"]


@dataclass(frozen=True)
class Replay:
    """The concrete request read from a model, and the inputs the concrete engine decides it with."""

    request: Request
    inputs: PolicyInputs
    endpoint: str | None


class _Reader:
    def __init__(self, model: z3.ModelRef) -> None:
        self.model = model

    def __call__(self, expr: Any) -> Any:
        return self.model.eval(expr, model_completion=True)

    def on(self, expr: z3.BoolRef) -> bool:
        return z3.is_true(self(expr))

    def text(self, expr: z3.SeqRef) -> str:
        return decoded(self(expr))

    def slot(self, slot: Slot, sort: str) -> str | None:
        if not self.on(slot.present):
            return None
        if self.on(slot.bad):
            return "malformed"
        if sort in WHOLE:
            return _whole(self(slot.value).as_long(), sort)
        if sort == BOOLEAN:
            return "true" if self.on(slot.value) else "false"
        if sort == ADDRESS:
            value = slot.value
            if self.on(value.v6):
                return str(ipaddress.IPv6Address(self(value.v6bits).as_long()))
            return str(ipaddress.IPv4Address(self(value.v4).as_long()))
        return self.text(slot.value)


def _whole(value: int, sort: str) -> str:
    """A date as AWS writes ``aws:CurrentTime`` (ISO 8601, UTC) when it can be, else the number."""
    if sort == DATE:
        try:
            return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OverflowError, OSError, ValueError):
            pass
    return str(value)


def _principal(read: _Reader, p: PrincipalVars, keys: Keys) -> Principal:
    kind = read(p.kind).as_long()
    arn, account = read.text(p.arn), read.text(p.account)
    if kind == ANONYMOUS:
        return anonymous_principal()
    if kind == SERVICE:
        return service_principal(arn)
    if kind not in (USER, SESSION):
        return Principal(arn, account, TYPE_NAMES[kind])
    tags = {}
    for key, (_, slot) in p.tags.items():
        value = read.slot(slot, "string")
        if value is not None:
            tags[keys.plan.spelling.get("aws:principaltag/" + key, "aws:PrincipalTag/" + key).split("/", 1)[1]] = value
    session = kind == SESSION
    return Principal(arn, account, TYPE_NAMES[kind], userid=read.slot(p.userid, "string"), tags=tags,
                     role_arn=read.text(p.role_arn()) if session else None,
                     source_identity=read.slot(p.source_identity, "string") if session else None)


def _context(read: _Reader, question: Question, principal: Principal, keys: Keys) -> dict[str, tuple[str, ...]]:
    context: dict[str, tuple[str, ...]] = {}
    for var in keys.free():
        values = tuple(v for v in (read.slot(slot, var.sort) for slot in var.slots) if v is not None)
        if values:
            context[_spelled(var.name, keys)] = values
    address = read.slot(keys.ip, ADDRESS)
    if address is not None:
        context["aws:SourceIp"] = (address,)
    for key, spelled in (("kms:calleraccount", "kms:CallerAccount"), ("aws:resourceaccount", "aws:ResourceAccount")):
        var = keys.made.get(key)
        if var is not None and read.on(var.present):
            context[spelled] = (read.text(var.slots[0].value),)
    if principal.type not in ("Anonymous", "Service") and principal.account not in question.organizations \
            and read.on(keys.org.present):
        context["aws:PrincipalOrgID"] = (read.text(keys.org.value),)
        if read.on(keys.org_path.present):
            context["aws:PrincipalOrgPaths"] = (read.text(keys.org_path.value),)
    return context


def _spelled(key: str, keys: Keys) -> str:
    if key.startswith(EC_PREFIX):
        return "kms:EncryptionContext:" + keys.ec_spelling(keys.plan.spelling.get(key, key)[len(EC_PREFIX):])
    return keys.plan.spelling.get(key, key)


def _endpoint(read: _Reader, question: Question, endpoint: Endpoint) -> VpcEndpoint | None:
    choice = read(endpoint.choice).as_long()
    if choice == Endpoint.NONE:
        return None
    if choice >= 0:
        return question.endpoints[choice]
    vpc = read.text(endpoint.vpc.value) if read.on(endpoint.vpc.present) else ""
    return VpcEndpoint(read.text(endpoint.vpce), vpc)


def read_model(model: z3.ModelRef, question: Question, action: str, p: PrincipalVars, keys: Keys,
               endpoint: Endpoint, identities: list[tuple[Identity, z3.BoolRef]]) -> Replay:
    read = _Reader(model)
    principal = _principal(read, p, keys)
    context = _context(read, question, principal, keys)
    declared = next((identity.declared for identity, here in identities if read.on(here)), None)
    identity = (tuple(declared.identity) if declared is not None
                else (ALLOW_EVERYTHING,) if principal.type in ("User", "AssumedRole") else ())
    vpc_endpoint = _endpoint(read, question, endpoint)
    inputs = PolicyInputs(
        identity=identity, boundaries=tuple(declared.boundaries) if declared is not None else (),
        resource_policy=question.resource_policy, resource_account=question.resource_account,
        grants=tuple(question.grants), restrict_public=question.restrict_public,
        principal_org=question.organizations.get(principal.account) if principal.account else None,
        resource_org=question.resource_org, vpc_endpoint=vpc_endpoint)
    request = Request(principal, action, question.resource, context)
    return Replay(request, inputs, vpc_endpoint.id if vpc_endpoint is not None else None)


def redecide(replay: Replay, engine: Engine) -> tuple[Decision, Witness]:
    """The concrete engine's decision on the replayed request, and the witness it makes."""
    decision = engine.evaluate(replay.request, replay.inputs)
    principal, inputs = replay.request.principal, replay.inputs
    org = inputs.principal_org
    context = {key: tuple(values) for key, values in replay.request.context.items()}
    org_id = org.org_id if org is not None else (context.get("aws:PrincipalOrgID") or (None,))[0]
    paths = (org.path(),) if org is not None else tuple(context.get("aws:PrincipalOrgPaths", ()))
    witness = Witness(principal.arn, principal.account, principal.type, replay.request.action, context,
                      org_id=org_id if principal.type not in ("Anonymous", "Service") else None,
                      org_paths=paths if principal.type not in ("Anonymous", "Service") else (),
                      vpc_endpoint=replay.endpoint, role_arn=principal.role_arn, tags=dict(principal.tags),
                      statements=decision.matched, decision=decision)
    return decision, witness

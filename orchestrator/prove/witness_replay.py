"""A violated guarantee's witness made as a real call, beside the symbolic verdict (issue 24).

On the embedded backend and on an endpoint (`orchestrate serve`) orchestrate can act in any account
(moto's multi-account header), so it makes the witness's principal where the witness says it is and
calls as it, through the gate:

- a declared user or a session of a declared role: the run's own credentials for it (prove/sessions.py);
- another IAM user: a throwaway user of the witness's name, whose identity side is what the witness
  assumed of an undeclared principal (an inline policy allowing the action on everything), tagged
  as orchestrate's and deleted afterwards, key and policy first, even when the call fails;
- a session of another role: a throwaway role of the witness's name trusting its own account, the
  same inline policy, assumed by orchestrate's identity there, deleted afterwards;
- the anonymous caller: an unsigned request.

Where it cannot, it says why: an account's root user (orchestrate never signs in as one), a service
principal (only the service calls as itself), a request through a VPC endpoint or with context
values a call cannot be given, and real AWS (orchestrate makes no principal in an account for a
witness there, least of all in a stranger's). Secrets are never printed: the report holds outcomes.
"""
from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator import arns
from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.backends.accounts import in_account
from orchestrator.backends.base import Credentials

from orchestrator.model.scenario import DesiredState, Expectation, Guarantee
from orchestrator.prove.assertions import CallFailed, perform, undo_for
from orchestrator.prove.calls import PreparationFailed, Probes, call_for
from orchestrator.prove.guarantees import Replay
from orchestrator.resources.context import DEFAULT_RUN, TAG_RUN, TAG_SCENARIO, RunContext

__all__ = ["replay_witness", "not_replayable", "REPLAYING_BACKENDS", "WITNESS_POLICY"]

#: Backends on which orchestrate makes a witness's principal (moto's world, any account).
REPLAYING_BACKENDS = ("embedded", "endpoint")
WITNESS_POLICY = "orchestrate-witness"
#: Condition keys a real call can be given: its encryption context (KMS).
_CONTEXT_PREFIX = "kms:encryptioncontext:"


def not_replayable(ctx: RunContext, witness: Any) -> str | None:
    """Why the witness cannot be made as a real call here, else None."""
    if ctx.backend.kind not in REPLAYING_BACKENDS:
        return "on real AWS orchestrate makes no principal for a witness (least of all in another's account)"
    if witness.principal_type == "Service":
        return f"the caller is the service principal {witness.caller_arn}: only that service calls as itself"
    if witness.principal_type == "Account":
        return "the caller is an account's root user: orchestrate never signs in as one"
    if witness.vpc_endpoint is not None:
        return f"the request comes through the VPC endpoint {witness.vpc_endpoint}: a call here comes through none"
    others = sorted(key for key in witness.context if not key.lower().startswith(_CONTEXT_PREFIX))
    if others:
        return f"the request carries {', '.join(others)}, which a call made here cannot be given"
    if witness.org_id is not None and not _declared_account(ctx, witness.caller_account):
        return f"the caller's account is in the organization {witness.org_id}, which the run cannot make"
    return None


def _declared_account(ctx: RunContext, account: str) -> bool:
    home = ctx.home_context or ctx
    return account == home.account or account in home.accounts.values()


def replay_witness(ctx: RunContext, desired: DesiredState, guarantee: Guarantee, witness: Any,
                   callers: Any = None, probes: Probes | None = None) -> Replay:
    """The witness's outcome as a real call, or why it was not made."""
    reason = not_replayable(ctx, witness)
    if reason is not None:
        return Replay("not replayed", reason)
    expectation = _expectation(guarantee, witness)
    try:
        spec = call_for(ctx, desired, expectation, probes if probes is not None else Probes(ctx))
        with _caller(ctx, desired, witness, callers) as client_for:
            outcome = perform(client_for(spec.service), spec, undo_for(ctx, spec))
    except (PreparationFailed, CallFailed) as error:
        return Replay("error", f"the call could not be made: {error}")
    except Exception as error:  # an AWS refusal while making the principal: the replay's own error
        code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
        if code is None:
            raise
        return Replay("error", f"making the witness's principal failed with {code}", code)
    return Replay(outcome.word, _words(outcome), outcome.code)


def _words(outcome: Any) -> str:
    if outcome.allowed:
        return "the real call was allowed: the violation is real"
    return f"the real call was {outcome.word} ({outcome.code}): the symbolic witness was not confirmed"


def _expectation(guarantee: Guarantee, witness: Any) -> Expectation:
    context = {key[len(_CONTEXT_PREFIX):]: values[0] for key, values in witness.context.items()
               if key.lower().startswith(_CONTEXT_PREFIX) and values}
    return Expectation.model_validate({"as": "witness", "action": witness.action, "resource": guarantee.resource,
                                       "expect": "allowed", **({"encryption_context": context} if context else {})})


@contextmanager
def _caller(ctx: RunContext, desired: DesiredState, witness: Any, callers: Any) -> Iterator[Any]:
    """A function giving the witness's client per service, made for the call, removed after it."""
    if witness.caller_arn == ANONYMOUS or witness.principal_type == "Anonymous":
        yield ctx.backend.anonymous_client
        return
    declared = _declared(ctx, desired, witness)
    if declared is not None and callers is not None:
        credentials = callers.credentials(declared)
        yield lambda service: ctx.backend.client(service, credentials)
        return
    with _throwaway(ctx, witness) as credentials:
        yield lambda service: ctx.backend.client(service, credentials)


def _declared(ctx: RunContext, desired: DesiredState, witness: Any) -> str | None:
    """The scenario principal the witness is (a user, or a session of a role), else None."""
    for name in desired.users:
        if ctx.arn(f"user:{name}") == witness.caller_arn:
            return name
    for name in desired.roles:
        if witness.role_arn is not None and ctx.arn(f"role:{name}") == witness.role_arn:
            return f"role:{name}"
    return None


def _policy(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})


def _tags(ctx: RunContext) -> list[dict[str, str]]:
    return [{"Key": TAG_SCENARIO, "Value": ctx.scenario}, {"Key": TAG_RUN, "Value": ctx.run_id or DEFAULT_RUN}]


@contextmanager
def _throwaway(ctx: RunContext, witness: Any) -> Iterator[Credentials]:
    backend = in_account(ctx.backend, witness.caller_account)
    iam = backend.client("iam")
    if witness.principal_type == "User":
        found = arns.IAM_USER_ARN.match(witness.caller_arn)
        name = found["name"] if found is not None else f"orchestrate-witness-{secrets.token_hex(4)}"
        with _user(iam, name, witness.action, ctx) as credentials:
            yield credentials
        return
    found = arns.SESSION_ARN.match(witness.caller_arn)
    role = found["role"] if found is not None else f"orchestrate-witness-{secrets.token_hex(4)}"
    session = found["session"] if found is not None and len(found["session"]) >= 2 else "orchestrate-witness"
    with _role(iam, role, witness, ctx) as role_arn:
        answer = backend.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        yield Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])


@contextmanager
def _user(iam: Any, name: str, action: str, ctx: RunContext) -> Iterator[Credentials]:
    iam.create_user(UserName=name, Tags=_tags(ctx))
    key: str | None = None
    try:
        iam.put_user_policy(UserName=name, PolicyName=WITNESS_POLICY, PolicyDocument=_policy(action))
        answer = iam.create_access_key(UserName=name)["AccessKey"]
        key = answer["AccessKeyId"]
        yield Credentials(answer["AccessKeyId"], answer["SecretAccessKey"])
    finally:
        if key is not None:
            iam.delete_access_key(UserName=name, AccessKeyId=key)
        _quietly(iam.delete_user_policy, UserName=name, PolicyName=WITNESS_POLICY)
        iam.delete_user(UserName=name)


@contextmanager
def _role(iam: Any, name: str, witness: Any, ctx: RunContext) -> Iterator[str]:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": arns.root_arn(witness.caller_account)}}]}
    role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=_tags(ctx))["Role"]["Arn"]
    try:
        iam.put_role_policy(RoleName=name, PolicyName=WITNESS_POLICY, PolicyDocument=_policy(witness.action))
        yield role_arn
    finally:
        _quietly(iam.delete_role_policy, RoleName=name, PolicyName=WITNESS_POLICY)
        iam.delete_role(RoleName=name)


def _quietly(call: Any, **params: Any) -> None:
    """Remove what may not have been made (an inline policy the failed put never wrote)."""
    try:
        call(**params)
    except Exception as error:
        if (getattr(error, "response", None) or {}).get("Error", {}).get("Code") != "NoSuchEntity":
            raise

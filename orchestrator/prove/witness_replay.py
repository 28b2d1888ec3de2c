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

from orchestrator.constants import TAG_WITNESS
from orchestrator.errors import ProofError
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
    """The witness's outcome as a real call, or why it was not made. What orchestrate made for it
    is deleted whatever happens; what could not be deleted is said, and the next replay of the
    same witness deletes it first (it carries the scenario's tags)."""
    reason = not_replayable(ctx, witness)
    if reason is not None:
        return Replay("not replayed", reason)
    expectation = _expectation(guarantee, witness)
    left: list[str] = []
    try:
        spec = call_for(ctx, desired, expectation, probes if probes is not None else Probes(ctx))
        with _caller(ctx, desired, witness, callers, left) as client_for:
            outcome = perform(client_for(spec.service), spec, undo_for(ctx, spec))
    except (PreparationFailed, CallFailed) as error:
        return Replay("error", f"the call could not be made: {error}" + _left(left))
    except ReplayCleanupFailed as error:
        return Replay("error", f"what an earlier replay made could not be deleted first: {error}")
    except Exception as error:  # an AWS refusal while making the principal: the replay's own error
        code = (getattr(error, "response", None) or {}).get("Error", {}).get("Code")
        if code is None:
            raise
        operation = getattr(error, "operation_name", "a call")
        return Replay("error", f"making the witness's principal: {operation} failed with {code}" + _left(left), code)
    return Replay(outcome.word, _words(outcome) + _left(left), outcome.code)


def _left(left: list[str]) -> str:
    return f" (not deleted, left for the next run: {'; '.join(left)})" if left else ""


def _words(outcome: Any) -> str:
    if outcome.allowed:
        return "the violation is real"
    return f"{outcome.code or outcome.word}: the symbolic witness was not confirmed"


def _expectation(guarantee: Guarantee, witness: Any) -> Expectation:
    context = {key[len(_CONTEXT_PREFIX):]: values[0] for key, values in witness.context.items()
               if key.lower().startswith(_CONTEXT_PREFIX) and values}
    return Expectation.model_validate({"as": "witness", "action": witness.action, "resource": guarantee.resource,
                                       "expect": "allowed", **({"encryption_context": context} if context else {})})


@contextmanager
def _caller(ctx: RunContext, desired: DesiredState, witness: Any, callers: Any, left: list[str]) -> Iterator[Any]:
    """A function giving the witness's client per service, made for the call, removed after it."""
    if witness.caller_arn == ANONYMOUS or witness.principal_type == "Anonymous":
        yield ctx.backend.anonymous_client
        return
    declared = _declared(ctx, desired, witness)
    if declared is not None and callers is None:
        raise PreparationFailed(f"the witness is the scenario's {declared}, and the run's credentials were not given")
    if declared is not None:
        credentials = callers.credentials(declared)
        yield lambda service: ctx.backend.client(service, credentials)
        return
    with _throwaway(ctx, witness, left) as credentials:
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
    return [{"Key": TAG_SCENARIO, "Value": ctx.scenario}, {"Key": TAG_RUN, "Value": ctx.run_id or DEFAULT_RUN},
            {"Key": TAG_WITNESS, "Value": "true"}]


@contextmanager
def _throwaway(ctx: RunContext, witness: Any, left: list[str]) -> Iterator[Credentials]:
    backend = in_account(ctx.backend, witness.caller_account)
    iam = backend.client("iam")
    if witness.principal_type == "User":
        found = arns.IAM_USER_ARN.match(witness.caller_arn)
        name = found["name"] if found is not None else f"orchestrate-witness-{secrets.token_hex(4)}"
        with _user(iam, name, witness, ctx, left) as credentials:
            yield credentials
        return
    found = arns.SESSION_ARN.match(witness.caller_arn)
    role = found["role"] if found is not None else f"orchestrate-witness-{secrets.token_hex(4)}"
    session = found["session"] if found is not None and len(found["session"]) >= 2 else "orchestrate-witness"
    with _role(iam, role, witness, ctx, left) as role_arn:
        answer = backend.client("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        yield Credentials(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])


@contextmanager
def _user(iam: Any, name: str, witness: Any, ctx: RunContext, left: list[str]) -> Iterator[Credentials]:
    """The witness's user with the witness's tags (aws:PrincipalTag) beside orchestrate's."""
    _sweep_user(iam, name, ctx)
    tags = [{"Key": key, "Value": value} for key, value in witness.tags.items()] + _tags(ctx)
    iam.create_user(UserName=name, Tags=tags)
    try:
        iam.put_user_policy(UserName=name, PolicyName=WITNESS_POLICY, PolicyDocument=_policy(witness.action))
        answer = iam.create_access_key(UserName=name)["AccessKey"]
        yield Credentials(answer["AccessKeyId"], answer["SecretAccessKey"])
    finally:
        _delete_user(iam, name, left)


def _sweep_user(iam: Any, name: str, ctx: RunContext) -> None:
    """A user of that name left by an earlier replay of this scenario (its tags say so) is deleted;
    any other user of that name is left alone (creating the witness's then fails, and says so)."""
    _sweep(lambda: iam.list_user_tags(UserName=name)["Tags"], lambda failed: _delete_user(iam, name, failed), ctx)


def _sweep_role(iam: Any, name: str, ctx: RunContext) -> None:
    """The same for a role an earlier replay left (a witness that was a session of another role)."""
    _sweep(lambda: iam.list_role_tags(RoleName=name)["Tags"], lambda failed: _delete_role(iam, name, failed), ctx)


def _sweep(tags_of: Any, delete: Any, ctx: RunContext) -> None:
    try:
        tags = {t["Key"]: t["Value"] for t in tags_of()}
    except Exception as error:
        if _code(error) == "NoSuchEntity":
            return
        raise
    if tags.get(TAG_SCENARIO) == ctx.scenario and tags.get(TAG_WITNESS) == "true":
        failed: list[str] = []
        delete(failed)
        if failed:
            raise failed_error(failed)


def _delete_user(iam: Any, name: str, left: list[str]) -> None:
    """Every access key, the inline policy, then the user; each step tried, what fails is said."""
    try:
        keys = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
    except Exception as error:
        left.append(f"user {name}: ListAccessKeys failed with {_code(error)}")
        return
    steps = [(iam.delete_access_key, {"UserName": name, "AccessKeyId": key}) for key in keys]
    steps += [(iam.delete_user_policy, {"UserName": name, "PolicyName": WITNESS_POLICY}), (iam.delete_user, {"UserName": name})]
    _each(steps, f"user {name}", left)


@contextmanager
def _role(iam: Any, name: str, witness: Any, ctx: RunContext, left: list[str]) -> Iterator[str]:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": arns.root_arn(witness.caller_account)}}]}
    tags = [{"Key": key, "Value": value} for key, value in witness.tags.items()] + _tags(ctx)
    _sweep_role(iam, name, ctx)
    role_arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Tags=tags)["Role"]["Arn"]
    try:
        iam.put_role_policy(RoleName=name, PolicyName=WITNESS_POLICY, PolicyDocument=_policy(witness.action))
        yield role_arn
    finally:
        _delete_role(iam, name, left)


def _delete_role(iam: Any, name: str, left: list[str]) -> None:
    _each([(iam.delete_role_policy, {"RoleName": name, "PolicyName": WITNESS_POLICY}),
           (iam.delete_role, {"RoleName": name})], f"role {name}", left)


def _each(steps: list[tuple[Any, dict[str, Any]]], what: str, left: list[str]) -> None:
    """Each deletion tried in turn; an inline policy that was never written is no failure."""
    for call, params in steps:
        try:
            call(**params)
        except Exception as error:
            code = _code(error)
            if code == "NoSuchEntity":
                continue
            if code is None:
                raise
            left.append(f"{what}: {getattr(error, 'operation_name', 'a deletion')} failed with {code}")
            if call.__name__ in ("delete_user", "delete_role"):
                return


def _code(error: BaseException) -> str | None:
    return (getattr(error, "response", None) or {}).get("Error", {}).get("Code")  # type: ignore[no-any-return]


def failed_error(left: list[str]) -> Exception:
    return ReplayCleanupFailed("; ".join(left))


class ReplayCleanupFailed(ProofError):
    """What an earlier replay left could not be deleted before this one."""

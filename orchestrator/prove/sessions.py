"""Sessions of scenario roles, for expectations `as: role:NAME`: sts:AssumeRole made by the
expectation's `via` user (its run access key), by a session of the `via: role:OTHER` role (role
chaining, one hop: OTHER's session is orchestrate's), or, without `via`, by orchestrate's own
identity; with the expectation's session name, session policies, session tags, external id and
source identity (SessionShape).

AWS STS API Reference, "AssumeRole": RoleSessionName (2-64 of `[\\w+=,.@-]`), DurationSeconds
(900 s at least; at most the role's MaxSessionDuration). Sessions are asked for the shortest
duration AWS allows, 15 minutes, and asked again when less than a minute is left, so the
credentials of a run outlive it by at most 15 minutes; they cannot be deleted (IAM User Guide,
"Revoking IAM role temporary security credentials" would change the role's policies, which
orchestrate does not do on its own). The credentials live only in memory and are never printed.
A session's principal is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (no role path).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from orchestrator import arns
from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.backends.base import Credentials
from orchestrator.constants import MIN_SESSION_SECONDS
from orchestrator.model.scenario import Expectation
from orchestrator.prove.principals import PrincipalKeys
from orchestrator.resources.context import RunContext
from orchestrator.resources.propagation import until_propagated

SESSION_SECONDS = MIN_SESSION_SECONDS
RENEW_BEFORE = timedelta(seconds=60)


@dataclass(frozen=True)
class SessionShape:
    """What AssumeRole is asked beyond the role (an expectation's session fields), with scenario
    references resolved: AWS STS API Reference, "AssumeRole" (RoleSessionName, Policy, PolicyArns,
    Tags, TransitiveTagKeys, ExternalId, SourceIdentity, DurationSeconds)."""

    name: str | None = None
    policy: str | None = None
    policy_arns: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    transitive: tuple[str, ...] = ()
    external_id: str | None = None
    source_identity: str | None = None
    duration: int | None = None

    @property
    def plain(self) -> bool:
        return self == PLAIN

    def digest(self) -> str:
        """Eight hex digits naming this shape (a made-up session name tells shapes apart)."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:8]

    def parameters(self) -> dict[str, Any]:
        """AssumeRole's parameters beyond RoleArn, RoleSessionName and DurationSeconds."""
        asked: dict[str, Any] = {}
        if self.policy is not None:
            asked["Policy"] = self.policy
        if self.policy_arns:
            asked["PolicyArns"] = [{"arn": arn} for arn in self.policy_arns]
        if self.tags:
            asked["Tags"] = [{"Key": key, "Value": value} for key, value in self.tags]
        if self.transitive:
            asked["TransitiveTagKeys"] = list(self.transitive)
        if self.external_id is not None:
            asked["ExternalId"] = self.external_id
        if self.source_identity is not None:
            asked["SourceIdentity"] = self.source_identity
        return asked


PLAIN = SessionShape()


def session_name_for(base: str, shape: SessionShape = PLAIN) -> str:
    """The RoleSessionName of a shape: the expectation's, else made up from ``base`` (one per
    shape, so that a session ARN stands for one set of session policies and tags)."""
    if shape.name is not None:
        return shape.name
    return base if shape.plain else f"{base}-{shape.digest()}"[-64:]


def shape_of(ctx: RunContext, expectation: Expectation) -> SessionShape:
    """The session an expectation `as: role:NAME` asks for (PLAIN for any other)."""
    if expectation.role is None:
        return PLAIN
    policy = None
    if expectation.session_policy is not None:
        document = expectation.session_policy.model_dump(mode="json", by_alias=True, exclude_none=True)
        policy = json.dumps(ctx.resolve_policy(document), separators=(",", ":"))
    return SessionShape(
        name=expectation.session_name, policy=policy,
        policy_arns=tuple(ctx.managed_policy_arn(name) for name in expectation.session_policy_arns or ()),
        tags=tuple((expectation.session_tags or {}).items()), transitive=tuple(expectation.transitive_tags or ()),
        external_id=expectation.external_id, source_identity=expectation.source_identity,
        duration=expectation.duration_seconds)


@dataclass
class RoleSessions:
    ctx: RunContext
    keys: PrincipalKeys
    _sessions: dict[tuple[str, str | None, SessionShape], tuple[Credentials, datetime]] = field(default_factory=dict)

    @property
    def session_name(self) -> str:
        return f"orchestrate-{self.keys.mark.session}"

    def name_for(self, shape: SessionShape = PLAIN) -> str:
        """The RoleSessionName: the expectation's, else made up (one per shape, so that a session
        ARN stands for one set of session policies and tags)."""
        return session_name_for(self.session_name, shape)

    def session_arn(self, role: str, shape: SessionShape = PLAIN) -> str:
        account = self.ctx.account_id("roles", role)
        return arns.assumed_role_arn(account, self.ctx.physical(role), self.name_for(shape))

    def credentials(self, role: str, via: str | None, shape: SessionShape = PLAIN) -> Credentials:
        """A session of scenario role `role`, assumed by `via` (a scenario user, or `role:OTHER`:
        a plain session of OTHER, role chaining) or orchestrate."""
        slot = (role, via, shape)
        held = self._sessions.get(slot)
        if held is None or held[1] - datetime.now(timezone.utc) < RENEW_BEFORE:
            if held is not None:
                self.ctx.backend.forget_principal(held[0])
            self._sessions[slot] = self._assume(role, via, shape)
        return self._sessions[slot][0]

    def _caller(self, via: str | None) -> Credentials | None:
        if via is None:
            return None
        if via.startswith("role:"):  # IAM User Guide, "Role chaining": a session assumes the role
            return self.credentials(via.removeprefix("role:"), None)
        return self.keys.credentials(via)

    def _assume(self, role: str, via: str | None, shape: SessionShape = PLAIN) -> tuple[Credentials, datetime]:
        caller = self._caller(via)
        # without `via`, orchestrate's own identity in the role's account assumes it
        home = None if caller is not None else self.ctx.account_id("roles", role)
        sts = self.ctx.backend.client("sts", caller, home)
        seconds = shape.duration or SESSION_SECONDS
        # IAM User Guide, "Changes that I make are not always immediately visible": a role just
        # created or just trusting us can refuse AssumeRole for a while; only backends that lag retry.
        answer = until_propagated(self.ctx, lambda: sts.assume_role(
            RoleArn=self.ctx.arn(f"role:{role}"), RoleSessionName=self.name_for(shape), DurationSeconds=seconds,
            **shape.parameters()), timeout=ASSUME_PROPAGATION_SECONDS, codes=ASSUME_PROPAGATION_CODES)
        granted: dict[str, Any] = answer["Credentials"]
        credentials = Credentials(granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"])
        return credentials, _aware(granted.get("Expiration"), seconds)

    def forget_all(self) -> None:
        """Drop the clients of every session (their credentials expire on their own)."""
        for credentials, _ in self._sessions.values():
            self.ctx.backend.forget_principal(credentials)
        self._sessions.clear()


#: How long a lagging backend's AssumeRole refusal is taken for propagation before it is the answer.
ASSUME_PROPAGATION_SECONDS = 30.0
ASSUME_PROPAGATION_CODES = frozenset({"AccessDenied"})


def _aware(expiration: Any, seconds: int = SESSION_SECONDS) -> datetime:
    if isinstance(expiration, datetime):
        return expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


@dataclass
class Callers:
    """Who makes an expectation's call: a scenario user (its run access key) or a session of a
    scenario role (`as: role:NAME`, assumed `via` a user, another role's session, or orchestrate)."""

    keys: PrincipalKeys
    sessions: RoleSessions

    def credentials(self, principal: str, via: str | None = None, shape: SessionShape = PLAIN) -> Credentials:
        if principal.startswith("role:"):
            return self.sessions.credentials(principal.removeprefix("role:"), via, shape)
        return self.keys.credentials(principal)

    def arn(self, principal: str, shape: SessionShape = PLAIN) -> str:
        """The ARN AWS names the caller by: the user's, or the session's (assumed-role) ARN;
        ``anonymous`` for an unsigned request (the gate's name for it)."""
        if principal == ANONYMOUS:
            return ANONYMOUS
        if principal.startswith("role:"):
            return self.sessions.session_arn(principal.removeprefix("role:"), shape)
        return self.sessions.ctx.arn(f"user:{principal}")

    def shaped(self, expectations: list[Expectation]) -> dict[str, SessionShape]:
        """Session ARN -> its shape, for the role sessions these expectations act as that carry
        session policies, tags or a source identity (the desired world predicts with them)."""
        found: dict[str, SessionShape] = {}
        for expectation in expectations:
            shape = shape_of(self.sessions.ctx, expectation)
            if expectation.role is not None and not shape.plain:
                found[self.arn(expectation.principal, shape)] = shape
        return found

"""Sessions of scenario roles, for expectations `as: role:NAME`: sts:AssumeRole made by the
expectation's `via` user (its run access key) or, without `via`, by orchestrate's own identity.

AWS STS API Reference, "AssumeRole": RoleSessionName (2-64 of `[\\w+=,.@-]`), DurationSeconds
(900 s at least; at most the role's MaxSessionDuration). Sessions are asked for the shortest
duration AWS allows, 15 minutes, and asked again when less than a minute is left, so the
credentials of a run outlive it by at most 15 minutes; they cannot be deleted (IAM User Guide,
"Revoking IAM role temporary security credentials" would change the role's policies, which
orchestrate does not do on its own). The credentials live only in memory and are never printed.
A session's principal is `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` (no role path).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.backends.base import Credentials
from orchestrator.prove.principals import PrincipalKeys
from orchestrator.resources.context import Context
from orchestrator.resources.propagation import until_propagated

SESSION_SECONDS = 900
RENEW_BEFORE = timedelta(seconds=60)


@dataclass
class RoleSessions:
    ctx: Context
    keys: PrincipalKeys
    _sessions: dict[tuple[str, str | None], tuple[Credentials, datetime]] = field(default_factory=dict)

    @property
    def session_name(self) -> str:
        return f"orchestrate-{self.keys.mark.session}"

    def session_arn(self, role: str) -> str:
        account = self.ctx.account_id("roles", role)
        return f"arn:aws:sts::{account}:assumed-role/{self.ctx.physical(role)}/{self.session_name}"

    def credentials(self, role: str, via: str | None) -> Credentials:
        """A session of scenario role `role`, assumed by `via` (a scenario user) or orchestrate."""
        slot = (role, via)
        held = self._sessions.get(slot)
        if held is None or held[1] - datetime.now(timezone.utc) < RENEW_BEFORE:
            if held is not None:
                self.ctx.backend.forget_principal(held[0])
            self._sessions[slot] = self._assume(role, via)
        return self._sessions[slot][0]

    def _assume(self, role: str, via: str | None) -> tuple[Credentials, datetime]:
        caller = self.keys.credentials(via) if via is not None else None
        # without `via`, orchestrate's own identity in the role's account assumes it
        home = None if caller is not None else self.ctx.account_id("roles", role)
        sts = self.ctx.backend.client("sts", caller, home)
        # IAM User Guide, "Changes that I make are not always immediately visible": a role just
        # created or just trusting us can refuse AssumeRole for a while; only backends that lag retry.
        answer = until_propagated(self.ctx, lambda: sts.assume_role(
            RoleArn=self.ctx.arn(f"role:{role}"), RoleSessionName=self.session_name, DurationSeconds=SESSION_SECONDS),
            timeout=ASSUME_PROPAGATION_SECONDS, codes=ASSUME_PROPAGATION_CODES)
        granted: dict[str, Any] = answer["Credentials"]
        credentials = Credentials(granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"])
        return credentials, _aware(granted.get("Expiration"))

    def forget_all(self) -> None:
        """Drop the clients of every session (their credentials expire on their own)."""
        for credentials, _ in self._sessions.values():
            self.ctx.backend.forget_principal(credentials)
        self._sessions.clear()


#: How long a lagging backend's AssumeRole refusal is taken for propagation before it is the answer.
ASSUME_PROPAGATION_SECONDS = 30.0
ASSUME_PROPAGATION_CODES = frozenset({"AccessDenied"})


def _aware(expiration: Any) -> datetime:
    if isinstance(expiration, datetime):
        return expiration if expiration.tzinfo else expiration.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) + timedelta(seconds=SESSION_SECONDS)


@dataclass
class Callers:
    """Who makes an expectation's call: a scenario user (its run access key) or a session of a
    scenario role (`as: role:NAME`, assumed `via` a user or by orchestrate)."""

    keys: PrincipalKeys
    sessions: RoleSessions

    def credentials(self, principal: str, via: str | None = None) -> Credentials:
        if principal.startswith("role:"):
            return self.sessions.credentials(principal.removeprefix("role:"), via)
        return self.keys.credentials(principal)

    def arn(self, principal: str) -> str:
        """The ARN AWS names the caller by: the user's, or the session's (assumed-role) ARN;
        ``anonymous`` for an unsigned request (the gate's name for it)."""
        if principal == ANONYMOUS:
            return ANONYMOUS
        if principal.startswith("role:"):
            return self.sessions.session_arn(principal.removeprefix("role:"))
        return self.sessions.ctx.arn(f"user:{principal}")

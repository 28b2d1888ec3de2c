"""An opt-in model of AWS's eventual consistency for the gate (`orchestrate serve --propagation-delay`).

On AWS a change to who may do what is answered at once but enforced only after it has propagated:
IAM User Guide, "Troubleshoot IAM" > "Changes that I make are not always immediately visible";
AWS KMS Developer Guide, "AWS KMS eventual consistency" and "Using a grant token" ("typically ...
less than a few seconds ... in some cases it can take several minutes"; CreateGrant: "usually less
than five minutes"); and DynamoDB re-checks a table's KMS key only when its cached table key
expires (KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS", "Table key caching").

The design: snapshot on mutation, not versioned reads. The gate reads lazily (only what a call
needs, when it is made), so the first time it reads a changed value can be long after the change;
timing a change from that read would lag it too long, and a value never read before the change
would have no "before" at all. So the WSGI middleware, for every allowed call that can change
authorization (:func:`mutates`), snapshots the affected entities just before moto runs it and just
after; each difference becomes a :class:`Change` timed at the call. The gate's world
(``LaggingWorld``, orchestrator/backends/lagging_world.py, over moto's world) answers with the newest value whose change is older than the delay (plus
its own uniform jitter in [0, jitter]); moto itself, and so every read API (GetKeyPolicy,
GetUserPolicy, DescribeKey ...), shows the new document at once, as AWS does.

What lags: per IAM user and role, its identity policies (inline, attached, group membership, new
default policy versions) and permissions boundary; per role, the role itself with its trust policy
and tags (a new role cannot be assumed until it has propagated; a deleted one still can); per KMS
key its policy, state, enabled flag and grants; a table's resource policy; a bucket's policy.
What does not: a new user, key, table or bucket (its first value is effective at once), and access
keys (AWS's new-key delay is not modelled). Changes to one entity keep their order (a later
change never takes effect before an earlier one, whatever the jitter).
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


__all__ = ["PROPAGATION_HEADER", "Propagation", "RecordingWorld", "History", "Change", "ABSENT", "serving", "serving_service", "mutates"]

#: Every response of a lagging `serve` carries the longest a change can take to be enforced, in seconds.
PROPAGATION_HEADER = "x-orchestrate-propagation-delay"

Key = tuple[str, ...]
ABSENT = _ABSENT = object()  # an entity that does not exist (for roles, a value; for the others, no history)
_serving: contextvars.ContextVar[str] = contextvars.ContextVar("orchestrate_serving_service", default="")

_IAM_READS = ("Get", "List", "Simulate", "Generate")
_KMS_CHANGES = frozenset({"PutKeyPolicy", "CreateGrant", "RetireGrant", "RevokeGrant", "EnableKey", "DisableKey",
                          "ScheduleKeyDeletion", "CancelKeyDeletion"})
_DYNAMODB_CHANGES = frozenset({"PutResourcePolicy", "DeleteResourcePolicy"})
_S3_CHANGES = frozenset({"PutBucketPolicy", "DeleteBucketPolicy"})


def mutates(service: str, operation: str) -> bool:
    """Whether an allowed call can change what the gate must lag."""
    if service == "iam":
        return not operation.startswith(_IAM_READS)
    return operation in {"kms": _KMS_CHANGES, "dynamodb": _DYNAMODB_CHANGES, "s3": _S3_CHANGES}.get(service, ())


@dataclass(frozen=True)
class Propagation:
    """The configured lag: ``delay`` plus a uniform jitter in [0, ``jitter``] per change, and for a
    table's key as DynamoDB sees it, at least ``table_key_cache``."""

    delay: float = 0.0
    jitter: float = 0.0
    table_key_cache: float = 0.0

    @property
    def enabled(self) -> bool:
        return self.delay > 0 or self.jitter > 0 or self.table_key_cache > 0

    @property
    def longest(self) -> float:
        """The longest a change can take to be enforced (what :data:`PROPAGATION_HEADER` announces)."""
        return max(self.delay, self.table_key_cache) + self.jitter

    def header_value(self) -> str:
        return f"{self.longest:g}"


@dataclass(frozen=True)
class Change:
    at: float  # when moto made it (the lagging world's clock)
    jitter: float
    value: Any


@dataclass
class History:
    """An entity's value before its pending changes, and those changes in the order made."""

    before: Any
    changes: list[Change] = field(default_factory=list)

    def value_at(self, now: float, lag: float) -> Any:
        value, edge = self.before, float("-inf")
        for change in self.changes:
            edge = max(edge, change.at + lag + change.jitter)  # order kept: never before an earlier one
            if edge > now:
                break
            value = change.value
        return value

    def settle(self, now: float, lag: float) -> bool:
        """Fold the changes already effective under the longest ``lag`` into ``before``; True
        when nothing is pending any more (the history can go)."""
        edge = float("-inf")
        while self.changes:
            edge = max(edge, self.changes[0].at + lag + self.changes[0].jitter)
            if edge > now:
                return False
            self.before = self.changes.pop(0).value
        return True




@runtime_checkable
class RecordingWorld(Protocol):
    """A world that lags what the gate sees (the middleware records every mutating call)."""

    def recording(self, service: str, params: Mapping[str, Any], region: str,
                  account: str) -> contextlib.AbstractContextManager[None]: ...

    def account_for_access_key(self, access_key_id: str | None) -> str: ...


@contextlib.contextmanager
def serving(service: str) -> Iterator[None]:
    """Mark the calls the gate decides in this block as ``service``'s (DynamoDB's table key cache)."""
    token = _serving.set(service)
    try:
        yield
    finally:
        _serving.reset(token)


def serving_service() -> str:
    """The service whose call the gate is deciding now (see :func:`serving`), else ""."""
    return _serving.get()

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
after; each difference becomes a :class:`_Change` timed at the call. The gate's world
(:class:`LaggingWorld`) answers with the newest value whose change is older than the delay (plus
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
import dataclasses
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .world import Identity, KeyInfo, PolicyDoc, RoleInfo, TableInfo, BucketInfo, World

__all__ = ["PROPAGATION_HEADER", "LaggingWorld", "Propagation", "mutates"]

#: Every response of a lagging `serve` carries the longest a change can take to be enforced, in seconds.
PROPAGATION_HEADER = "x-orchestrate-propagation-delay"

Key = tuple[str, ...]
_ABSENT = object()  # an entity that does not exist (for roles, a value; for the others, no history)
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
class _Change:
    at: float  # when moto made it (the lagging world's clock)
    jitter: float
    value: Any


@dataclass
class _History:
    """An entity's value before its pending changes, and those changes in the order made."""

    before: Any
    changes: list[_Change] = field(default_factory=list)

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


class LaggingWorld(World):
    """The gate's world, answering authorization reads as they were ``delay`` ago (see module doc).

    Only what the gate decides with lags; everything else (identities, accounts, objects,
    signatures) is moto's current state, read through :class:`World`."""

    def __init__(self, propagation: Propagation, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        self.propagation = propagation
        self.clock = clock
        self.rng = rng or random.Random()
        self._histories: dict[Key, _History] = {}
        self._lock = threading.RLock()

    # ---- recording (the middleware, around a mutating call) ------------------------

    @contextlib.contextmanager
    def recording(self, service: str, params: Mapping[str, Any], region: str, account: str) -> Iterator[None]:
        """Snapshot what the call can change before and after it runs; record each difference.
        Mutations are serialised, so two changes cannot interleave their snapshots."""
        with self._lock:
            before = self.snapshot(service, params, region, account)
            yield
            self.record(before, self.snapshot(service, params, region, account))

    def record(self, before: Mapping[Key, Any], after: Mapping[Key, Any]) -> None:
        """Each entity whose value differs becomes a change made now (a new entity that is not a
        role has nothing to lag: its first value is effective at once)."""
        now = self.clock()
        with self._lock:
            for key in before.keys() | after.keys():
                old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
                if key[0] != "role" and new is _ABSENT:  # gone: nothing left to decide with
                    self._histories.pop(key, None)
                    continue
                if old == new or (old is _ABSENT and key[0] != "role"):
                    continue
                history = self._histories.setdefault(key, _History(old))
                history.changes.append(_Change(now, self.rng.uniform(0, self.propagation.jitter), new))
            self._settle(now)

    def _settle(self, now: float) -> None:
        longest = max(self.propagation.delay, self.propagation.table_key_cache)
        for key in [k for k, h in self._histories.items() if h.settle(now, longest)]:
            del self._histories[key]

    def pending(self) -> int:
        """How many entities have a change not yet enforced everywhere (for tests and logs)."""
        with self._lock:
            self._settle(self.clock())
            return len(self._histories)

    @staticmethod
    @contextlib.contextmanager
    def serving(service: str) -> Iterator[None]:
        """Mark the calls the gate decides in this block as ``service``'s (DynamoDB's table key cache)."""
        token = _serving.set(service)
        try:
            yield
        finally:
            _serving.reset(token)

    # ---- snapshots ----------------------------------------------------------------

    def snapshot(self, service: str, params: Mapping[str, Any], region: str, account: str) -> dict[Key, Any]:
        """The current values of what a call to ``service`` with ``params`` can change."""
        if service == "iam":
            return self._iam_snapshot()
        if service == "kms":
            return self._kms_snapshot(params, region, account)
        if service == "dynamodb":
            table = World.table(self, str(params.get("ResourceArn") or ""), region, account)
            return {} if table is None else {("table", table.arn): table.resource_policy}
        if service == "s3":
            bucket = World.bucket(self, str(params.get("Bucket") or ""))
            return {} if bucket is None else {("bucket", bucket.name): bucket.policy}
        return {}

    def _iam_snapshot(self) -> dict[Key, Any]:
        found: dict[Key, Any] = {}
        for account, backend in self._iam_accounts():
            for user in list(backend.users.values()):
                found[("principal", str(account), "user", user.name)] = (
                    tuple(self._user_policies(backend, user.name)), self._boundary_of(str(account), user))
            for role in list(backend.roles.values()):
                found[("principal", str(account), "role", role.arn)] = (
                    tuple(self._holder_policies(role, "role")), self._boundary_of(str(account), role))
                found[("role", role.arn)] = World.role(self, role.arn)
        return found

    def _boundary_of(self, account: str, holder: Any) -> PolicyDoc | None:
        arn = getattr(holder, "permissions_boundary_arn", None)
        document = self.managed_policy_document(account, arn) if arn else None
        return None if document is None else PolicyDoc("boundary", arn, document)

    def _kms_snapshot(self, params: Mapping[str, Any], region: str, account: str) -> dict[Key, Any]:
        """The key the call names; every key of the account and region when it names none
        (RetireGrant with only a grant token)."""
        ref = params.get("KeyId")
        if ref:
            key = World.kms_key(self, str(ref), region, account)
            return {} if key is None else {("key", key.arn): _key_facts(key)}
        backend = self._kms_backend(account, region)
        keys = [] if backend is None else [self._key_info(backend, k) for k in list(backend.keys.values())]
        return {("key", key.arn): _key_facts(key) for key in keys}

    # ---- the gate's reads, lagged --------------------------------------------------

    def _lagged(self, key: Key, current: Any, lag: float | None = None) -> Any:
        with self._lock:
            history = self._histories.get(key)
            if history is None:
                return current
            return history.value_at(self.clock(), self.propagation.delay if lag is None else lag)

    def identity_policies(self, identity: Identity) -> list[PolicyDoc]:
        current = super().identity_policies(identity)
        key = _principal_key(identity)
        if key is None:
            return current
        policies, _ = self._lagged(key, (tuple(current), None))
        return list(policies)

    def permissions_boundary(self, identity: Identity) -> PolicyDoc | None:
        current = super().permissions_boundary(identity)
        key = _principal_key(identity)
        if key is None:
            return current
        boundary: PolicyDoc | None = self._lagged(key, ((), current))[1]
        return boundary

    def role(self, role_arn: str) -> RoleInfo | None:
        current = super().role(role_arn)
        lagged = self._lagged(("role", role_arn), current)
        return None if lagged is _ABSENT else lagged

    def kms_key(self, key_ref: str | None, region: str, account: str) -> KeyInfo | None:
        current = super().kms_key(key_ref, region, account)
        if current is None:
            return None
        lag = self.propagation.delay
        if _serving.get() == "dynamodb":  # the table key DynamoDB has cached
            lag = max(lag, self.propagation.table_key_cache)
        facts = self._lagged(("key", current.arn), _key_facts(current), lag)
        policy, state, enabled, grants = facts
        return dataclasses.replace(current, policy=policy, state=state, enabled=enabled, grants=grants)

    def table(self, name_or_arn: str | None, region: str, account: str) -> TableInfo | None:
        current = super().table(name_or_arn, region, account)
        if current is None:
            return None
        return dataclasses.replace(current, resource_policy=self._lagged(("table", current.arn), current.resource_policy))

    def bucket(self, name: str | None) -> BucketInfo | None:
        current = super().bucket(name)
        if current is None:
            return None
        return dataclasses.replace(current, policy=self._lagged(("bucket", current.name), current.policy))


def _principal_key(identity: Identity) -> Key | None:
    if identity.administrator:
        return None
    if identity.user_name is not None:
        return ("principal", identity.account, "user", identity.user_name)
    if identity.role_arn is not None:
        return ("principal", identity.account, "role", identity.role_arn)
    return None


def _key_facts(key: KeyInfo) -> tuple[str, str, bool, tuple[Any, ...]]:
    """What of a key authorization decides with: policy, state, enabled, grants."""
    return (key.policy, key.state, key.enabled, key.grants)

"""moto's world as the gate sees it under `serve --propagation-delay`: authorization reads answered
as they were a delay ago (the model: orchestrator/authz/gate/propagation.py)."""
from __future__ import annotations

import contextlib
import dataclasses
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from orchestrator.authz.gate.propagation import ABSENT as _ABSENT
from orchestrator.authz.gate.propagation import Change, History, Key, Propagation, serving, serving_service
from orchestrator.authz.world import BucketInfo, Identity, KeyInfo, PolicyDoc, RoleInfo, TableInfo
from orchestrator.backends.moto_world import MotoWorld

__all__ = ["LaggingWorld"]


class LaggingWorld(MotoWorld):
    """The gate's world, answering authorization reads as they were ``delay`` ago (see module doc).

    Only what the gate decides with lags; everything else (identities, accounts, objects,
    signatures) is moto's current state, read through :class:`MotoWorld`."""

    def __init__(self, propagation: Propagation, clock: Callable[[], float] = time.monotonic,
                 rng: random.Random | None = None) -> None:
        super().__init__()
        self.propagation = propagation
        self.clock = clock
        self.rng = rng or random.Random()
        self._histories: dict[Key, History] = {}
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
                history = self._histories.setdefault(key, History(old))
                history.changes.append(Change(now, self.rng.uniform(0, self.propagation.jitter), new))
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

    serving = staticmethod(serving)

    # ---- snapshots ----------------------------------------------------------------

    def snapshot(self, service: str, params: Mapping[str, Any], region: str, account: str) -> dict[Key, Any]:
        """The current values of what a call to ``service`` with ``params`` can change."""
        if service == "iam":
            return self._iam_snapshot()
        if service == "kms":
            return self._kms_snapshot(params, region, account)
        if service == "dynamodb":
            table = MotoWorld.table(self, str(params.get("ResourceArn") or ""), region, account)
            return {} if table is None else {("table", table.arn): table.resource_policy}
        if service == "s3":
            bucket = MotoWorld.bucket(self, str(params.get("Bucket") or ""))
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
                found[("role", role.arn)] = MotoWorld.role(self, role.arn)
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
            key = MotoWorld.kms_key(self, str(ref), region, account)
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
        if serving_service() == "dynamodb":  # the table key DynamoDB has cached
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

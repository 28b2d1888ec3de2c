"""The access matrix of the world as it is, beside the desired state's on the same context.

The world is read as `orchestrate drift` reads it (`observe_all`: per resource, the observed
properties in the reconcilers' normalised shape, the same as their desired ones), and the gate
decides from an `ObservedWorld`: a `DesiredWorld` whose every entity's properties come from that
reading instead of the reconcilers' `desired(...)`. An entity the world lacks (a user, a key, a
table deleted out of band) reads as absent: so does a policy statement, a grant or an attached
policy removed out of band, since the observed documents are what the gate reads.

Principals and columns are the state's (`analysis.access`); the ARNs are the ones the context
learnt while observing (a key's), so `desired_state_matrix` on the same context makes the same
requests and the two matrices compare cell for cell (drift's access section).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.analysis.access_classes import Decisions, add_class_rows
from orchestrator.analysis.access import cell_decider, changes, columns, principals
from orchestrator.model.access import AccessMatrix, Cell, Column, StateMatrix
from orchestrator.analysis.offline import OfflineEngine, OfflineProbes
from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.authz.gate.core import Gate
from orchestrator.authz.world import ObjectInfo
from orchestrator.model.scenario import DesiredState, Expectation
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.reconcile.observe import Pair, observe_all
from orchestrator.resources.context import RunContext
from orchestrator.resources.s3_objects import S3Objects

#: (reconciler kind, entity name) -> the observed properties, None where the world has none.
Observations = dict[tuple[str, str], dict[str, Any] | None]

#: The code AWS answers a request signed with credentials of no identity, by service (DynamoDB and
#: KMS API references, "Common Errors": UnrecognizedClientException; S3 API Reference, "Error
#: responses": InvalidAccessKeyId; STS API Reference, "Common Errors": InvalidClientTokenId).
UNKNOWN_CREDENTIALS = {"s3": "InvalidAccessKeyId", "sts": "InvalidClientTokenId"}


def observations(pairs: Iterable[Pair]) -> Observations:
    return {(pair.reconciler.kind, pair.name): readable(pair) for pair in pairs}


def readable(pair: Pair) -> dict[str, Any] | None:
    """The observed properties, or None where there is nothing the gate could read: no resource,
    or one orchestrate cannot read (another account's bucket of that name: AccessDenied)."""
    if pair.observed is None:
        return None
    found = pair.observed.properties
    unread = set(pair.desired) - set(found) - pair.reconciler.write_only - {"items"}
    return None if unread else found


class ObservedWorld(DesiredWorld):
    """What the gate reads, from the world as observed (the state's entities only)."""

    def __init__(self, ctx: RunContext, desired: DesiredState, observed: Observations, ciphertexts: dict[str, bytes],
                 contextual: dict[tuple[str, Any], bytes] | None = None) -> None:
        self.observed = observed  # before DesiredWorld's constructor, which reads properties
        super().__init__(ctx, desired, ciphertexts, contextual)

    def properties(self, reconciler: Any, section: str, name: str) -> dict[str, Any] | None:
        return self.observed.get((reconciler.kind, name))

    def s3_object(self, bucket: str | None, key: str | None) -> ObjectInfo | None:
        """A seeded object the world holds, under the encryption it was written with (S3 User
        Guide, "Protecting data with server-side encryption": a bucket's default encryption
        applies to objects written after it is set; each object keeps its own)."""
        found = self._bucket_name(bucket)
        info = self.bucket(bucket)
        objects = (self.properties(S3Objects(), "buckets", found) or {}).get("objects", {}) if found else {}
        if info is None or not key or key not in objects:
            return None
        algorithm, key_id = object_sse(objects[key]["encryption"])
        return ObjectInfo(info.name, key, f"{info.arn}/{key}", algorithm, key_id, objects[key]["bucket_key"])


def object_sse(encryption: dict[str, str | None]) -> tuple[str, str | None]:
    """(ServerSideEncryption, SSEKMSKeyId) of an object's observed encryption (S3 API Reference,
    HeadObject): SSE-S3 is AES256; an AWS managed or customer managed key is aws:kms."""
    return ("AES256", None) if encryption["type"] == "aws-owned" else ("aws:kms", encryption["key"])


def observed_engine(ctx: RunContext, desired: DesiredState, observed: Observations) -> OfflineEngine:
    """The engine over the observed world, with the requests the desired state's engine makes."""
    probes = OfflineProbes(ctx)
    world = ObservedWorld(ctx, desired, observed, probes.blobs, probes.contextual)
    return OfflineEngine(ctx, desired, probes, Gate(ctx.region, world=world))


def observed_state_matrix(ctx: RunContext, desired: DesiredState, name: str, expectations: Iterable[Expectation] = (),
                          pairs: Iterable[Pair] | None = None, classes: bool | Decisions = True) -> StateMatrix:
    """The state's matrix decided on the world (read now unless `pairs` were read already)."""
    read = list(observe_all(ctx, desired, observed_only=True)) if pairs is None else pairs
    return world_state_matrix(observed_engine(ctx, desired, observations(read)), name, expectations, classes)


def desired_state_matrix(ctx: RunContext, desired: DesiredState, name: str,
                         expectations: Iterable[Expectation] = (), classes: bool | Decisions = True) -> StateMatrix:
    """The desired state's matrix on a context that has observed the world (its real ARNs)."""
    return world_state_matrix(OfflineEngine.for_state(ctx, desired), name, expectations, classes)


def world_state_matrix(engine: OfflineEngine, name: str, expectations: Iterable[Expectation] = (),
                       classes: bool | Decisions = True) -> StateMatrix:
    """`analysis.access.state_matrix`, where a principal the world lacks makes no request at all:
    each of its cells is denied with the code AWS answers unknown credentials (an offline check,
    which makes no request, stays allowed)."""
    expectations = list(expectations)
    matrix = StateMatrix(name, principals(engine.desired, expectations), columns(engine.desired, expectations))
    decide = cell_decider(engine)
    present = {p for p in matrix.principals
               if p == ANONYMOUS or engine.gate.world.identity_for_arn(engine.principal_arn(p)) is not None}
    for principal in matrix.principals:
        for column in matrix.columns:
            known = principal in present or column.request().get("offline")
            matrix.cells[(principal, column)] = decide(principal, column) if known else absent_cell(principal, column)
    if classes is not False:  # True, or the decisions to share with another matrix (drift's two)
        add_class_rows(matrix, engine.ctx, engine.desired, engine.gate.world, None if classes is True else classes)
    return matrix


def absent_cell(principal: str, column: Column) -> Cell:
    service = column.action.partition(":")[0]
    return Cell(principal, column, False, None, (), f"{principal} is not in the world: no request can be made as it",
                UNKNOWN_CREDENTIALS.get(service, "UnrecognizedClientException"))


def observed_matrix(ctx: RunContext, loaded: Any, indices: list[int], classes: bool = True) -> AccessMatrix:
    """`orchestrate access --observed`: each chosen state's matrix decided on the world as it is
    (the world is one; each state names which entities to read and which cells to ask)."""
    states = loaded.scenario.states
    found = [observed_state_matrix(ctx, loaded.desired[i], states[i].name, states[i].expectations, classes=classes)
             for i in indices]
    return _matrix(loaded.scenario.name, found)


def desired_matrix(ctx: RunContext, loaded: Any, indices: list[int]) -> AccessMatrix:
    """The chosen states' desired matrices on the same context as `observed_matrix`: the world is
    read first (read-only) so that references resolve to the ARNs it holds."""
    states, found = loaded.scenario.states, []
    for i in indices:
        for _ in observe_all(ctx, loaded.desired[i], observed_only=True):
            pass  # observing teaches ctx the ARNs (KmsKey.read records each key's)
        found.append(desired_state_matrix(ctx, loaded.desired[i], states[i].name, states[i].expectations))
    return _matrix(loaded.scenario.name, found)


def _matrix(scenario: str, states: list[StateMatrix]) -> AccessMatrix:
    return AccessMatrix(scenario, states, [[]] + [changes(a, b) for a, b in zip(states, states[1:])])

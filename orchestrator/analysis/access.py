"""The access matrix: for each policy state, the engine's decision for every scenario principal
(users, and sessions of every role: `role:NAME`) x every data action of the scenario language that
applies to a resource kind x every scenario resource, with the deciding layer and statements; and
between consecutive states, the cells that changed.

Columns are (resource, action) with the default request (the first seeded item's key, the key
spec's first algorithm, no encryption context, the gate's default transport), plus one column per
distinct request an expectation of the state makes beyond the defaults (an encryption context,
a source IP, a VPC endpoint, an algorithm, another item key, `offline`; for `as: role:NAME`, the session it asks
AssumeRole for: its session fields and a chaining `via: role:OTHER`): its `variant`. So every
expectation has its cell, and the matrix can be checked against the scenario's own expectations.
A role's default cells are its plain session's; in a session column, each role's cells are a
session of that role with the column's session fields (the session ARN with the column's session
name, its session policies, tags and source identity: prove/sessions.py, prove/desired_world.py);
a user's cells there, and a role's chained via itself, are requests that cannot be made
(PreparationFailed: session fields apply only to `as: role:NAME`). Whether AssumeRole itself is
allowed (the trust policy, sts:ExternalId, sts:TagSession) is not a cell: apply proves it.

Actions per kind follow `EXPECTATION_ACTIONS` (orchestrator/model/scenario.py); on keys, those
AWS accepts for the key's spec and usage (loader/key_checks.py: a Sign on an ENCRYPT_DECRYPT key is
InvalidKeyUsageException, not an access decision, and is left out). The key management actions
(KEY_MANAGEMENT_ACTIONS: who may administer the key, KMS Developer Guide "Default key policy") are
columns too, decided offline like the others (their calls are built without any AWS call: the
throwaway grant and the current policy are placeholders here), except kms:CancelKeyDeletion on a
key the state does not declare pending deletion (KMSInvalidStateException whatever the policies
say: loader/key_checks.py). `alias:NAME` is a column only where an expectation names it.
dynamodb:CreateTable is a column of `create_only` tables only (their only action: the table exists
only while that expectation runs), and not of the tables orchestrate keeps (they exist: CreateTable
answers ResourceInUseException whatever the policies say). kms:RetireGrant's column is decided per
principal: its throwaway grant names the caller (prove/key_management.py).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from orchestrator.analysis.offline import OfflineEngine, offline_context

if TYPE_CHECKING:
    from orchestrator.analysis.access_classes import Decisions
from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.inputs import StatementRef
from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.model.access import AccessMatrix, Cell, Change, Column, StateMatrix
from orchestrator.loader.key_checks import key_action_problem
from orchestrator.model.scenario import EXPECTATION_ACTIONS, ITEM_ACTIONS, SESSION_FIELDS, DesiredState, Expectation
from orchestrator.prove.calls import CallSpec, PreparationFailed
from orchestrator.prove.prediction import gate_verdict, prediction_of
from orchestrator.prove.sessions import SessionShape, shape_of

PLACEHOLDER_VALUES = {"S": "example", "N": 1, "B": "ZXhhbXBsZQ=="}
#: The request fields that make an expectation's cell a variant of its column's default request.
VARIANT_FIELDS = ("key", "item", "encryption_context", "source_ip", "secure_transport", "vpc_endpoint", "algorithm",
                  "offline", "retiring")
#: The fields that make it a session's beyond the plain one: AssumeRole's request (`via` only when
#: it chains roles; a user assuming the role gets the same session as orchestrate).
SESSION_VARIANT_FIELDS = (*SESSION_FIELDS, "via")
#: The table actions whose call names a key (calls.py: an item's, or a Query's partition value).
KEYED_ACTIONS = ITEM_ACTIONS | {"dynamodb:Query"}
OFFLINE_REASON = "no authorization: an offline check with the public key makes no AWS request"
#: AWS General Reference, "Signing AWS API requests": every service but S3 refuses an unsigned request.
UNSIGNED_REASON = "an unsigned request: only S3 takes one; every other service answers MissingAuthenticationToken"


def access_matrix(scenario: str, region: str, desired: list[DesiredState], names: list[str],
                  expectations: list[list[Expectation]], classes: bool = True) -> AccessMatrix:
    """The matrix of every state (names[i], desired[i], with state i's expectations); ``classes``:
    with the rows of the principals nobody named (analysis/access_classes.py)."""
    ctx = offline_context(scenario, desired, region)
    engine = service_engine()  # one for every state: each asks the same questions of the engine
    from orchestrator.analysis.access_classes import Decisions

    decisions = Decisions() if classes else None
    states = [state_matrix(OfflineEngine.for_state(ctx, state, engine), name, extra, decisions)
              for state, name, extra in zip(desired, names, expectations, strict=True)]
    return AccessMatrix(scenario, states, [[]] + [changes(a, b) for a, b in zip(states, states[1:])])


def state_matrix(engine: OfflineEngine, name: str, expectations: Iterable[Expectation] = (),
                 classes: Decisions | None = None) -> StateMatrix:
    """``classes``: with the rows of the principals nobody named, their decisions kept there."""
    desired = engine.desired
    expectations = list(expectations)
    matrix = StateMatrix(name, principals(desired, expectations), columns(desired, expectations))
    decide = cell_decider(engine)
    with _no_cycle_collection():
        for principal in matrix.principals:
            for column in matrix.columns:
                matrix.cells[(principal, column)] = decide(principal, column)
    if classes is not None:
        from orchestrator.analysis.access_classes import add_class_rows

        add_class_rows(matrix, engine.ctx, desired, engine.gate.world, classes)
    return matrix


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a matrix is filled: the 10^5 cells it keeps are no
    garbage, yet each full collection walks them all again (a fifth of the time at 300,000 cells).
    Reference counting still frees everything else; the collector resumes as it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def principals(desired: DesiredState, expectations: Iterable[Expectation] = ()) -> list[str]:
    """Users, sessions of roles, and `anonymous` (an unsigned request) where an expectation is."""
    found = list(desired.users) + [f"role:{name}" for name in desired.roles]
    return found + [ANONYMOUS] if any(e.principal == ANONYMOUS for e in expectations) else found


def columns(desired: DesiredState, expectations: Iterable[Expectation] = ()) -> list[Column]:
    """Every default request, then each again through every VPC endpoint of its service (the
    endpoint policy is one more layer: PrivateLink Guide, "Control access to VPC endpoints using
    endpoint policies"), then the expectations' own variants."""
    defaults = [Column(resource, action) for resource, action in default_requests(desired)]
    found = defaults + [Column(column.resource, column.action, json.dumps({"vpc_endpoint": name}))
                        for name, endpoint in sorted(desired.vpc_endpoints.items()) for column in defaults
                        if column.action.partition(":")[0] == endpoint.service]
    seen = set(found)
    for expectation in expectations:
        column = column_of(desired, expectation)
        if column not in seen:
            seen.add(column)
            found.append(column)
    return found


def default_requests(desired: DesiredState) -> Iterator[tuple[str, str]]:
    """(resource, action) for every action of the language on every resource it applies to."""
    by_kind: dict[str, list[str]] = {}
    for action, kind in EXPECTATION_ACTIONS.items():
        by_kind.setdefault(kind, []).append(action)
    for name, table in desired.tables.items():
        # a create_only table has the CreateTable column only, any other table all but that one
        # (a table orchestrate keeps exists: CreateTable on it answers ResourceInUseException)
        yield from ((f"table:{name}", action) for action in by_kind["table"]
                    if (action == "dynamodb:CreateTable") == table.create_only)
    for name, key in desired.keys.items():
        yield from ((f"key:{name}", action) for action in by_kind["key"] if key_action_problem(name, key, action) is None)
    for name in desired.roles:
        yield from ((f"role:{name}", action) for action in by_kind["role"])
    for name, bucket in desired.buckets.items():
        yield from ((f"bucket:{name}", action) for action in by_kind["bucket"])
        for seeded in bucket.objects:
            yield from ((f"object:{name}/{seeded.key}", action) for action in by_kind["object"])


def default_key(desired: DesiredState, table_name: str, action: str) -> dict[str, Any]:
    """The first seeded item's key, else a placeholder of each key attribute's type; a Query's
    is its partition key alone (calls.py queries `#pk = :pk`)."""
    table = desired.tables[table_name]
    first = table.items[0] if table.items else {}
    attributes = table.key_attributes()[:1] if action == "dynamodb:Query" else table.key_attributes()
    return {a.name: first.get(a.name, PLACEHOLDER_VALUES[a.type]) for a in attributes}


def column_of(desired: DesiredState, expectation: Expectation) -> Column:
    """The expectation's cell's column: its request's fields beyond the column's defaults."""
    fields = expectation.model_dump(include=set(VARIANT_FIELDS), exclude_none=True, exclude_defaults=True)
    if expectation.shapes_session:
        fields |= expectation.model_dump(mode="json", by_alias=True, include=set(SESSION_FIELDS), exclude_none=True)
        if expectation.chained_from is not None:
            fields["via"] = expectation.via
    kind, _, name = expectation.resource.partition(":")
    if kind != "table" or expectation.action not in KEYED_ACTIONS or (
            name in desired.tables and fields.get("key") == default_key(desired, name, expectation.action)):
        fields.pop("key", None)
    return Column(expectation.resource, expectation.action, json.dumps(fields, sort_keys=True) if fields else "")


def expectation_for(desired: DesiredState, principal: str, column: Column, session: bool = True) -> Expectation:
    """The column's request as an expectation of ``principal``; without its session fields
    unless ``session`` (the service request is the same for every session: calls.py)."""
    request = column.request()
    if not session:
        request = {name: value for name, value in request.items() if name not in SESSION_VARIANT_FIELDS}
    kind, _, name = column.resource.partition(":")
    if kind == "table" and column.action in KEYED_ACTIONS and "key" not in request and name in desired.tables:
        request["key"] = default_key(desired, name, column.action)
    return Expectation.model_validate({"as": principal, "action": column.action, "resource": column.resource,
                                       "expect": "allowed", **request})


def cell_decider(engine: OfflineEngine) -> Callable[[str, Column], Cell]:
    # Per principal and per column, what every cell of its row or column shares: a matrix
    # decides 10^5 cells, and these would otherwise be worked out again for each.
    arns = {principal: engine.principal_arn(principal) for principal in principals(engine.desired)}
    accounts = {principal: _caller_account(engine, principal) for principal in arns}
    offline: dict[Column, bool] = {}
    sessions: dict[Column, bool] = {}
    session_arns: dict[tuple[str, Column], str | PreparationFailed] = {}
    calls: dict[tuple[Column, str], CallSpec | PreparationFailed] = {}

    def session_arn(principal: str, column: Column) -> str | PreparationFailed:
        """The caller of a session column: a session of the role with the column's session fields."""
        slot = (principal, column)
        found = session_arns.get(slot)
        if found is None:
            try:
                shape: SessionShape = shape_of(engine.ctx, expectation_for(engine.desired, principal, column))
            except ValueError as error:  # session fields for a user, a role chained via itself
                found = PreparationFailed(_first_error(error))
            else:
                found = engine.principal_arn(principal, shape)
            session_arns[slot] = found
        return found

    def call(principal: str, column: Column) -> CallSpec | PreparationFailed:
        """The request, made once per column and caller account (it names the table by ARN
        across accounts), except CreateGrant's and RetireGrant's, which name their caller as the
        grantee (RetireGrant's throwaway grant, as its retiring principal too)."""
        if column.action in ("kms:CreateGrant", "kms:RetireGrant"):
            slot = (column, principal)
        else:
            slot = (column, accounts.get(principal) or _caller_account(engine, principal))
        found = calls.get(slot)
        if found is None:
            try:
                found = engine.call(expectation_for(engine.desired, principal, column, session=False))
            except PreparationFailed as error:
                found = error
            calls[slot] = found
        return found

    def decide(principal: str, column: Column) -> Cell:
        is_offline = offline.get(column)
        if is_offline is None:
            is_offline = offline[column] = bool(column.request().get("offline"))
        if is_offline:
            return Cell(principal, column, True, None, (), OFFLINE_REASON)
        if principal == ANONYMOUS and not column.action.startswith("s3:"):
            return Cell(principal, column, False, None, (), UNSIGNED_REASON, "MissingAuthenticationToken")
        has_session = sessions.get(column)
        if has_session is None:
            has_session = sessions[column] = any(name in column.request() for name in SESSION_VARIANT_FIELDS)
        caller = session_arn(principal, column) if has_session else arns.get(principal) or engine.principal_arn(principal)
        if isinstance(caller, PreparationFailed):
            return Cell(principal, column, False, None, (), str(caller), "PreparationFailed")
        spec = call(principal, column)
        if isinstance(spec, PreparationFailed):
            return Cell(principal, column, False, None, (), str(spec), "PreparationFailed")
        verdict = gate_verdict(engine.gate, caller, spec)
        prediction = prediction_of(verdict)
        return Cell(principal, column, prediction.allowed, prediction.layer, deciding_statements(verdict),
                    prediction.reason, prediction.code)

    return decide


def _first_error(error: ValueError) -> str:
    """A validation error's first message (pydantic's, without its location and links)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            return str(found[0].get("msg", error)).removeprefix("Value error, ")
    return str(error)


def _caller_account(engine: OfflineEngine, principal: str) -> str:
    if principal == ANONYMOUS:  # no account: the request is the same as the resource account's
        return engine.ctx.account
    role = principal.removeprefix("role:")
    return engine.ctx.account_id("roles", role) if principal.startswith("role:") else engine.ctx.account_id("users", principal)


def deciding_statements(verdict: Any) -> tuple[StatementRef, ...]:
    """The statements that decided: every step's allowing ones, or the denying step's."""
    if not verdict.steps:
        return ()
    decisions = [decision for _, decision in verdict.steps] if verdict.allowed else [verdict.steps[-1][1]]
    return tuple(ref for decision in decisions for ref in decision.matched)


def changes(before: StateMatrix, after: StateMatrix) -> list[Change]:
    """Cells of both states whose outcome (allowed, or the denying layer) differs."""
    found = []
    for slot, cell in after.cells.items():
        earlier = before.cells.get(slot)
        if earlier is not None and earlier.outcome != cell.outcome:
            found.append(Change(after.name, earlier, cell))
    return found

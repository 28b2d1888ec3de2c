"""The access matrix's rows for the principals nobody named (issue 24): anyone in account X (each
scenario account), anyone in the organization (when one is declared), anyone anywhere, and the
anonymous caller, each less the principals the matrix names (its users, every session of its
roles: their own rows say what they may do; orchestrate's own identity in the home account, which
the scenario's admin statements name; the anonymous row is left out when an expectation names
`anonymous`), so a closed resource reads denied there and a `Principal: "*"` opens it. Each cell
is decided over every principal of the class and every request context
by the symbolic engine (`orchestrator/whoelse/`): allowed for some (with a witness the concrete
engine allowed, its statements the cell's) or denied for all (proved); a cell the solver cannot
decide is `undecided` with the reason, never denied.

Cheap where it can be: "anyone" holds every other class, so it is asked first; proved, every class
of the column is denied for all without another question; allowed, its witness is the witness of
each class it falls in (its account, the organization, anonymous), so only the others are asked;
an anonymous caller is never allowed a non-S3 action (no question); `kms:RetireGrant` is undecided
without one. A column's variants (an endpoint, a context) share its default column's cells: the
classes are quantified over every request, the variant's included. Decisions are kept per
(question, action) for a whole matrix (`Decisions`; drift shares one between its two matrices), so
a resource whose stack is the same in two states or worlds is asked about once."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.model.access import Cell, Column, StateMatrix
from orchestrator.model.scenario import DesiredState
from orchestrator.prove.desired_world import DesiredWorld
from orchestrator.resources.context import RunContext
from orchestrator.whoelse import PROVED, VIOLATED, GuaranteeVerdict, Question, Scope, Witness, decide
from orchestrator.whoelse.identity import ALLOW_EVERYTHING
from orchestrator.whoelse.from_state import QuestionError, account_memberships, outside_question

__all__ = ["add_class_rows", "Decisions", "ANYONE", "ANONYMOUS_ANYONE", "IN_ORGANIZATION", "UNDECIDED", "ClassRow",
           "ClassRows", "class_rows", "in_account"]

ANYONE = "anyone"
ANONYMOUS_ANYONE = "anyone anonymous"
IN_ORGANIZATION = "anyone in the organization"
#: A class cell's `error` when the solver could not decide it.
UNDECIDED = "Undecided"
#: Of a class that holds the public: a cell it is allowed in reads "(public)".
PUBLIC_ROWS = frozenset({ANYONE, ANONYMOUS_ANYONE})
#: AWS General Reference, "Signing AWS API requests": every service but S3 refuses an unsigned
#: request (MissingAuthenticationToken), whatever the policies say: no question to ask.
#: Actions the symbolic engine answers unknown whatever the policies (docs/whoelse.md, "What gives
#: unknown"): not asked, their cells undecided with the reason.
NOT_ASKED = {"kms:RetireGrant": "kms:RetireGrant is decided by the grant it retires, which the engine does not quantify over"}
UNSIGNED = "denied for every anonymous caller: only S3 takes an unsigned request"


def in_account(name: str) -> str:
    return f"anyone in account:{name}"


@dataclass(frozen=True)
class ClassRow:
    name: str
    scope: Scope
    #: The accounts whose every principal is of the class (None: the class is not one of accounts).
    accounts: frozenset[str] | None = None

    def holds(self, witness: Witness) -> bool:
        if self.name == ANYONE:
            return True
        if self.name == ANONYMOUS_ANYONE:
            return witness.principal_type == "Anonymous"
        return self.accounts is not None and witness.principal_type != "Anonymous" and witness.caller_account in self.accounts


def class_rows(ctx: RunContext, desired: DesiredState, world: DesiredWorld) -> list[ClassRow]:
    """Anyone in each scenario account, in the organization, anywhere, anonymous: in that order."""
    rows = [ClassRow(in_account(name), Scope.inside_accounts([ctx.account_named(name)]),
                     frozenset({ctx.account_named(name)})) for name in ("home", *desired.accounts)]
    members = account_memberships(ctx, world, desired)
    if desired.organization is not None and members:
        rows.append(ClassRow(IN_ORGANIZATION, Scope.inside_accounts(sorted(members)), frozenset(members)))
    return rows + [ClassRow(ANYONE, Scope()), ClassRow(ANONYMOUS_ANYONE, Scope.anonymous())]


Decided = dict[str, tuple[GuaranteeVerdict, str]]


@dataclass
class Decisions:
    """The class decisions of a whole matrix, by (question, action): states whose stack for a
    resource is the same (most resources, most states) ask the solver once."""

    found: dict[tuple[str, str], Decided] = field(default_factory=dict)


@dataclass
class ClassRows:
    """The class rows of one state's matrix, decided on ``world`` (desired or observed)."""

    ctx: RunContext
    desired: DesiredState
    world: DesiredWorld
    decisions: Decisions = field(default_factory=Decisions)
    rows: list[ClassRow] = field(default_factory=list)
    #: The ARNs of the named rows (users; roles: every session of each).
    named: frozenset[str] = frozenset()
    _questions: dict[str, Question | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rows = class_rows(self.ctx, self.desired, self.world)

    @property
    def names(self) -> list[str]:
        return [row.name for row in self.rows]

    def cells(self, column: Column) -> list[Cell]:
        """One cell per class row on ``column`` (its default request's decisions)."""
        decided = self._column(column.resource, column.action)
        return [_cell(row.name, column, *decided[row.name]) for row in self.rows]

    def _column(self, resource: str, action: str) -> Decided:
        question = self._question(resource)
        if question is None:
            unknown = GuaranteeVerdict("unknown", reason=f"{resource}: absent from this world, or of a kind the"
                                                         " symbolic engine does not ask about (an alias)")
            return {row.name: (unknown, "") for row in self.rows}
        key = (repr((question, self.rows, sorted(self.named))), action)
        if key not in self.decisions.found:
            self.decisions.found[key] = self._decided(question, action)
        return self.decisions.found[key]

    def _decided(self, question: Question, action: str) -> Decided:
        """"anyone" first: proved, every class is; allowed, its witness answers each class it is of."""
        if action in NOT_ASKED:
            return {row.name: (GuaranteeVerdict("unknown", reason=NOT_ASKED[action]), "") for row in self.rows}
        anyone = decide(replace(question, scope=self._scope(Scope()), actions=(action,)))
        found = {}
        for row in self.rows:
            if anyone.status == PROVED or row.name == ANYONE:
                found[row.name] = (anyone, "denied for every principal nobody named (proved)")
            elif anyone.witness is not None and row.holds(anyone.witness):
                found[row.name] = (anyone, "")
            elif row.name == ANONYMOUS_ANYONE and not action.startswith("s3:"):
                found[row.name] = (GuaranteeVerdict(PROVED), UNSIGNED)
            else:
                found[row.name] = (decide(replace(question, scope=self._scope(row.scope), actions=(action,))), "")
        return found

    def _scope(self, scope: Scope) -> Scope:
        """The class, less the principals the matrix names (their own rows say what they may do)."""
        return replace(scope, excluding=self.named)

    def _question(self, resource: str) -> Question | None:
        if resource not in self._questions:
            try:
                self._questions[resource] = outside_question(self.ctx, self.desired, resource, (), Scope(), world=self.world)
            except QuestionError:
                self._questions[resource] = None
        return self._questions[resource]


def _cell(row: str, column: Column, verdict: GuaranteeVerdict, proved_words: str) -> Cell:
    if verdict.status == VIOLATED and verdict.witness is not None:
        witness = verdict.witness
        statements = tuple(ref for ref in witness.statements if ref.policy_name != ALLOW_EVERYTHING.name)
        return Cell(row, column, True, None, statements,
                    f"allowed for some: {witness.caller_arn} (account {witness.caller_account or 'none'}),"
                    f" re-decided allowed by the concrete engine", public=row in PUBLIC_ROWS)
    if verdict.status == PROVED:
        return Cell(row, column, False, None, (), proved_words or "denied for every principal of the class (proved)")
    return Cell(row, column, False, None, (), f"undecided: {verdict.reason}", UNDECIDED)


def add_class_rows(matrix: StateMatrix, ctx: RunContext, desired: DesiredState, world: DesiredWorld,
                   decisions: Decisions | None = None) -> None:
    """The class rows below the named ones, a cell on every column (a variant shares its default's)."""
    named = frozenset(ctx.arn(p if p.startswith("role:") else f"user:{p}") for p in matrix.principals if p != ANONYMOUS)
    named |= frozenset(ctx.orchestrate_arns())  # the operator: the scenario's admin statements name it
    rows = ClassRows(ctx, desired, world, decisions if decisions is not None else Decisions(), named=named)
    if ANONYMOUS in matrix.principals:  # the named row says it, request by request
        rows.rows = [row for row in rows.rows if row.name != ANONYMOUS_ANYONE]
    matrix.classes = [name for name in rows.names if name not in matrix.principals]
    matrix.principals += matrix.classes
    for column in list(matrix.columns):
        for cell in rows.cells(column):
            matrix.cells[(cell.principal, column)] = replace(cell, column=column)

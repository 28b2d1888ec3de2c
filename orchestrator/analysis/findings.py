"""External-access findings: per policy state and resource, each class of principal outside the
resource's account (outside its organization, when one is declared; the public) that can do an
action of the language on it, decided over every principal by the symbolic engine
(`orchestrator/whoelse/`), each with a witness the concrete engine allows; and between consecutive
states, the access the later one grants that the earlier did not (Access Analyzer's
`CheckNoNewAccess`, over the whole stack of the state, not one policy document).

In the spirit of IAM Access Analyzer's external-access findings (IAM User Guide, "Review findings",
"Resources that can be shared outside your zone of trust"): a finding is a (resource, principal
class, action) that some request in that class is allowed; a cell the solver cannot decide is kept
as undecided with its reason (never reported as closed). Pure: no report shapes here (report/).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from orchestrator.model.scenario import EXPECTATION_ACTIONS
from orchestrator.whoelse import PROVED, VIOLATED, GuaranteeVerdict, Question, Scope, Witness, decide
from orchestrator.whoelse.accounts import known_accounts

__all__ = ["OUTSIDE_ACCOUNT", "OUTSIDE_ORGANIZATION", "PUBLIC", "CLASSES", "Target", "PrincipalClass", "Finding",
           "StateFindings", "FindingsReport", "actions_of", "classes_of", "state_findings", "new_access",
           "findings_report"]

OUTSIDE_ACCOUNT, OUTSIDE_ORGANIZATION, PUBLIC = "outside-account", "outside-organization", "public"
#: Every class, widest last: a public finding is the most severe.
CLASSES = (OUTSIDE_ACCOUNT, OUTSIDE_ORGANIZATION, PUBLIC)

#: The language's resource kinds per scenario resource kind (a bucket answers for its objects).
_KINDS = {"key": ("key",), "table": ("table",), "bucket": ("bucket", "object"), "role": ("role",)}
#: Left out: decided by the grant it retires, not by the key's policies (whoelse gives unknown:
#: docs/whoelse.md "What gives unknown"); CreateTable is a create-only table's, not a kept one's.
_NOT_ASKED = frozenset({"kms:RetireGrant", "dynamodb:CreateTable"})


def actions_of(kind: str) -> tuple[str, ...]:
    """Each action of the language on a resource kind (`EXPECTATION_ACTIONS`), in its order."""
    kinds = _KINDS.get(kind, (kind,))
    return tuple(action for action, on in EXPECTATION_ACTIONS.items() if on in kinds and action not in _NOT_ASKED)


@dataclass(frozen=True)
class Target:
    """One resource of one state, as the symbolic engine takes it: ``question`` holds its policy
    stack (its scope and actions are replaced per class and action)."""

    state: int
    resource: str  # kind:name, as the scenario names it
    kind: str
    question: Question
    actions: tuple[str, ...] = ()
    #: The ARN an action is asked on when it is not ``question.resource`` (a bucket's object actions
    #: on an object of it).
    resource_of: Mapping[str, str] = field(default_factory=dict)

    def asked(self) -> tuple[str, ...]:
        return self.actions or actions_of(self.kind)

    def question_for(self, scope: Scope, action: str) -> Question:
        resource = self.resource_of.get(action, self.question.resource)
        return replace(self.question, resource=resource, scope=scope, actions=(action,))


@dataclass(frozen=True)
class PrincipalClass:
    """A class of principals not named: who it is (`name`: one of CLASSES) and its scope."""

    name: str
    label: str  # "anyone outside account 111111111111"
    scope: Scope


def classes_of(question: Question) -> list[PrincipalClass]:
    """Outside the resource's account, outside its organization when it is in one, and the public."""
    found = []
    if question.resource_account:
        found.append(PrincipalClass(OUTSIDE_ACCOUNT, f"anyone outside account {question.resource_account}",
                                    Scope.outside_account(question.resource_account)))
    if question.resource_org is not None:
        org = question.resource_org.org_id
        found.append(PrincipalClass(OUTSIDE_ORGANIZATION, f"anyone outside organization {org}",
                                    Scope.outside_organization(org)))
    found.append(PrincipalClass(PUBLIC, "anyone (public: anonymous, or of an account the scenario names nowhere)",
                                Scope.the_public()))
    return found


@dataclass(frozen=True)
class Finding:
    """Some principal of ``principal_class`` can do ``action`` on ``resource`` (status violated,
    with the witness the concrete engine allowed), or the solver could not tell (unknown, reason)."""

    state: int
    resource: str
    principal_class: str
    label: str
    action: str
    status: str
    witness: Witness | None = None
    reason: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.resource, self.principal_class, self.action


@dataclass(frozen=True)
class StateFindings:
    state: int
    name: str
    findings: tuple[Finding, ...]
    #: Resources looked at (a resource with no finding is closed to every class).
    resources: tuple[str, ...]


@dataclass(frozen=True)
class FindingsReport:
    scenario: str
    file: str
    states: tuple[StateFindings, ...]
    #: Per later state: the findings it has that the state before it did not.
    new: tuple[Finding, ...]

    @property
    def open(self) -> bool:
        """Whether anything is reachable from outside, or undecided (the command's exit 1)."""
        return any(state.findings for state in self.states)


#: The callers `Scope.the_public` counts as strangers when their account is named nowhere.
_IAM_TYPES = frozenset({"User", "AssumedRole", "Account"})

Decider = Callable[[Question], GuaranteeVerdict]


def target_findings(target: Target, ask: Decider = decide) -> list[Finding]:
    """Every (class, action) of one resource that is open or undecided. The classes are nested,
    widest first (the public, anonymous callers and strangers, is outside the organization, which is
    outside the resource's account: `whoelse/scope.py` in_scope), so a class proved closed closes
    the narrower ones without asking (a closed resource costs one question per action), and a
    witness that is itself in a narrower class is that class's witness too."""
    found = []
    for action in target.asked():
        witness: Witness | None = None
        for principal_class in classes_of(target.question):
            if witness is not None and _in_class(target.question, principal_class, witness):
                verdict = GuaranteeVerdict(VIOLATED, witness)
            else:
                verdict = ask(target.question_for(principal_class.scope, action))
            if verdict.status == PROVED:
                break
            witness = verdict.witness
            found.append(Finding(target.state, target.resource, principal_class.name, principal_class.label,
                                 action, verdict.status, verdict.witness, verdict.reason))
    order = {name: n for n, name in enumerate(CLASSES)}
    return sorted(found, key=lambda finding: order[finding.principal_class])


def _in_class(question: Question, principal_class: PrincipalClass, witness: Witness) -> bool:
    """Whether the witness's caller is of the class (as `whoelse/scope.py` in_scope reads it)."""
    if principal_class.name == PUBLIC:
        return witness.principal_type == "Anonymous" or (
            witness.principal_type in _IAM_TYPES and witness.caller_account not in known_accounts(question))
    members = {account for account, membership in question.organizations.items()
               if membership.org_id in principal_class.scope.outside_organizations}
    return witness.caller_account not in members | principal_class.scope.outside_accounts


def state_findings(state: int, name: str, targets: Iterable[Target], ask: Decider = decide) -> StateFindings:
    targets = list(targets)
    findings = [finding for target in targets for finding in target_findings(target, ask)]
    return StateFindings(state, name, tuple(findings), tuple(target.resource for target in targets))


def new_access(before: StateFindings, after: StateFindings) -> list[Finding]:
    """The findings of ``after`` whose (resource, class, action) is not open in ``before`` (an
    undecided cell before is not taken as closed: only a violation new in ``after`` is new)."""
    was = {finding.key for finding in before.findings}
    return [finding for finding in after.findings if finding.status == VIOLATED and finding.key not in was]


def findings_report(scenario: str, file: str, states: Sequence[StateFindings],
                    earlier: StateFindings | None = None) -> FindingsReport:
    """``states``: consecutive states of the scenario, in order; ``earlier``: the state before the
    first of them, whose findings are not reported but against which the first one's new access is."""
    chain = [earlier, *states] if earlier is not None else list(states)
    new = [finding for before, after in zip(chain, chain[1:]) for finding in new_access(before, after)]
    return FindingsReport(scenario, file, tuple(states), tuple(new))

"""What both formats share: the state to export, its notes, its expectations, the key guard.

Ownership: every resource the formats can tag carries orchestrate's tags (`orchestrate:scenario`,
`orchestrate:run` = `default`, `orchestrate:name`; resources/context.py), IAM groups and managed
policies live under `/orchestrate/SCENARIO/`, and names are the scenario's: the deployed template
is what `orchestrate apply` would have made, so orchestrate's `drift` and `apply` adopt it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator import arns
from orchestrator.export.notes import Note, other_account
from orchestrator.loader import LoadedScenario
from orchestrator.model.names import scenario_path
from orchestrator.model.scenario import DesiredState, Expectation, Guarantee
from orchestrator.resources.context import DEFAULT_RUN, ENTITY_SECTIONS, TAG_NAME, TAG_RUN, TAG_SCENARIO
from orchestrator.resources.lockout import management_statement

FORMATS = ("cloudformation", "terraform")


@dataclass
class Export:
    """A template's text and what it leaves out."""

    text: str
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """The state being exported: its scenario name, region and desired resources."""

    scenario: str
    state: str
    region: str
    desired: DesiredState
    expectations: tuple[Expectation, ...]
    #: The home account's id when the scenario declares one (`account`): a template writes the
    #: deploying account's own instead.
    account: str | None = None
    #: The state's guarantees, listed in the comment block as expectations are.
    guarantees: tuple[Guarantee, ...] = ()

    def home(self, section: str, name: str) -> bool:
        return self.desired.account_of(section, name) is None

    def names(self, section: str) -> list[str]:
        """The entities of a section that live in the home account, sorted (no create_only table:
        not a resource of the state, see common_notes)."""
        return sorted(n for n, entity in getattr(self.desired, section).items()
                      if (section not in ENTITY_SECTIONS or self.home(section, n)) and not getattr(entity, "create_only", False))

    def ownership_tags(self, name: str, tags: dict[str, str]) -> dict[str, str]:
        return {**tags, TAG_SCENARIO: self.scenario, TAG_RUN: DEFAULT_RUN, TAG_NAME: name}

    def iam_path(self) -> str:
        return scenario_path(self.scenario)

    def guarded(self, name: str) -> bool:
        return self.desired.keys[name].lockout == "guard"


def source(loaded: LoadedScenario, index: int) -> Source:
    state = loaded.scenario.states[index]
    return Source(loaded.scenario.name, state.name, loaded.scenario.region, loaded.desired[index],
                  tuple(state.expectations), loaded.scenario.account, tuple(state.guarantees))


def guard_statement(manager: Any) -> dict[str, Any]:
    """orchestrate's `OrchestrateKeyManagement` statement (resources/lockout.py) for the key's
    manager, a template parameter: the key stays manageable by whoever deploys it (KMS Developer
    Guide, "Default key policy": the lockout safety check), with exactly the actions orchestrate
    needs, and nobody else gains anything (the parameter refuses an account root, which would
    delegate to every IAM principal of the account)."""
    statement = management_statement(PLACEHOLDER)  # orchestrate's own statement, whatever it holds
    return {**statement, "Principal": {"AWS": manager}}


#: A user ARN (never a root, so no account condition) whose place the manager parameter takes.
PLACEHOLDER = arns.user_arn("000000000000", "key-manager")
#: The manager parameter's pattern: an IAM user or role ARN, never an account root.
MANAGER_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(user|role)/.+$"
MANAGER_HELP = ("the IAM user or role ARN that deploys and manages the keys (orchestrate's identity to keep them"
                " adoptable); key policies grant it exactly orchestrate's key management actions")


def common_notes(src: Source) -> list[Note]:
    """What neither format can say: entities of other accounts, a key pending deletion, a
    create_only table (its dynamodb:CreateTable expectation's principal creates it)."""
    notes: list[Note] = []
    for name, table in sorted(src.desired.tables.items()):
        if table.create_only:
            notes.append(Note(f"dynamodb_table.{name}", "", "create_only: not a resource of the state; the principal of"
                              " its dynamodb:CreateTable expectation creates it and orchestrate deletes it right after"))
    for section in ENTITY_SECTIONS:
        for name in sorted(getattr(src.desired, section)):
            account = src.desired.account_of(section, name)
            if account is not None:
                notes += other_account(section, name, account, src.desired.accounts[account])
    for name in sorted(src.desired.account_public_access_block):
        if name != "home":  # another account's own setting
            notes += other_account("account_public_access_block", name, name, src.desired.accounts[name])
    for name in src.names("keys"):
        if src.desired.keys[name].pending_deletion:
            notes.append(Note(f"kms_key.{name}", "pending_deletion",
                              "a key pending deletion cannot be declared (ScheduleKeyDeletion is an action, not a"
                              " property); the key is exported disabled"))
    return notes


def guarantee_lines(src: Source) -> list[str]:
    return [g.words() + (" (shown violated)" if g.expect == "violated" else "") for g in src.guarantees]


def expectation_lines(src: Source) -> list[str]:
    lines = []
    for e in src.expectations:
        extra = f" (layer {e.layer})" if e.layer else ""
        lines.append(f"as {e.principal}: {e.action} on {e.resource} is {e.expect}{extra}")
    return lines

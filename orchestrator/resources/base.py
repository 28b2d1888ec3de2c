"""The one small protocol every resource kind implements.

A reconciler turns a scenario entity into normalised desired properties, reads the normalised
observed properties, and creates, updates or deletes; it declares the IAM permissions it needs
(a test walks the registry, as Cloud Custodian's does).

Two members are optional: `reference` names the scenario reference kind whose ARN is known only
once the resource exists (`key`), and `claim(ctx, name)` writes ownership marks under --adopt.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from orchestrator.constants import TAG_PREFIX
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.context import RunContext


@dataclass(frozen=True)
class Observed:
    properties: dict[str, Any]
    owned: bool
    physical_id: str
    #: Owned only because of --adopt: apply writes the ownership marks (`claim`).
    adopted: bool = False


class Reconciler(Protocol):
    kind: ClassVar[str]
    section: ClassVar[str]
    permissions: ClassVar[tuple[str, ...]]
    replace_on: ClassVar[frozenset[str]]
    #: Properties that are sent but cannot be read back (a key's deletion window); never diffed.
    write_only: ClassVar[frozenset[str]]

    def names(self, desired: DesiredState) -> list[str]: ...

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]: ...

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None) -> Observed | None: ...

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None: ...

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None: ...

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None: ...


class Refusal(str):
    """A reason a reconciler's `conflicts` gives that ownership does not settle (--adopt cannot
    help): what it may not change on this backend (an organization on real AWS), or a name held by
    something it cannot take over."""


def error_code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def tag_dict(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {tag[key]: tag[value] for tag in tags or []}


def tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def retag(before: dict[str, str], after: dict[str, str],
          untag: Callable[[list[str]], object], tag: Callable[[dict[str, str]], object]) -> None:
    """Remove the tags no longer declared, then set new and changed ones; no call when nothing differs."""
    removed = sorted(set(before) - set(after))
    if removed:
        untag(removed)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        tag(changed)


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """Tags the scenario declared: ours (orchestrate:*) are ownership marks, not properties."""
    return {k: v for k, v in tags.items() if not k.startswith(TAG_PREFIX)}

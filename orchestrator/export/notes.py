"""What an exported template leaves out, named so a reader (and the round-trip test) knows.

Each note names the drift address it concerns (`dynamodb_table.orders`, CloudFormation drift's
resource vocabulary as orchestrate's `drift` prints it) and, when only part of the resource is
left out, the property path (`items`); an empty path means the whole resource.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    address: str
    path: str
    reason: str

    def covers(self, address: str, path: str) -> bool:
        """Whether a drift difference at `address`/`path` is what this note says is left out."""
        if address != self.address:
            return False
        return not self.path or path == self.path or path.startswith(f"{self.path}.") or path.startswith(f"{self.path}[")

    def line(self) -> str:
        where = f"{self.address}.{self.path}" if self.path else self.address
        return f"{where}: {self.reason}"


#: Drift addresses of every entity of a section (its reconcilers' kinds, see resources/__init__.py).
SECTION_ADDRESSES: dict[str, tuple[str, ...]] = {
    "users": ("iam_user", "iam_user_access"),
    "roles": ("iam_role", "iam_role_access"),
    "keys": ("kms_key", "kms_grant"),
    "tables": ("dynamodb_table",),
    "buckets": ("s3_bucket", "s3_objects"),
    "account_public_access_block": ("s3_account_public_access_block",),
}


def other_account(section: str, name: str, account: str, account_id: str) -> list[Note]:
    """A template deploys into one account (CloudFormation User Guide, "Working with stacks";
    Terraform: one provider configuration per account): entities of the scenario's other
    accounts are left out, and references to them are their ARNs in that declared account."""
    reason = (f"lives in the scenario's account {account!r} ({account_id}); a template deploys into one"
              " account, so it is not in this one (export it from a scenario of that account)")
    return [Note(f"{kind}.{name}", "", reason) for kind in SECTION_ADDRESSES[section]]


def render_comment(notes: list[Note], expectations: list[str], prefix: str = "# ", guarantees: list[str] | None = None) -> str:
    """The comment block at the top of a template: what is left out, then the expectations and
    the guarantees (they are not infrastructure: orchestrate proves them, a template cannot)."""
    lines = ["Left out (the format or a single-account template cannot say it):"]
    lines += [f"  - {note.line()}" for note in notes] or ["  (nothing)"]
    lines += ["", "Expectations of this state (proved by `orchestrate apply`, not resources):"]
    lines += [f"  - {text}" for text in expectations] or ["  (none)"]
    if guarantees:
        lines += ["", "Guarantees of this state (decided by `orchestrate apply` over every principal, not resources):"]
        lines += [f"  - {text}" for text in guarantees]
    return "".join(f"{prefix}{line}".rstrip() + "\n" for line in lines)

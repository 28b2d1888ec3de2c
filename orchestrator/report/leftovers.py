"""What a stopped command left unfinished, in words, with the command that cleans it up.

A cancelled CI job (SIGINT, then SIGTERM: GitHub Actions docs, "Workflow cancellation reference")
leaves its log as the only account of the world it was changing: the words name that world and
give the exact `orchestrate destroy` that selects the same world and run (the target options and
`--run-id`), as Terraform names the state it could not unlock and `terraform force-unlock ID`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Where:
    """The options that select a world and a run: what `destroy` needs to find the same resources."""

    target: str = "embedded"
    endpoint_url: str | None = None
    profile: str | None = None
    profiles_for: tuple[tuple[str, str], ...] = ()
    region: str | None = None
    account: str | None = None
    run_id: str | None = None

    def options(self) -> list[str]:
        """The command-line options, in the order `orchestrate destroy --help` lists them."""
        chosen = [("--target", "aws" if self.target == "aws" else None), ("--endpoint-url", self.endpoint_url),
                  ("--profile", self.profile), *(("--profile-for", f"{name}={profile}") for name, profile in self.profiles_for),
                  ("--region", self.region), ("--account", self.account), ("--run-id", self.run_id)]
        return [word for option, value in chosen if value for word in (option, value)]


def destroy_command(file: str, where: Where) -> str:
    """`orchestrate destroy FILE [options]`, quoted for a POSIX shell."""
    return shlex.join(["orchestrate", "destroy", str(file), *where.options()])


@dataclass(frozen=True)
class Leftover:
    """What one stopped command (or matrix scenario) left in its world."""

    command: str  # apply, run, destroy, plan, drift, access, matrix
    file: str
    world: str | None  # None: the embedded backend's, which ends with the process
    changed: bool  # a mutating call was made (counted when attempted, so a "yes" may be a "maybe")
    where: Where
    cleaned: bool = False  # the command's own destroy (run's, a matrix worker's) finished

    def words(self) -> str:
        if self.world is None:
            return "nothing was left: the embedded backend's world ended with the process"
        if not self.changed:
            return f"nothing was left: it had made no change on {self.world}"
        if self.cleaned:
            return f"nothing was left: its destroy removed what it made on {self.world}"
        cleanup = destroy_command(self.file, self.where)
        if self.command == "destroy":
            return f"destroy stopped part-way on {self.world}: what it had not deleted is still there; to finish: {cleanup}"
        if self.command == "apply":
            return (f"apply stopped part-way on {self.world}: what it made is still there"
                    f" (apply again to finish the walk); to remove it: {cleanup}")
        if self.command in ("run", "matrix"):
            return (f"{self.command} stopped part-way on {self.world} before its destroy finished: what it made"
                    f" may still be there; to remove it: {cleanup}")
        return f"{self.command} stopped after changing {self.world}; to remove what the scenario made there: {cleanup}"

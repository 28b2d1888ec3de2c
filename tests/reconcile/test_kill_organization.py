"""Kills at each Organizations call of an apply against `orchestrate serve` (issue 23), as
test_kill_at_every_call.py kills at every mutating call of the seed scenario.

The scenario (tests/resources/data/org-scp.yaml) makes an organization, enables SCPs and RCPs,
makes two units, invites two accounts and moves one, creates an SCP and attaches it (state
guarded), then detaches it (state unguarded). For each of those calls an apply is sent SIGKILL
just before the call is sent, and another just before the call after it (the call answered,
orchestrate none the wiser: what SIGKILL in flight leaves). SIGKILL runs nothing, so what the
world holds is exactly what the calls before made; SIGTERM's cleanup (access keys) does not touch
the organization, so it would leave the same.

After each kill: an apply exits 0; the last state applied again changes nothing (no mutating
call); `plan` says no changes; destroy exits 0 and leaves no organization, so no policy or unit
tagged as orchestrate's. One exception, inherent: CreateOrganization takes no tags, so a kill
between it and the root's TagResource leaves an organization whose root is untagged, which every
later run takes for one orchestrate did not make (organization.py, "Ownership"): destroy leaves it
(nothing of it tagged as orchestrate's) rather than delete an organization that may not be its own.

One `orchestrate serve` and one fork server (kill_driver.py) for the whole series; the world is
reset between rounds. Dealt into SHARDS test cases for pytest-xdist.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kill_driver import on_mutating_calls
from orchestrator.constants import TAG_PREFIX
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state
from orchestrator.session import BackendChoice, backend_session
from serve_support import Forks, World, client, fork_server, orchestrate, reset, served

SCENARIO = str(Path(__file__).resolve().parents[1] / "resources" / "data" / "org-scp.yaml")
ORGANIZATIONS = "organizations:"
#: Every Organizations call a clean apply of the scenario makes (the series must meet each).
EXPECTED = {"CreateOrganization", "TagResource", "EnablePolicyType", "CreateOrganizationalUnit",
            "InviteAccountToOrganization", "MoveAccount", "CreatePolicy", "AttachPolicy", "DetachPolicy"}
SHARDS = 2
CHILD_SECONDS = 60
BUDGET_SECONDS = 600


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with served(tmp_path_factory.mktemp("serve") / "stderr.log") as world:
        yield world


@pytest.fixture(scope="module")
def forks(endpoint: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forks]:
    with fork_server(endpoint, tmp_path_factory.mktemp("killed"), CHILD_SECONDS, SCENARIO) as server:
        yield server


@pytest.fixture(scope="module")
def organizations(endpoint: World) -> Any:
    return client(endpoint.url, "organizations")


@pytest.fixture(scope="module")
def calls(endpoint: World) -> list[str]:
    """The clean apply's mutating calls, in order; the world is reset around it."""
    reset(endpoint)
    made: list[str] = []
    undo = on_mutating_calls(lambda n, call: made.append(call))
    try:
        code, output = orchestrate(endpoint, "apply", scenario=SCENARIO)
    finally:
        undo()
    assert code == 0, output[-2000:]
    reset(endpoint)
    return made


def kill_points(calls: list[str]) -> list[int]:
    """Each Organizations call k (1-based): before it, and before the call after it."""
    points = {n for k, call in enumerate(calls, 1) if call.startswith(ORGANIZATIONS) for n in (k, k + 1)}
    return sorted(n for n in points if n <= len(calls))


def reapplied_calls(world: World) -> list[tuple[str, str]]:
    """The mutating calls of the last state applied again, in this process."""
    loaded = load_scenario(SCENARIO)
    with backend_session(loaded, BackendChoice(endpoint_url=world.url)) as ctx:
        ctx.backend.log.clear()
        apply_state(ctx, loaded.desired[-1], loaded.scenario.states[-1].name)
        return [(service, operation) for service, operation, _ in ctx.backend.log.mutating()]


def tagged_parts(organizations: Any) -> list[str]:
    """The policies and units of the organization (if any) that carry orchestrate's tags."""
    try:
        root = organizations.list_roots()["Roots"][0]["Id"]
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        return []
    found = [f"policy {p['Name']}" for kind in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
             for p in organizations.list_policies(Filter=kind)["Policies"] if not p["AwsManaged"] and _ours(organizations, p["Id"])]
    parents = [root]
    while parents:
        for unit in organizations.list_organizational_units_for_parent(ParentId=parents.pop())["OrganizationalUnits"]:
            parents.append(unit["Id"])
            found += [f"unit {unit['Name']}"] if _ours(organizations, unit["Id"]) else []
    return found


def _ours(organizations: Any, resource: str) -> bool:
    return any(tag["Key"].startswith(TAG_PREFIX) for tag in organizations.list_tags_for_resource(ResourceId=resource)["Tags"])


def organization_left(organizations: Any) -> bool:
    try:
        organizations.describe_organization()
    except organizations.exceptions.AWSOrganizationsNotInUseException:
        return False
    return True


def kill_round(world: World, forks: Forks, organizations: Any, calls: list[str], k: int) -> None:
    code, log = forks.apply_killed_at(k, signal.SIGKILL, "before", CHILD_SECONDS)
    assert code == -signal.SIGKILL and f"killed before {k} {calls[k - 1]}\n" in log, log[-2000:]
    code, output = orchestrate(world, "apply", scenario=SCENARIO)
    assert code == 0, f"the apply after the kill: {output[-2000:]}"
    assert reapplied_calls(world) == [], "the last state applied again changes something"
    code, output = orchestrate(world, "plan", scenario=SCENARIO)
    assert code == 0, f"plan after the converging apply: {output[-2000:]}"
    code, output = orchestrate(world, "destroy", scenario=SCENARIO)
    assert code == 0, f"destroy: {output[-2000:]}"
    assert tagged_parts(organizations) == [], "destroy left orchestrate's policies or units"
    untagged_root = calls[k - 1] == "organizations:TagResource"  # killed between CreateOrganization and it
    assert organization_left(organizations) is untagged_root, "an organization orchestrate made is left, or one deleted"


def test_the_series_meets_every_organizations_call(calls: list[str]) -> None:
    made = {call.removeprefix(ORGANIZATIONS) for call in calls if call.startswith(ORGANIZATIONS)}
    assert made == EXPECTED, made


@pytest.mark.parametrize("shard", range(SHARDS), ids=lambda n: f"shard{n + 1}of{SHARDS}")
def test_a_kill_at_each_organizations_call_converges_and_destroys_everything(
        shard: int, endpoint: World, forks: Forks, organizations: Any, calls: list[str]) -> None:
    started = time.monotonic()
    failures, rounds = [], 0
    reset(endpoint)
    for k in kill_points(calls)[shard::SHARDS]:
        assert time.monotonic() - started < BUDGET_SECONDS, f"k={k}: over the time bound"
        try:
            kill_round(endpoint, forks, organizations, calls, k)
        except AssertionError as error:  # every round is still run: all the failing calls at once
            failures.append(f"k={k} (before {calls[k - 1]}): {error}")
        finally:
            reset(endpoint)
        rounds += 1
    print(f"{rounds} rounds in {time.monotonic() - started:.1f}s")
    assert failures == [], "\n".join(failures)
    assert rounds > 0, "an empty shard"

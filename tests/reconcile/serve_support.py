"""Helpers shared by the tests that interrupt applies against `orchestrate serve`
(tests/reconcile/test_kills.py, test_kill_at_every_call.py): the served world, the third-party
view of it (keys, marks, leftovers), in-process commands, moto's reset."""

from __future__ import annotations

import contextlib
import io
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from orchestrator.backends.serve import spawned
from orchestrator.cli import main
from orchestrator.prove.principals import PrincipalKeys
from orchestrator.resources.access_keys import PENDING_TAG, key_marks

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
USERS = ("admin", "tester")
CLI = [sys.executable, "-m", "orchestrator.cli"]


@dataclass(frozen=True)
class World:
    """The endpoint, and clients that observe it as a third party (made once: they are slow to make)."""

    url: str
    iam: Any
    kms: Any
    dynamodb: Any


@contextlib.contextmanager
def served(log: Path, args: tuple[str, ...] = ()) -> Iterator[World]:
    """`orchestrate serve` on a free loopback port, stopped afterwards whatever happened."""
    with log.open("w") as stderr, spawned(stderr, *args) as url:
        yield World(url, client(url, "iam"), client(url, "kms"), client(url, "dynamodb"))


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIAKILLTESTOBSERVER", aws_secret_access_key="observer")


def keys_and_marks(iam: Any) -> tuple[list[str], list[str]]:
    """Every access key on the scenario's users, and every orchestrate mark (key or pending)."""
    keys: list[str] = []
    marks: list[str] = []
    for user in USERS:
        try:
            keys += [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
            tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"]}
        except iam.exceptions.NoSuchEntityException:
            continue
        marks += list(key_marks(tags)) + [PENDING_TAG for key in tags if key == PENDING_TAG]
    return keys, marks


def foreign_keys(iam: Any, session: str) -> list[str]:
    """Keys on the scenario's users that the run of `session` did not make."""
    foreign = []
    for user in USERS:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"]}
        marks = key_marks(tags)
        keys = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]]
        foreign += [key for key in keys if key not in marks or marks[key].session != session]
    return foreign


def check_own_keys_only(world: World, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """In this process, each key made is checked: the users hold no key but this run's.
    Returns a list that grows by one for every key made."""
    made: list[int] = []
    real = PrincipalKeys._make

    def checked(self: PrincipalKeys, user: str) -> Any:
        credentials = real(self, user)
        foreign = foreign_keys(world.iam, self.mark.session)
        assert foreign == [], f"{len(foreign)} key(s) of other runs beside this run's"
        made.append(1)
        return credentials

    monkeypatch.setattr(PrincipalKeys, "_make", checked)
    return made


def leftovers(world: World) -> list[str]:
    """Anything the scenario made that is still live (a key pending deletion is gone, as AWS has it)."""
    found = [f"table {t}" for t in world.dynamodb.list_tables()["TableNames"]]
    found += [f"user {u['UserName']}" for u in world.iam.list_users()["Users"]]
    kms = world.kms
    for key in kms.list_keys()["Keys"]:
        state = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"]
        found += [] if state == "PendingDeletion" else [f"key {key['KeyId']} {state}"]
    found += [f"alias {a['AliasName']}" for a in kms.list_aliases()["Aliases"] if not a["AliasName"].startswith("alias/aws/")]
    return found


def orchestrate(world: World, *args: str) -> tuple[int, str]:
    """A command in this process (no interpreter start-up): exit code and everything it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([*args, SEED, "--endpoint-url", world.url, "--no-color"])
    return code, out.getvalue()


def reset(world: World) -> None:
    """moto's reset, so that keys pending deletion from earlier rounds do not slow later ones."""
    urllib.request.urlopen(urllib.request.Request(f"{world.url}/moto-api/reset", method="POST"), timeout=10).read()


def follow_up(world: World) -> None:
    """After an interrupted apply: an apply that exits 0 and leaves no key and no mark (its own
    keys are deleted at its end, the interrupted run's at its start); a destroy that leaves nothing."""
    code, output = orchestrate(world, "apply")
    assert code == 0, output[-2000:]
    keys, marks = keys_and_marks(world.iam)
    assert (keys, marks) == ([], []), f"after the follow-up apply: keys {len(keys)}, marks {marks}"
    code, output = orchestrate(world, "destroy")
    assert code == 0, output[-2000:]
    assert leftovers(world) == []

"""Helpers shared by the tests that interrupt applies against `orchestrate serve`
(tests/reconcile/test_kills.py, test_kill_at_every_call.py): the served world, the third-party
view of it (keys, marks, leftovers), in-process commands, moto's reset, and the client of the
fork server (kill_driver.py) that starts the applies to interrupt."""

from __future__ import annotations

import contextlib
import io
import os
import select
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
import pytest

from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.backends.serve import spawned
from orchestrator.cli import main
from orchestrator.prove.principals import PrincipalKeys
from orchestrator.resources.access_keys import PENDING_TAG, key_marks

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
USERS = ("admin", "tester")
CLI = [sys.executable, "-m", "orchestrator.cli"]
DRIVER = Path(__file__).with_name("kill_driver.py")


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
    """As orchestrate's own identity (serve refuses keys it does not hold: authenticate.py)."""
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=DEFAULT_ADMIN.access_key_id, aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)


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


def orchestrate(world: World, *args: str, scenario: str = SEED) -> tuple[int, str]:
    """A command in this process (no interpreter start-up): exit code and everything it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main([*args, scenario, "--endpoint-url", world.url, "--no-color"])
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
    found = leftovers(world)
    assert found == [], f"after the follow-up destroy: {found}"


class Forks:
    """The fork server (kill_driver.py run as a script): one apply per request, forked from a
    process that imported orchestrate once (no interpreter start-up, no imports per apply)."""

    def __init__(self, process: subprocess.Popen[str], logs: Path) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.requests: IO[str] = process.stdin
        self.answers: IO[str] = process.stdout
        self.logs = logs

    def ask(self, line: str) -> None:
        self.requests.write(f"{line}\n")
        self.requests.flush()

    def answer(self, seconds: float) -> str:
        """The server's next line. No answer ends the test (pytest.fail is no AssertionError, which
        the rounds collect): the server would still be waiting for the stuck child."""
        ready, _, _ = select.select([self.answers], [], [], seconds)
        line = self.answers.readline() if ready else ""
        if not line:
            pytest.fail(f"the fork server gave no answer within {seconds} s" if not ready else "the fork server ended")
        return line.strip()

    def apply_killed_at(self, k: int, signum: int, when: str, seconds: float) -> tuple[int, str]:
        """An apply sent `signum` at its k-th mutating call, `before` it or once it is `answered`:
        its exit code and what it printed."""
        log = self.logs / f"apply-{k}-{signal.Signals(signum).name}-{when}.log"
        self.ask(f"{k} {signum} {when} {log}")
        code = self.answer(seconds)
        return int(code), log.read_text()


@contextlib.contextmanager
def fork_server(world: World, logs: Path, seconds: float, scenario: str = SEED) -> Iterator[Forks]:
    """kill_driver.py's fork server for `orchestrate apply SCENARIO` (default SEED) against the
    world, ended (with any child it is waiting for) afterwards whatever happened."""
    # a session of its own: teardown ends the server and any child it is waiting for, by group
    process = subprocess.Popen([sys.executable, str(DRIVER), world.url, scenario], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        server = Forks(process, logs)
        assert server.answer(seconds) == "ready"
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):  # the leader is not reaped yet: the group id is ours
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()

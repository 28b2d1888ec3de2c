"""SIGTERM and SIGINT raise in the main thread, once, while a command runs; the handlers before
come back afterwards; exit codes are 128 + the signal, as a shell reports them."""

from __future__ import annotations

import os
import pickle
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.cli import main
from orchestrator.commands.signals import Terminated, exit_code, raising_on_stop


def test_sigterm_raises_terminated_and_finally_blocks_run() -> None:
    cleaned = []
    with pytest.raises(Terminated) as stopped, raising_on_stop():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            cleaned.append(True)
    assert cleaned == [True]
    assert exit_code(stopped.value) == 143 and str(stopped.value) == "SIGTERM"


def test_sigint_raises_keyboard_interrupt_exit_130() -> None:
    with pytest.raises(KeyboardInterrupt) as stopped, raising_on_stop():
        signal.raise_signal(signal.SIGINT)
    assert exit_code(stopped.value) == 130


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    steps = []
    with pytest.raises(Terminated), raising_on_stop():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)
            steps.append("cleanup finished")
    assert steps == ["cleanup finished"]


def test_handlers_are_restored_and_other_threads_leave_them_alone() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with raising_on_stop():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in before} == before

    seen = []

    def in_a_thread() -> None:
        with raising_on_stop():
            seen.append(signal.getsignal(signal.SIGTERM))

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert seen == [before[signal.SIGTERM]]


def test_terminated_crosses_process_boundaries() -> None:
    """ProcessPoolExecutor (matrix) sends a worker's exception back pickled."""
    copy = pickle.loads(pickle.dumps(Terminated(signal.SIGTERM)))
    assert isinstance(copy, Terminated) and copy.exit_code == 143


def test_a_terminated_that_a_library_wrapped_is_still_a_stop() -> None:
    """pydantic (and others) catch everything while they build: the exit must still be 143."""
    from orchestrator.commands.signals import Terminated, stopped_by

    try:
        try:
            raise Terminated(15)
        except BaseException as caught:
            raise ValueError("wrapped") from caught
    except ValueError as wrapped:
        assert isinstance(stopped_by(wrapped), Terminated)
    assert stopped_by(ValueError("plain")) is None


ROOT = Path(__file__).resolve().parents[2]
SEED = "scenarios/kms-dynamodb-access.yaml"
#: `orchestrate`'s main as the console script runs it, saying on stdout the moment it is called.
STARTING = "import os, sys\nfrom orchestrator.cli import main\nos.write(1, b'starting\\n')\nsys.exit(main(sys.argv[1:]))\n"


def _wait_until_it_catches(pid: int, signum: int, seconds: float = 10) -> None:
    """Until the process has a handler for `signum` (its SigCgt mask in /proc), not a fixed sleep:
    on a loaded machine 10 ms after "starting" could still be before main's first line."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():  # no procfs: main's first line is microseconds away
        time.sleep(0.01)
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        caught = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("SigCgt:")), "0")
        if int(caught, 16) >> (signum - 1) & 1:
            return
        time.sleep(0.001)


def test_a_sigterm_during_start_up_exits_143_and_says_nothing_was_left() -> None:
    """The handler comes first in main: a SIGTERM while the command's modules are still being
    imported (boto3, pydantic's validators: a few hundred ms after main is called) is a stop like
    any other. Before, the handler came after those imports and the default action gave -15."""
    process = subprocess.Popen([sys.executable, "-c", STARTING, "apply", SEED], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline() == "starting\n"
    _wait_until_it_catches(process.pid, signal.SIGTERM)  # main's first line; its imports take hundreds of ms
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    assert err == "terminated\nnothing was left to clean up: it had made no change to any AWS world\n"


@pytest.fixture(scope="module")
def lagging_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`orchestrate serve` whose changes take 3 s to propagate: an apply settles each expectation, so
    it is still running for seconds after it has made its first user."""
    from orchestrator.backends.serve import spawned

    with open(tmp_path_factory.mktemp("serve") / "stderr.log", "w+") as log, \
            spawned(log, "--propagation-delay", "3") as url:
        yield url


def test_a_stopped_apply_says_what_it_left_and_the_destroy_that_removes_it(lagging_endpoint: str) -> None:
    """SIGTERM once apply has made something on an endpoint: 143, and the exact destroy (the same
    endpoint and run id) that, run as printed, leaves the endpoint empty."""
    import boto3

    iam = boto3.client("iam", endpoint_url=lagging_endpoint, region_name="us-east-1",
                       aws_access_key_id=DEFAULT_ADMIN.access_key_id,  # serve authenticates (issue 21)
                       aws_secret_access_key=DEFAULT_ADMIN.secret_access_key)
    process = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "apply", SEED, "--endpoint-url", lagging_endpoint,
                                "--run-id", "sig"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not iam.list_users()["Users"] and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    cleanup = f"orchestrate destroy {SEED} --endpoint-url {lagging_endpoint} --run-id sig"
    assert err == (f"terminated\napply stopped part-way on the endpoint {lagging_endpoint}: what it made is still there"
                   f" (apply again to finish the walk); to remove it: {cleanup}\n")
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        assert main(shlex.split(cleanup)[1:]) == 0
    finally:
        os.chdir(cwd)
    assert iam.list_users()["Users"] == []


def test_leftover_words_name_the_world_and_the_options_that_select_it() -> None:
    """No change: nothing to clean up; run's own destroy finished: nothing left; real AWS: the
    profile options and the account, quoted for a shell."""
    from orchestrator.report.leftovers import Leftover, Where

    aws = Where("aws", None, "ci", (("partner", "p 2"),), "eu-west-1", "123456789012", "r1")
    assert Leftover("destroy", "x.yaml", "AWS account 123456789012", True, aws).words() == (
        "destroy stopped part-way on AWS account 123456789012: what it had not deleted is still there; to finish:"
        " orchestrate destroy x.yaml --target aws --profile ci --profile-for 'partner=p 2' --region eu-west-1"
        " --account 123456789012 --run-id r1")
    assert Leftover("plan", "x.yaml", "the endpoint u", False, Where()).words() == "nothing was left: it had made no change on the endpoint u"
    assert Leftover("run", "x.yaml", "the endpoint u", True, Where(), cleaned=True).words() == (
        "nothing was left: its destroy removed what it made on the endpoint u")
    assert Leftover("apply", "x.yaml", None, True, Where()).words() == (
        "nothing was left: the embedded backend's world ended with the process")


def test_a_stop_inside_a_held_block_is_raised_when_it_ends() -> None:
    """pydantic, building the models' validators at import, turns what is raised inside it into its
    own SchemaError with no chain back: a SIGTERM there once made apply exit 1 with a traceback
    (seen in the kill series under load). Held over such a block, the stop comes after it, whole."""
    reached = []
    with pytest.raises(Terminated), raising_on_stop() as stops:
        with stops.held():
            signal.raise_signal(signal.SIGTERM)  # inside pydantic, this would have become a SchemaError
            reached.append("inside")
        reached.append("after")  # not reached: the stop is raised as the held block ends
    assert reached == ["inside"]

"""Kills at a chosen mutating call of an apply, for tests/reconcile/test_kill_at_every_call.py.

`on_mutating_calls` wraps `orchestrator.backends.open_backend` so that each backend a command
opens calls back at its mutating calls (`Backend.observe`, botocore's before-parameter-build
event: the call is not sent yet). Used in the test process to count a clean apply's calls.

Run as a script (`python kill_driver.py URL SCENARIO`), this is a fork server: it imports
orchestrate once, then for each request line `K SIGNUM WHEN LOG` on stdin forks a child that runs
`orchestrate apply SCENARIO --endpoint-url URL` and sends itself SIGNUM at its K-th mutating call:
`before` the call is sent, or once it is `answered` (the endpoint has done it, and the answer is
read, but not yet returned to orchestrate: as if the signal came while the call was in flight).
It answers with the child's exit code as `os.waitstatus_to_exitcode` gives it (-9 for SIGKILL).
A forked child is a fresh process as far as signals go (the default SIGTERM handling until
`main` installs its own), and spares each round an interpreter start and boto3's imports.
The child's stdout and stderr go to LOG, which names the call it was killed at.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import orchestrator.backends as backends
from orchestrator.backends.base import Backend, is_mutating

#: Exit code of a child whose command raised instead of returning (a traceback is in its log).
CRASHED = 70


def on_mutating_calls(act: Callable[[int, str], None],
                      with_params: Callable[[dict[str, Any]], None] | None = None) -> Callable[[], None]:
    """From now on, every backend opened calls act(n, "service:Operation") before its n-th
    mutating call (n counts across the backends of this process), and with_params(its params)
    if given. Returns an undo."""
    real = backends.open_backend
    seen = [0]

    def observer(service: str, operation: str, params: dict[str, Any]) -> None:
        if is_mutating(operation):
            seen[0] += 1
            if with_params is not None:
                with_params(params)
            act(seen[0], f"{service}:{operation}")

    def opened(*args: Any, **kwargs: Any) -> Backend:
        backend = real(*args, **kwargs)
        backend.observe(observer)
        return backend

    backends.open_backend = opened  # type: ignore[assignment]
    return lambda: setattr(backends, "open_backend", real)


def kill_at(k: int, signum: int, when: str) -> Callable[[int, str], None]:
    """An act for on_mutating_calls: at the k-th call, `before` it is sent or once it is
    `answered`, say which call it is, then send `signum` to this process. SIGTERM's handler
    raises right there, inside the call; later calls (the cleanup's) go on unharmed."""
    armed: list[str] = []

    def kill(call: str) -> None:
        os.write(2, f"killed {when} {k} {call}\n".encode())
        os.kill(os.getpid(), signum)

    def answered() -> None:
        if armed:
            kill(armed.pop())

    def act(n: int, call: str) -> None:
        if n == k and when == "before":
            kill(call)
        elif n == k:
            armed.append(call)  # the next request sent is this call's own: one thread, one call at a time

    if when == "answered":
        _after_each_answer(answered)
    return act


def _after_each_answer(hook: Callable[[], None]) -> None:
    """hook() once each request has its answer (retries included), before the client returns it."""
    from botocore.endpoint import Endpoint

    real = Endpoint.make_request

    def make_request(self: Endpoint, *args: Any, **kwargs: Any) -> Any:
        answer = real(self, *args, **kwargs)
        hook()
        return answer

    Endpoint.make_request = make_request  # type: ignore[method-assign]  # in a forked child only


def _child(k: int, signum: int, when: str, log: str, command: list[str]) -> None:
    """In the forked child: output to LOG, the kill armed, the command run; never returns."""
    code = CRASHED
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # the request pipe is the server's alone
        on_mutating_calls(kill_at(k, signum, when))
        from orchestrator.cli import main

        code = main(command)
    except BaseException:  # noqa: BLE001 - whatever escaped is the test's evidence
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _warm_up() -> None:
    """What every child would otherwise import or build first (the command, the runner, boto3's
    clients), done once before forking."""
    import boto3

    import importlib

    for module in ("orchestrator.commands.apply", "orchestrator.prove.runner", "orchestrator.reconcile.apply"):
        importlib.import_module(module)
    from orchestrator.cli import build_parser

    build_parser()
    session = boto3.session.Session()
    for service in ("iam", "kms", "dynamodb", "sts", "organizations"):
        session.client(service, region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                       aws_access_key_id="AKIAWARMUPWARMUP00", aws_secret_access_key="warm-up")


def serve_forks(url: str, scenario: str) -> None:
    _warm_up()
    command = ["apply", scenario, "--endpoint-url", url, "--no-color"]
    print("ready", flush=True)
    for line in sys.stdin:
        k, signum, when, log = line.split(maxsplit=3)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            _child(int(k), int(signum), when, log.strip(), command)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


if __name__ == "__main__":
    serve_forks(sys.argv[1], sys.argv[2])

"""`orchestrate serve`: the embedded backend as a long-running local endpoint.

moto's server application answers; the authorization gate sits in front of it as WSGI
middleware, so `plan`, `apply`, `drift`, `destroy`, the AWS CLI and any SDK share one world
and see AWS's allow and deny. Loopback by default; stops cleanly on SIGINT and SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.authz.gate.authenticate import AdminKeys
    from orchestrator.authz.gate.propagation import Propagation

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestLog:
    """One line per request: method, path, operation, status, milliseconds."""

    def __init__(self, app: WsgiApp, stream: Any = sys.stderr) -> None:
        self.app = app
        self.stream = stream

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording_start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, *rest)

        body = self.app(environ, recording_start)
        operation = environ.get("HTTP_X_AMZ_TARGET", "") or environ.get("QUERY_STRING", "")[:60]
        elapsed = (time.perf_counter() - started) * 1000
        print(f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} {operation} {seen.get('status', '?')} {elapsed:.1f}ms",
              file=self.stream, flush=True)
        return body


def build_app(region: str, verbose: bool = False, propagation: Propagation | None = None,
              admins: AdminKeys | None = None) -> WsgiApp:
    """moto's server app behind the gate; with ``propagation`` enabled, the gate decides over a
    lagging world (orchestrator/authz/propagation.py) and every response announces the lag.
    Every signed request is authenticated first (authenticate.py): orchestrate's own identity
    signs with ``admins`` (default: DEFAULT_ADMIN and the environment's pair), any other key must
    be one moto holds, with its signature."""
    from moto.server import DomainDispatcherApplication, create_backend_app

    from orchestrator.authz.gate.authenticate import AdminKeys, Authenticator
    from orchestrator.authz.gate.core import Gate
    from orchestrator.authz.gate.propagation import Propagation
    from orchestrator.backends.lagging_world import LaggingWorld
    from orchestrator.backends.moto_world import MotoWorld
    from orchestrator.authz.gate.wsgi import GateMiddleware, read_body
    from orchestrator.backends import moto_cloudformation
    from orchestrator.backends.moto_extensions import install_policy_checks_off, served_policy_loader

    moto_cloudformation.install()
    install_policy_checks_off()  # the gate alone judges bucket and key policies
    propagation = propagation or Propagation()
    world = LaggingWorld(propagation) if propagation.enabled else MotoWorld()
    gate = Gate(region, world=world)
    authenticator = Authenticator(world, admins or AdminKeys(), read_body)
    app: WsgiApp = GateMiddleware(DomainDispatcherApplication(create_backend_app), gate,
                                  served_policy_loader(gate.world), propagation, authenticator)
    return RequestLog(app) if verbose else app


def serve(host: str, port: int, region: str, verbose: bool = False, propagation: Propagation | None = None,
          admins: AdminKeys | None = None) -> int:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    # moto's request handler keeps headers with underscores (S3 uses them) that werkzeug drops.
    server = make_server(host, port, build_app(region, verbose, propagation, admins), threaded=True,
                         request_handler=MotoRequestHandler)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker = threading.Thread(target=server.serve_forever, name="orchestrate-serve", daemon=True)
    worker.start()
    print(f"orchestrate serve: listening on http://{host}:{server.server_port} (region {region}); Ctrl-C stops", flush=True)
    print(f"orchestrate serve: {admin_line(admins)}", flush=True)
    if propagation is not None and propagation.enabled:
        print(f"orchestrate serve: authorization changes take effect after {propagation.delay:g} s"
              f" (+ up to {propagation.jitter:g} s jitter; table keys cached {propagation.table_key_cache:g} s)", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    worker.join(timeout=5)
    print("orchestrate serve: stopped", flush=True)
    return 0


def admin_line(admins: AdminKeys | None) -> str:
    """Who signs as orchestrate's own identity, by key id only (never a secret)."""
    from orchestrator.authz.gate.authenticate import AdminKeys

    chosen = admins or AdminKeys()
    if chosen.any_key:
        return "any access key moto does not hold is orchestrate's own identity (--any-key-as-admin)"
    named = [key for key, _ in chosen.pairs]
    environment = os.environ.get("AWS_ACCESS_KEY_ID") if chosen.environment and os.environ.get("AWS_SECRET_ACCESS_KEY") else None
    shown = ", ".join(named + ([f"{environment} (AWS_ACCESS_KEY_ID)"] if environment else []))
    return f"orchestrate's own identity signs with {shown}; other keys must be moto's, with their signature"


@contextlib.contextmanager
def spawned(stderr: IO[str], *options: str, cwd: str | None = None) -> Iterator[str]:
    """`orchestrate serve` as a child process on a free loopback port, for tests and the bench:
    its URL (from the first line it prints), stopped with SIGTERM afterwards whatever happened.
    `stderr` is a file: a pipe nobody reads fills up with the server's log of dropped
    connections (a killed client's), and then the server blocks on it."""
    with listening([sys.executable, "-m", "orchestrator.cli", "serve", "--host", "127.0.0.1", "--port", "0", *options],
                   stderr, cwd) as url:
        yield url


@contextlib.contextmanager
def listening(argv: list[str], stderr: IO[str], cwd: str | None = None) -> Iterator[str]:
    """Any server child process whose first line names its loopback URL (`spawned`'s, and the
    bench's plain moto server): the URL, then SIGTERM (SIGKILL after 20 s) whatever happened."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if match is None:
            raise RuntimeError(f"{' '.join(argv[:4])} did not say where it listens: {line!r}")
        yield f"http://127.0.0.1:{match[1]}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()

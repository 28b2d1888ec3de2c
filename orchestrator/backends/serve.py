"""`orchestrate serve`: the embedded backend as a long-running local endpoint.

moto's server application answers; the authorization gate sits in front of it as WSGI
middleware, so `plan`, `apply`, `drift`, `destroy`, the AWS CLI and any SDK share one world
and see AWS's allow and deny. Loopback by default; stops cleanly on SIGINT and SIGTERM.
"""

from __future__ import annotations

import contextlib
import json
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
    """`serve --verbose`: one line per request on its stream, and nothing else there. Who asked
    (the principal's ARN; the access key when authentication refused it), the action
    (service:operation), the resources the gate authorized, the decision and the layer that made
    it, the HTTP status, the milliseconds:

        arn:aws:iam::123456789012:user/reader kms:Decrypt on arn:aws:kms:...:key/1a2b: denied by key-policy, 400 in 3.1 ms

    `json`: the same as one JSON object a line. A request whose transport headers serve ignored
    (unproved: authz/gate/transport_proof.py) says so in a `transport` field, and only it. Never a colour code: the log is read in files as
    much as on a terminal. What a client sent (a key id, an operation) is escaped, so a request
    cannot write control characters into the log."""

    def __init__(self, app: WsgiApp, stream: Any = None, json_lines: bool = False) -> None:
        self.app = app
        self.stream = stream if stream is not None else sys.stderr
        self.json_lines = json_lines
        self._lock = threading.Lock()  # one request's line is never cut by another's

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, str] = {}

        def recording_start(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            return start_response(status, headers, *rest)

        body = self.app(environ, recording_start)
        entry = request_entry(environ, seen.get("status", "?"), (time.perf_counter() - started) * 1000)
        line = json.dumps(entry) if self.json_lines else entry_text(entry)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()
        return body


def request_entry(environ: dict[str, Any], status: str, ms: float) -> dict[str, Any]:
    """What GateMiddleware left in the environ (wsgi.py CALL_KEY, REFUSAL_KEY, VERDICT_KEY) as
    the log's fields; a request the gate does not judge (moto's own /moto-api) says so."""
    from orchestrator.authz.gate.wsgi import CALL_KEY, REFUSAL_KEY, TRANSPORT_REFUSAL_KEY, VERDICT_KEY

    call, refusal, verdict = environ.get(CALL_KEY), environ.get(REFUSAL_KEY), environ.get(VERDICT_KEY)
    entry: dict[str, Any] = {"principal": "-", "action": _clean(str(environ.get("PATH_INFO", ""))), "resources": [],
                             "decision": "not judged", "layer": None, "status": int(status) if status.isdigit() else status,
                             "ms": round(ms, 1)}
    if call is not None:
        entry["principal"] = _clean(call.access_key_id or "anonymous")
        entry["action"] = _clean(f"{call.service}:{call.operation or '?'}")
    if refusal is not None:
        entry |= {"decision": "refused", "layer": refusal.layer}
    elif verdict is not None:
        entry |= {"principal": verdict.principal.arn, "decision": "allowed" if verdict.allowed else "denied",
                  "layer": _deciding_layer(verdict),
                  "resources": list(dict.fromkeys(_clean(step.resource) for step, _ in verdict.steps))}
    if environ.get(TRANSPORT_REFUSAL_KEY):  # only then: a request without the headers has no such field
        entry["transport"] = _clean(f"headers ignored: {environ[TRANSPORT_REFUSAL_KEY]}")
    return entry


def _deciding_layer(verdict: Any) -> str | None:
    """The layer that denied; for an allowed call, orchestrate's own identity (admin) or the layer
    of the last authorization the call needed; None when it needed none."""
    if verdict.error is not None:
        return str(verdict.error.layer)
    if verdict.admin:
        return "admin"
    return str(verdict.steps[-1][1].layer) if verdict.steps else None


def entry_text(entry: dict[str, Any]) -> str:
    resources = f" on {', '.join(entry['resources'])}" if entry["resources"] else ""
    layer = f" by {entry['layer']}" if entry["layer"] else ""
    transport = f" (transport {entry['transport']})" if entry.get("transport") else ""
    return (f"{entry['principal']} {entry['action']}{resources}: {entry['decision']}{layer},"
            f" {entry['status']} in {entry['ms']:.1f} ms{transport}")


class TransportRefusalLog:
    """Without --verbose: one line on serve's stderr for each request whose transport headers were
    ignored, unproved (authz/gate/transport_proof.py): who asked, the action, and why, never a
    secret; the request itself is answered as without the headers."""

    def __init__(self, app: WsgiApp, stream: Any = None) -> None:
        self.app = app
        self.stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        from orchestrator.authz.gate.wsgi import CALL_KEY, TRANSPORT_REFUSAL_KEY

        body = self.app(environ, start_response)
        reason, call = environ.get(TRANSPORT_REFUSAL_KEY), environ.get(CALL_KEY)
        if reason:
            who = _clean(f"{call.access_key_id or 'anonymous'} {call.service}:{call.operation or '?'}") if call else "-"
            with self._lock:
                self.stream.write(f"orchestrate serve: transport headers ignored on {who}: {_clean(reason)}\n")
                self.stream.flush()
        return body


def _clean(text: str) -> str:
    """What a client sent, printable: control characters (ANSI's ESC among them) escaped."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text[:200])


def quiet_werkzeug(verbose: bool) -> None:
    """werkzeug logs every request itself (`"POST / HTTP/1.1" 200 -`, coloured): serve's log is
    ours, so werkzeug keeps only its warnings and errors. With --verbose those go to stdout beside
    serve's own messages, so that stderr holds the request log and nothing else."""
    import logging

    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.WARNING)
    if verbose:
        logger.handlers = [logging.StreamHandler(sys.stdout)]
        logger.propagate = False


def build_app(region: str, verbose: bool = False, propagation: Propagation | None = None,
              admins: AdminKeys | None = None, log_format: str = "text", log_stream: Any = None) -> WsgiApp:
    """moto's server app behind the gate; with ``propagation`` enabled, the gate decides over a
    lagging world (orchestrator/authz/propagation.py) and every response announces the lag.
    Every signed request is authenticated first (authenticate.py): orchestrate's own identity
    signs with ``admins`` (default: DEFAULT_ADMIN and the environment's pair), any other key must
    be one moto holds, with its signature. A request's transport headers count only with
    orchestrate's proof (authz/gate/transport_proof.py); each one ignored is said on ``log_stream``
    (stderr): in its --verbose line, else in a line of its own (TransportRefusalLog)."""
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
    return RequestLog(app, log_stream, log_format == "json") if verbose else TransportRefusalLog(app, log_stream)


def serve(host: str, port: int, region: str, verbose: bool = False, propagation: Propagation | None = None,
          admins: AdminKeys | None = None, log_format: str = "text") -> int:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    quiet_werkzeug(verbose)
    # moto's request handler keeps headers with underscores (S3 uses them) that werkzeug drops.
    server = make_server(host, port, build_app(region, verbose, propagation, admins, log_format), threaded=True,
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

"""Bounded endpoints: a silent endpoint (accepts, never answers), a dead one (connection refused)
and one that answers errors each end plan, apply, drift and destroy quickly with one line that
says which it was. Loopback only. Times are bounds with a generous margin, not measurements."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orchestrator.backends.aws import AwsBackend
from orchestrator.backends.endpoint import EndpointBackend
from orchestrator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")
# plan and drift end with 1 on an error, as Terraform's do (their 2 means changes); the others with 3
INFRA_EXIT = {"plan": 1, "apply": 3, "drift": 1, "destroy": 3}
BOUND = 15.0
#: README's promise for a silent endpoint: the start-up check's 3 s wait, and start-up, under 10 s.
SILENT_BOUND = 10.0
#: `timed` in a process of its own: main's seconds (start-up and imports excluded), on stdout's last line.
TIMED_MAIN = ("import sys, time\nfrom orchestrator.cli import main\nstarted = time.monotonic()\ncode = main(sys.argv[1:])\n"
              "print(time.monotonic() - started, flush=True)\nsys.exit(code)")


@pytest.fixture
def silent() -> Iterator[str]:
    """A socket that accepts connections (the kernel completes them) and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def dead() -> str:
    """A port nothing listens on: connection refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"


class Answering(http.server.BaseHTTPRequestHandler):
    status = 500
    body = b""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def serve(status: int, body: bytes) -> Iterator[str]:
    handler = type("Handler", (Answering,), {"status": status, "body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def failing() -> Iterator[str]:
    yield from serve(500, b"")


@pytest.fixture
def garbage() -> Iterator[str]:
    yield from serve(200, b"<<< not an AWS answer")


@pytest.fixture
def refusing() -> Iterator[str]:
    yield from serve(403, b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"
                          b"<Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>")


IDENTITY = (b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
            b"<Arn>arn:aws:iam::123456789012:user/admin</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>"
            b"</GetCallerIdentityResult></GetCallerIdentityResponse>")


class Stalling(Answering):
    """Answers who the caller is, then goes silent: an endpoint that stops answering mid-run."""

    def do_POST(self) -> None:  # noqa: N802
        if b"GetCallerIdentity" in self.rfile.read(int(self.headers.get("Content-Length", 0))):
            self.send_response(200)
            self.send_header("Content-Length", str(len(IDENTITY)))
            self.end_headers()
            self.wfile.write(IDENTITY)
        else:
            self.server.stop.wait(30)  # type: ignore[attr-defined]


@pytest.fixture
def stalling() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    server.daemon_threads = True
    server.stop = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.stop.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def timed(argv: list[str]) -> tuple[int, float]:
    started = time.monotonic()
    code = main(argv)
    return code, time.monotonic() - started


@dataclass
class SilentRuns:
    """Every command against a silent endpoint of its own (its world, its lock), each in a process
    of its own, all started at once: each waits out the default bound, and they wait together."""

    urls: dict[str, str]
    processes: dict[str, subprocess.Popen[str]]

    def result(self, command: str) -> tuple[int, float, str]:
        """Its exit code, main's seconds (as `timed` has them), and its stderr."""
        out, err = self.processes[command].communicate(timeout=4 * BOUND)
        return self.processes[command].returncode, float(out.splitlines()[-1]), err


@pytest.fixture(scope="module")
def silent_runs() -> Iterator[SilentRuns]:
    listeners = {command: socket.socket() for command in INFRA_EXIT}
    for listener in listeners.values():
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
    urls = {command: f"http://127.0.0.1:{listener.getsockname()[1]}" for command, listener in listeners.items()}
    runs = SilentRuns(urls, {
        command: subprocess.Popen([sys.executable, "-c", TIMED_MAIN, command, SEED, "--endpoint-url", urls[command]],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in INFRA_EXIT})
    try:
        yield runs
    finally:
        for process in runs.processes.values():
            if process.poll() is None:
                process.kill()
            process.communicate()
        for listener in listeners.values():
            listener.close()


@pytest.mark.parametrize("command", list(INFRA_EXIT))
def test_a_silent_endpoint_fails_fast_with_one_line(command: str, silent_runs: SilentRuns) -> None:
    """All four commands wait at once (silent_runs), each in `orchestrate`'s main as `timed` times it:
    the start-up check's one attempt of 3 s, then the message (the old 6 s wait came to 14.8 s under load)."""
    code, seconds, err = silent_runs.result(command)
    assert code == INFRA_EXIT[command]
    assert seconds < SILENT_BOUND
    assert err == f"cannot reach {silent_runs.urls[command]}: no answer within 3 s (--timeout SECONDS waits longer)\n"


def test_timeout_option_sets_the_wait(silent: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, seconds = timed(["apply", SEED, "--endpoint-url", silent, "--timeout", "1"])
    assert code == 3 and seconds < 5.0
    assert capsys.readouterr().err == f"cannot reach {silent}: no answer within 1 s (--timeout SECONDS waits longer)\n"


def test_an_endpoint_that_stops_answering_mid_run_is_retried_once(stalling: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Two attempts of 2 s and at most 1 s of backoff: the run ends, and says so in its report."""
    # past the enforcement check, which would meet the silence first (before the run, with no report)
    code, seconds = timed(["apply", SEED, "--endpoint-url", stalling, "--timeout", "2", "--output", "json",
                           "--no-enforcement-check"])
    assert code == 3 and 4.0 <= seconds < BOUND
    captured = capsys.readouterr()
    assert captured.err == f"cannot reach {stalling}: no answer within 2 s (--timeout SECONDS waits longer)\n"
    assert '"error": "cannot reach' in captured.out


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_timeout_option_must_be_positive_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SEED, "--timeout", value]) == 1  # plan's bad usage is an error, not "changes"
    assert "--timeout" in capsys.readouterr().err


@pytest.mark.parametrize("command", list(INFRA_EXIT))
def test_a_dead_endpoint_fails_at_once(command: str, dead: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, seconds = timed([command, SEED, "--endpoint-url", dead])
    assert code == INFRA_EXIT[command] and seconds < BOUND
    assert capsys.readouterr().err == f"cannot reach {dead}: connection refused\n"


@pytest.mark.parametrize("command", list(INFRA_EXIT))
def test_an_endpoint_that_answers_500_was_reached(command: str, failing: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, seconds = timed([command, SEED, "--endpoint-url", failing])
    assert code == INFRA_EXIT[command] and seconds < BOUND
    assert capsys.readouterr().err == f"reached {failing}, but it answered an error: HTTP 500: Internal Server Error\n"


def test_an_endpoint_that_answers_garbage_was_reached(garbage: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", SEED, "--endpoint-url", garbage]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"reached {garbage}, but it answered an error: ResponseParserError: Unable to parse response")
    assert err.count("\n") == 1 and "not an AWS answer" not in err


def test_an_endpoint_that_refuses_the_credentials_says_so(refusing: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", SEED, "--endpoint-url", refusing]) == 1
    assert capsys.readouterr().err == (f"reached {refusing}, but it answered an error: InvalidClientTokenId:"
                                       " The security token included in the request is invalid.\n")


def probe_config(backend: EndpointBackend | AwsBackend) -> tuple[float, float, int]:
    """The botocore bounds of the start-up GetCallerIdentity client, as Backend.identity builds it."""
    config = backend._new_client("sts", None, backend.timeouts.single()).meta.config
    return config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]


def test_bounds_per_backend_kind() -> None:
    """Endpoints: 5 s to connect, 6 s for an answer, 2 attempts; the start-up probe one attempt of
    3 s (connect and answer), so a silent endpoint fails `apply` after 3 s of waiting.
    --timeout sets every wait, the probe's too. Real AWS: botocore's 60 s read timeout and the
    standard retry mode's 3 attempts, the probe one attempt of the same bounds."""
    endpoint = EndpointBackend("us-east-1", "http://127.0.0.1:1")
    assert (endpoint.timeouts.connect, endpoint.timeouts.read, endpoint.timeouts.attempts) == (5.0, 6.0, 2)
    config = endpoint.client("sts").meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (5.0, 6.0, 2)
    assert probe_config(endpoint) == (3.0, 3.0, 1)
    shorter = EndpointBackend("us-east-1", "http://127.0.0.1:1", timeout=2)
    assert (shorter.timeouts.connect, shorter.timeouts.read) == (2, 2)
    assert probe_config(shorter) == (2, 2, 1)
    longer = EndpointBackend("us-east-1", "http://127.0.0.1:1", timeout=30)
    assert probe_config(longer) == (5.0, 30, 1)
    aws = AwsBackend("us-east-1")
    assert (aws.timeouts.connect, aws.timeouts.read, aws.timeouts.attempts) == (10.0, 60.0, 3)
    assert probe_config(aws) == (10.0, 60.0, 1)

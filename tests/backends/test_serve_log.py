"""`serve --verbose`'s request log (backends/serve.py RequestLog): one line per request with the
principal, action, resources, decision and deciding layer, status and milliseconds, nothing else
on its stream, no colour codes; `--log-format json` one object a line; werkzeug's own request log
silenced. One in-process server for the module, as `serve` builds its app."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from orchestrator.backends.endpoint import DEFAULT_ADMIN
from orchestrator.backends.serve import RequestLog, build_app, quiet_werkzeug


@dataclass
class Served:
    url: str
    log: io.StringIO
    app: RequestLog


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    log = io.StringIO()
    app = build_app("us-east-1", verbose=True, log_stream=log)
    assert isinstance(app, RequestLog)
    quiet_werkzeug(True)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_port}", log, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        logger = logging.getLogger("werkzeug")
        logger.handlers, logger.propagate, logger.level = [], True, logging.NOTSET


def client(url: str, service: str, key: str = DEFAULT_ADMIN.access_key_id,
           secret: str = DEFAULT_ADMIN.secret_access_key) -> Any:
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret)


def lines_during(served: Served, action: Any) -> list[str]:
    served.log.seek(0)
    served.log.truncate()
    action()
    return served.log.getvalue().splitlines()


def test_each_request_is_one_line_with_who_what_on_what_and_the_decision(served: Served) -> None:
    iam = client(served.url, "iam")
    iam.create_user(UserName="log-reader")
    key = iam.create_access_key(UserName="log-reader")["AccessKey"]
    reader = client(served.url, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])

    def denied() -> None:
        with pytest.raises(reader.exceptions.ClientError):
            reader.describe_table(TableName="ledger")

    [line] = lines_during(served, denied)
    assert line.startswith("arn:aws:iam::123456789012:user/log-reader dynamodb:DescribeTable on "
                           "arn:aws:dynamodb:us-east-1:123456789012:table/ledger: denied by identity-policy, 400 in ")
    assert line.endswith(" ms") and "\x1b" not in line and "POST /" not in line

    [admin] = lines_during(served, lambda: client(served.url, "dynamodb").list_tables())
    assert " dynamodb:ListTables" in admin and ": allowed by admin, 200 in " in admin


def test_a_key_moto_does_not_hold_is_logged_as_refused_by_authentication(served: Served) -> None:
    stranger = client(served.url, "dynamodb", "AKIASTRANGER00000000", "not-a-secret")

    def refused() -> None:
        with pytest.raises(stranger.exceptions.ClientError):
            stranger.list_tables()

    [line] = lines_during(served, refused)
    assert line.startswith("AKIASTRANGER00000000 dynamodb:ListTables: refused by authentication, 400 in ")
    assert "not-a-secret" not in line


def test_json_lines_and_control_characters_escaped(served: Served) -> None:
    served.app.json_lines = True
    try:
        [line] = lines_during(served, lambda: client(served.url, "dynamodb").list_tables())
    finally:
        served.app.json_lines = False
    entry = json.loads(line)
    assert entry["action"] == "dynamodb:ListTables" and entry["decision"] == "allowed" and entry["status"] == 200
    assert set(entry) == {"principal", "action", "resources", "decision", "layer", "status", "ms"}

    dynamodb = client(served.url, "dynamodb")

    def coloured() -> None:
        with pytest.raises(dynamodb.exceptions.ClientError):
            dynamodb.describe_table(TableName="red\x1b[31mtable")

    [line] = lines_during(served, coloured)
    assert "\x1b" not in line and "red\\x1b[31mtable" in line


def test_werkzeug_logs_no_request_line_of_its_own(served: Served) -> None:
    heard: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = heard.append  # type: ignore[method-assign]
    logger = logging.getLogger("werkzeug")
    logger.addHandler(handler)
    try:
        lines = lines_during(served, lambda: client(served.url, "dynamodb").list_tables())
    finally:
        logger.removeHandler(handler)
    assert len(lines) == 1 and heard == []


def test_transport_headers_without_orchestrates_proof_are_said_ignored(served: Served) -> None:
    """A principal's own source address is ignored (authz/gate/transport_proof.py) and the line says
    why; the request is decided as without it, never refused for it."""
    iam = client(served.url, "iam")
    iam.create_user(UserName="log-claimer")
    key = iam.create_access_key(UserName="log-claimer")["AccessKey"]
    claimer = client(served.url, "dynamodb", key["AccessKeyId"], key["SecretAccessKey"])
    claimer.meta.events.register_first("before-call", lambda params=None, **_: params["headers"].update(
        {"x-orchestrate-source-ip": "10.0.0.5"}))

    def denied() -> None:
        with pytest.raises(claimer.exceptions.ClientError):
            claimer.list_tables()

    [line] = lines_during(served, denied)
    assert line.endswith(" ms (transport headers ignored: no proof of orchestrate's identity)")
    assert ": denied by identity-policy, 400 in " in line and key["SecretAccessKey"] not in line

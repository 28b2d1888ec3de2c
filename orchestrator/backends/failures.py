"""Bounded calls, and one line that says whether an endpoint could not be reached or was reached
and answered an error.

The bounds follow botocore's configuration (boto3 "Configuration: Config", `connect_timeout`,
`read_timeout`, `retries`) and the AWS SDKs and Tools Reference Guide, "Retry behavior"
(standard mode: exponential backoff with jitter, at most 20 s between attempts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

#: Seconds an endpoint may take to accept a connection, whatever --timeout says: a loopback or
#: LAN endpoint accepts in milliseconds, so a long connect wait only delays the message.
CONNECT_SECONDS = 5.0
#: Seconds an endpoint may take to answer one attempt. `orchestrate serve`, moto and LocalStack
#: answer in milliseconds; with 2 attempts and standard mode's backoff (at most 1 s before the
#: second), a call to an endpoint that stops answering mid-run ends within 13 s. --timeout raises
#: it for a slow endpoint.
ENDPOINT_READ_SECONDS = 6.0
#: Seconds the start-up GetCallerIdentity (one attempt) waits to connect and for an answer. It is
#: the cheapest call an endpoint serves (no permission, no state: AWS STS API Reference,
#: "GetCallerIdentity"; `orchestrate serve` answers its first in ~30 ms), so 3 s is a hundred
#: times its answer, and a silent endpoint is named after 3 s of waiting: under 10 s from the
#: command's start even on a loaded machine, where start-up itself can take seconds.
PROBE_SECONDS = 3.0


@dataclass(frozen=True)
class Timeouts:
    """How long one attempt of a call may wait to connect and for an answer, and how many attempts."""

    connect: float
    read: float
    attempts: int
    #: the start-up probe's wait (connect and answer); None: as any call's
    probe: float | None = None

    def with_read(self, seconds: float) -> Timeouts:
        """--timeout SECONDS: the wait for an answer, the start-up probe's too; connecting never
        waits longer than that either."""
        return replace(self, connect=min(self.connect, seconds), read=seconds, probe=None)

    def single(self) -> Timeouts:
        """The start-up probe asks once, with its own bound: a silent endpoint is reported after
        one probe wait (botocore's `connect_timeout` and `read_timeout` are per attempt)."""
        wait = self.probe if self.probe is not None else self.read
        return replace(self, connect=min(self.connect, wait), read=wait, attempts=1, probe=None)

    def config(self) -> Any:
        from botocore.config import Config

        # total_max_attempts counts the first attempt too (botocore's max_attempts does not);
        # connections: as many as --parallel's largest pool, whose threads may share one
        # principal's client (botocore's default of 10 would drop and reopen the others')
        return Config(retries={"total_max_attempts": self.attempts, "mode": "standard"},
                      connect_timeout=self.connect, read_timeout=self.read, max_pool_connections=64)


def _transport_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import ConnectionClosedError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    return (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


def is_transport_error(error: BaseException) -> bool:
    """No answer came: refused, timed out, or the connection closed before an answer."""
    return isinstance(error, _transport_errors())


def _why_unreachable(error: BaseException, timeouts: Timeouts) -> str:
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    if isinstance(error, ReadTimeoutError):
        return f"no answer within {timeouts.read:g} s (--timeout SECONDS waits longer)"
    if isinstance(error, ConnectTimeoutError):
        return f"no connection within {timeouts.connect:g} s"
    cause = str(getattr(error, "kwargs", {}).get("error") or error)
    found = re.search(r"\[Errno -?\d+\] ([^\")']+)", cause)
    return found.group(1).strip().lower() if found else _one_line(str(error))


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def unreachable_message(error: BaseException, url: str, timeouts: Timeouts) -> str:
    return f"cannot reach {url}: {_why_unreachable(error, timeouts)}"


def answered_message(error: BaseException, url: str) -> str:
    """An answer that is an AWS error (code and message) or not an AWS answer at all."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = str(response["Error"].get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?"))
        code = f"HTTP {code}" if code.isdigit() else code  # botocore's code for a bare HTTP error
        return f"reached {url}, but it answered an error: {code}: {_one_line(response['Error'].get('Message', ''))}"
    # botocore.parsers.ResponseParserError: the answer was not AWS's XML or JSON
    text = str(error).split("\n", 1)[0].removesuffix(" Further retries may succeed:")
    return f"reached {url}, but it answered an error: {type(error).__name__}: {_one_line(text)}"


def is_unreadable_answer(error: BaseException) -> bool:
    from botocore.parsers import ResponseParserError

    return isinstance(error, ResponseParserError)


def describe_aws_error(error: BaseException) -> str:
    """AWS errors with their code and message; anything else as itself."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "Unknown")
        message = response["Error"].get("Message", "")
        operation = getattr(error, "operation_name", "")
        return f"AWS error {code} from {operation}: {message}" if operation else f"AWS error {code}: {message}"
    return f"{type(error).__name__}: {error}"


def aws_error_code(error: BaseException) -> str | None:
    """AWS's error code of a failure it answered (botocore's ClientError, the gate's Malformed)."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return getattr(error, "aws_code", None)


def is_aws_failure(error: BaseException) -> bool:
    """An error from AWS's answer or from botocore's way to it (not a bug of ours)."""
    return getattr(error, "response", None) is not None or type(error).__module__.startswith(("botocore", "urllib3"))

"""Waiting for IAM and KMS propagation on real AWS: bounded backoff, never a fixed sleep.

KMS Developer Guide, "Troubleshooting key access" and CreateKey/PutKeyPolicy: a key policy that
names a principal IAM has just created can be refused with MalformedPolicyDocumentException
until the principal has propagated. Only backends that are eventually consistent retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from orchestrator.resources.base import error_code
from orchestrator.resources.context import RunContext

T = TypeVar("T")
PROPAGATION_CODES = frozenset({"MalformedPolicyDocumentException", "InvalidArnException"})


def until_propagated(ctx: RunContext, call: Callable[[], T], timeout: float = 90.0,
                     sleep: Callable[[float], None] = time.sleep, codes: frozenset[str] = PROPAGATION_CODES) -> T:
    """call(), retried while AWS says a just-created principal is not known yet (1 s doubling to 16 s)."""
    started, delay = time.monotonic(), 1.0
    while True:
        try:
            return call()
        except Exception as error:
            waited = time.monotonic() - started
            if not ctx.backend.eventually_consistent or error_code(error) not in codes or waited + delay > timeout:
                raise
        sleep(delay)
        delay = min(delay * 2, 16.0)

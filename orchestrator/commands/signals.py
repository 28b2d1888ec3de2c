"""SIGTERM and SIGINT end a command the way an error does: every `finally` and `__exit__` runs
(access keys made for principals are deleted), then the process exits 128 + the signal number,
143 or 130, as a shell reports a process the signal ended.

A cancelled CI job is stopped with these signals before SIGKILL (GitHub Actions docs, "Workflow
cancellation reference": SIGINT, then SIGTERM, then SIGKILL; Kubernetes, "Pod termination":
SIGTERM, then SIGKILL after the grace period). SIGTERM's default action ends the process at once,
cleanup skipped; here the handler raises instead. A second signal while that cleanup runs is ignored: it must not cut the
cleanup short. Handlers are the command's only; the previous ones come back afterwards.

`orchestrate`'s main sets them before any work, start-up included (parsing, imports): a stop
during start-up is a stop too, 143 or 130, never the default action's -15. A stopped command says
what it left unfinished and how to clean it up: the layer that knows (the backend session, a
matrix worker) puts it on the stop as a note (PEP 678, `BaseException.add_note`), and main prints
the notes under `terminated` or `interrupted`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOPPING = (signal.SIGTERM, signal.SIGINT)


class Terminated(BaseException):
    """Raised by the SIGTERM handler. A BaseException, as KeyboardInterrupt is, so that
    `except Exception` blocks let it through to the top."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)  # args as the constructor takes them: it pickles (worker processes)
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def stop_named(name: str) -> BaseException:
    """The stop a signal's name stands for (a matrix worker's outcome names the one it met)."""
    return KeyboardInterrupt() if name == "SIGINT" else Terminated(signal.Signals[name])


def exit_code(error: BaseException) -> int:
    """128 + the signal that stopped the command (KeyboardInterrupt is SIGINT's)."""
    return error.exit_code if isinstance(error, Terminated) else 128 + signal.SIGINT


def stopped_by(error: BaseException) -> BaseException | None:
    """The Terminated or KeyboardInterrupt an exception was raised from, if any (a library that
    catches everything, such as pydantic while it builds a validator, wraps what it caught)."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, (Terminated, KeyboardInterrupt)):
            return found
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return None


@contextmanager
def raising_on_stop() -> Iterator[None]:
    """While the block runs, SIGTERM raises Terminated and SIGINT KeyboardInterrupt, once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can set handlers; the caller's stay in force
        return
    raised: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        if raised:
            return
        raised.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(signum)

    previous = {signum: signal.signal(signum, handler) for signum in STOPPING}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def leave_word(error: BaseException, words: str) -> None:
    """Say on the stop that `error` is (or was raised from) what the command left unfinished.
    The innermost layer that knows speaks; once one has, outer layers keep quiet."""
    stop = stopped_by(error)
    if stop is not None and not getattr(stop, "__notes__", None):
        stop.add_note(words)


def left_words(stop: BaseException) -> list[str]:
    """What the stopped command said it left unfinished (empty: nothing was said)."""
    return [str(note) for note in getattr(stop, "__notes__", ())]

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


class Stops:
    """The handlers' state while :func:`raising_on_stop` is in force: a stop is raised where the
    main thread is, except inside :meth:`held`, which keeps it until the block ends."""

    def __init__(self) -> None:
        self.raised: list[int] = []
        self.holding = 0
        self.kept: int | None = None

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.raised:
            return  # a second signal must not cut the first one's cleanup short
        self.raised.append(signum)
        if self.holding:
            self.kept = signum
            return
        raise _stop(signum)

    @contextmanager
    def held(self) -> Iterator[None]:
        """A stop meanwhile is raised when the block ends, not inside it: for code that would
        swallow it or wrap it unchained (pydantic building the models' validators turns an
        exception raised inside into its own SchemaError, and the stop would be lost)."""
        self.holding += 1
        try:
            yield
        finally:
            self.holding -= 1
        if not self.holding and self.kept is not None:
            signum, self.kept = self.kept, None
            raise _stop(signum)


def _stop(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


@contextmanager
def raising_on_stop() -> Iterator[Stops]:
    """While the block runs, SIGTERM raises Terminated and SIGINT KeyboardInterrupt, once (the
    yielded :class:`Stops` can hold one back over a block)."""
    stops = Stops()
    if threading.current_thread() is not threading.main_thread():
        yield stops  # only the main thread can set handlers; the caller's stay in force
        return
    previous = {signum: signal.signal(signum, stops.handler) for signum in STOPPING}
    try:
        yield stops
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

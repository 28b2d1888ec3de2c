"""A matrix worker dies with its parent, cleaning up first, as a SIGTERM would have it.

A worker of `concurrent.futures.ProcessPoolExecutor` whose parent is killed (SIGKILL: nothing of
the parent runs) is not told: it finishes its scenario, then waits on its call queue for ever,
holding the terminal's output (or a CI step's pipe) open. Two ties end that:

- the lifeline, a pipe whose only write end is the parent's (each worker closes its inherited
  copy at start). The parent writes `stop` to stop its workers in order (it was stopped itself);
  the end of the pipe (EOF: "the write end has been closed", pipe(7)) comes when the parent is
  gone however it ended. A watchdog thread in each worker reads it, and polls os.getppid() as a
  portable second witness (a child whose parent exits is re-parented: getppid(2)).
- on Linux, PR_SET_PDEATHSIG (prctl(2)): the kernel sends the worker SIGTERM when its parent dies.

Either way the worker's main thread is sent SIGTERM: inside a scenario it raises (signals.py), the
scenario's `finally` deletes what it made (access keys, resources), and its outcome says what, if
anything, was left. Between scenarios there is nothing to clean: with the parent gone the worker
exits 143 at once; with the parent alive the signal is ignored, since the parent ends its pool
itself (a terminal's Ctrl-C reaches every process of the group, the workers too).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from multiprocessing.connection import Connection
from types import FrameType

from orchestrator.commands.signals import STOPPING

#: What the parent writes, once per worker, to stop its workers in order.
STOP = b"stop"
#: How often the watchdog asks os.getppid() while the pipe is quiet.
POLL_SECONDS = 0.5
#: Once the parent is gone, SIGTERM is sent again this often until the worker is between
#: scenarios (a second signal during a cleanup is ignored: signals.py), where it exits.
REPEAT_SECONDS = 0.2
#: A cleanup that has not finished in this long (an endpoint that stopped answering) is abandoned.
GRACE_SECONDS = 120.0
#: prctl(2) option: the signal sent to this process when its parent dies (<linux/prctl.h>).
PR_SET_PDEATHSIG = 1


class Lifeline:
    """One worker's tie to its parent: the read end of the lifeline and the parent's pid."""

    def __init__(self, reader: Connection) -> None:
        self.reader = reader
        self.parent = os.getppid()
        self.gone = False

    def parent_gone(self) -> bool:
        return self.gone or os.getppid() != self.parent

    def between_scenarios(self, signum: int, frame: FrameType | None) -> None:
        """The SIGTERM and SIGINT handler outside a scenario (run_in_worker sets the raising one)."""
        if self.parent_gone():
            os._exit(128 + signum)

    def watch(self) -> None:
        """The watchdog thread: a `stop` from the parent stops the scenario in hand; the parent's
        end stops it too, and then the worker. The parent writes one `stop` per worker, so each
        reads one at most and then watches os.getppid() alone."""
        signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)  # process-wide signals go to the main thread
        listening = True
        while not self.parent_gone():
            if not listening or not self.reader.poll(POLL_SECONDS):
                time.sleep(0 if listening else POLL_SECONDS)
                continue
            try:
                self.reader.recv_bytes()
            except (EOFError, OSError):  # every write end closed: the parent is gone
                self.gone = True
                break
            listening = False
            _stop_main_thread()
        self._end()

    def _end(self) -> None:
        """SIGTERM until the worker, between scenarios, exits; past GRACE_SECONDS exit anyway."""
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            _stop_main_thread()
            time.sleep(REPEAT_SECONDS)
        os._exit(128 + signal.SIGTERM)


def _stop_main_thread() -> None:
    """SIGTERM to the main thread itself: a blocking call there (a socket read) is interrupted,
    so the handler runs at once rather than after the call's timeout (signal.pthread_kill)."""
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)


def worker_started(reader: Connection, writer: Connection) -> None:
    """The pool's initializer, in each worker before any scenario."""
    writer.close()  # only the parent may hold a write end: its end is then the pipe's end
    _die_with_parent()
    lifeline = Lifeline(reader)
    for signum in STOPPING:
        signal.signal(signum, lifeline.between_scenarios)
    threading.Thread(target=lifeline.watch, name="orchestrate-lifeline", daemon=True).start()


def _die_with_parent() -> None:
    """Linux: SIGTERM from the kernel when the parent dies (prctl(2), PR_SET_PDEATHSIG), however
    the watchdog fares. Elsewhere the watchdog alone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this libc: the watchdog suffices
        pass


def stop_workers(writer: Connection, workers: int) -> None:
    """The parent, stopped: each worker stops its scenario as a SIGTERM would (one `stop` each)."""
    try:
        for _ in range(workers):
            writer.send_bytes(STOP)
    except OSError:  # every worker has already exited
        pass

"""Progress that CI can read: one line per finished state (apply, run) or scenario (matrix), or
per few mutants (mutate, whose units are many and quick).

Not on a terminal (a CI log, a pipe), each finished unit is one flushed line that stays put:

    [1/2] state without-key-grant: 1 passed in 0.4 s
    [3/30] kms-via-service: 3 passed, 1 failed in 1.4 s
    [20/84] mutants decided: 15 killed, 3 survived, 2 equivalent in 2.9 s

On a terminal the same text is a live counter on one line (carriage return, then erase to the end
of the line, the ANSI `EL` sequence), erased when the run ends so the report starts on a clean line.
`--quiet` prints nothing here: the report alone.

Where it goes: with `--output text` the report is for people, so progress shares stdout and reads
in order with it; with any machine format (`--output json`, `markdown`, `github`) stdout holds only
the document and progress goes to stderr, so a CI log shows both and stdout still parses.
Whether the stream is a terminal is asked of the stream progress is written to. `mutate`'s report
is short and read at the end, so its progress is always on stderr (`for_mutants`).
"""

from __future__ import annotations

import shutil
import sys
from types import TracebackType
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from orchestrator.report.tally import Tally, of_report, words

if TYPE_CHECKING:  # the runner pulls in the reconcilers; a reporter must stay light to import
    from orchestrator.prove.runner import StateResult

CLEAR_LINE = "\r\x1b[K"  # carriage return, then ANSI EL: erase from the cursor to the end of the line


def tally(passed: int, failed: int, errored: int = 0, skipped: int = 0) -> str:
    """`3 passed`, `3 passed, 1 failed`, `3 passed, 1 failed, 1 errored`: zero counts after passed are
    left out; the words of the summary and the JUnit totals (report/tally.py)."""
    return words(Tally(passed, failed, errored, skipped))


class Progress:
    """Counts finished units out of `total` and prints each as it finishes."""

    def __init__(self, total: int, stream: TextIO, is_tty: bool, quiet: bool = False, every: int = 1) -> None:
        self.total = total
        self.stream = stream
        self.is_tty = is_tty
        self.quiet = quiet
        #: Not on a terminal, a line per `every` units (and the last): mutants are many and quick.
        self.every = max(every, 1)
        self.done = 0
        self._live = False  # a counter is on the terminal's current line, to erase at the end

    def state_done(self, state: StateResult, seconds: float) -> None:
        """One policy state proved (runner.run_states' on_state)."""
        errored = sum(1 for v in state.verdicts if v.actual.errored)
        skipped = sum(1 for v in state.verdicts if v.skipped)
        passed = sum(1 for v in state.verdicts if v.passed)
        failed = len(state.verdicts) - passed - errored - skipped
        self._finished(f"state {state.name}", tally(passed, failed, errored, skipped), seconds)

    def scenario_done(self, outcome: dict[str, Any]) -> None:
        """One matrix scenario back from its worker (the plain data of matrix.worker.run_one)."""
        counts = of_report(outcome["report"])
        if outcome["error"]:  # the expectations proved before it stopped, then the scenario's own error
            first = str(outcome["error"]).splitlines()[0] if str(outcome["error"]).strip() else "error"
            before = f"{words(counts)}, then " if counts.tests else ""
            self._finished(outcome["name"], f"{before}errored ({first})", outcome["seconds"])
            return
        self._finished(outcome["name"], words(counts), outcome["seconds"])

    def mutants_done(self, counts: Mapping[str, int], seconds: float, what: str = "mutants decided") -> None:
        """One more mutant decided (analysis/mutate.py); `counts` so far by status, `seconds` since the first."""
        shown = ", ".join(f"{number} {status}" for status, number in counts.items() if number) or "none yet"
        self._finished(what, shown, seconds)

    def finish(self) -> None:
        """Erase the live counter (a terminal only); the report that follows starts its own line."""
        if self._live:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()
            self._live = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.finish()  # also when the run raises: a traceback must not start mid-counter

    def _finished(self, what: str, counts: str, seconds: float) -> None:
        self.done += 1
        if self.quiet or (not self.is_tty and self.done % self.every and self.done != self.total):
            return
        line = f"[{self.done}/{self.total}] {what}: {counts} in {seconds:.1f} s"
        if self.is_tty:
            # one line only: a counter wider than the terminal wraps, and \r returns to the wrap
            width = shutil.get_terminal_size().columns - 1
            self.stream.write(CLEAR_LINE + (line if len(line) <= width else line[:max(width - 1, 0)] + "…"))
            self._live = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def for_output(total: int, output: str, quiet: bool) -> Progress:
    """Progress for a command's `--output`: stdout beside a text report, stderr beside a document."""
    stream = sys.stdout if output == "text" else sys.stderr
    return Progress(total, stream, _is_tty(stream), quiet)


def for_mutants(total: int, quiet: bool, every: int = 10) -> Progress:
    """mutate's progress: on stderr whatever the output (a run of many mutants is silent otherwise);
    off a terminal, a line per `every` mutants."""
    return Progress(total, sys.stderr, _is_tty(sys.stderr), quiet, every)


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


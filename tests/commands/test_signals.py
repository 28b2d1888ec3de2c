"""SIGTERM and SIGINT raise in the main thread, once, while a command runs; the handlers before
come back afterwards; exit codes are 128 + the signal, as a shell reports them."""

from __future__ import annotations

import pickle
import signal
import threading

import pytest

from orchestrator.commands.signals import Terminated, exit_code, raising_on_stop


def test_sigterm_raises_terminated_and_finally_blocks_run() -> None:
    cleaned = []
    with pytest.raises(Terminated) as stopped, raising_on_stop():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            cleaned.append(True)
    assert cleaned == [True]
    assert exit_code(stopped.value) == 143 and str(stopped.value) == "SIGTERM"


def test_sigint_raises_keyboard_interrupt_exit_130() -> None:
    with pytest.raises(KeyboardInterrupt) as stopped, raising_on_stop():
        signal.raise_signal(signal.SIGINT)
    assert exit_code(stopped.value) == 130


def test_a_second_signal_does_not_cut_the_cleanup_short() -> None:
    steps = []
    with pytest.raises(Terminated), raising_on_stop():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)
            steps.append("cleanup finished")
    assert steps == ["cleanup finished"]


def test_handlers_are_restored_and_other_threads_leave_them_alone() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    with raising_on_stop():
        assert signal.getsignal(signal.SIGTERM) is not before[signal.SIGTERM]
    assert {s: signal.getsignal(s) for s in before} == before

    seen = []

    def in_a_thread() -> None:
        with raising_on_stop():
            seen.append(signal.getsignal(signal.SIGTERM))

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert seen == [before[signal.SIGTERM]]


def test_terminated_crosses_process_boundaries() -> None:
    """ProcessPoolExecutor (matrix) sends a worker's exception back pickled."""
    copy = pickle.loads(pickle.dumps(Terminated(signal.SIGTERM)))
    assert isinstance(copy, Terminated) and copy.exit_code == 143


def test_a_terminated_that_a_library_wrapped_is_still_a_stop() -> None:
    """pydantic (and others) catch everything while they build: the exit must still be 143."""
    from orchestrator.commands.signals import Terminated, stopped_by

    try:
        try:
            raise Terminated(15)
        except BaseException as caught:
            raise ValueError("wrapped") from caught
    except ValueError as wrapped:
        assert isinstance(stopped_by(wrapped), Terminated)
    assert stopped_by(ValueError("plain")) is None

"""One writer at a time per world: an advisory lock for the commands that change a world.

Two applies of one scenario (and run id) against one endpoint or account interleave their
states: one proves `denied` while the other has already granted, and both report failures the
scenario does not have. Terraform's answer is a state lock ("Error acquiring the state lock",
refused at once unless -lock-timeout says to wait); ours is an advisory `flock` on a file named
by the world, the scenario and the run id. The operating system releases it when its holder
exits or is killed, so an interrupted run never leaves a stale lock behind. The lock is local to
the machine: two machines driving one account are kept apart by `--run-id`, as before. The
embedded backend's world lives in its own process and needs no lock.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.backends.base import BackendError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock, as before
    fcntl = None  # type: ignore[assignment]


class LockHeld(BackendError):
    """Another orchestrate process is changing the same scenario and run in the same world."""


def lock_dir() -> Path:
    """Where lock files live: ORCHESTRATE_LOCK_DIR, else a per-user folder in the temp dir."""
    chosen = os.environ.get("ORCHESTRATE_LOCK_DIR")
    return Path(chosen) if chosen else Path(tempfile.gettempdir()) / f"orchestrate-locks-{os.getuid()}"


def lock_path(world: str, scenario: str, run: str) -> Path:
    digest = hashlib.sha256(f"{world}\0{scenario}\0{run}".encode()).hexdigest()[:32]
    return lock_dir() / f"{digest}.lock"


@contextmanager
def world_lock(world: str | None, scenario: str, run: str) -> Iterator[None]:
    """Hold the lock of (world, scenario, run) for the block; refuse at once if it is held."""
    if world is None or fcntl is None:
        yield
        return
    path = lock_path(world, scenario, run)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(descriptor, world, scenario, run)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock; the file stays, so no race on its name


def _acquire(descriptor: int, world: str, scenario: str, run: str) -> None:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
        raise LockHeld(f"another orchestrate process (pid {holder}) is changing scenario {scenario}"
                       f" (run {run}) on {world}; wait for it to finish, or give this one its own --run-id") from None
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)

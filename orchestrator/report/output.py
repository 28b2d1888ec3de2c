"""Every output file orchestrate writes (`--junit` of apply, run and matrix; `-o` of export,
import and access), written one way.

* Whole or not at all: the text goes to a temporary file beside the target, flushed to disk, then
  renamed onto it (rename(2) replaces a file atomically: POSIX, "rename"). A write that fails late
  (ENOSPC, an interrupt) leaves the old file as it was and no partial file behind.
* A character device or a named pipe (`-o /dev/stdout`, `/dev/null`, a FIFO) is written through,
  like standard output: there is no old file to keep whole, and renaming onto it would put a
  regular file in its place (as root, in place of /dev/null itself).
* Symbolic links: a link is followed to a file in its own folder; a link that leaves its folder
  is refused unless the command was asked to follow it (`--follow-symlinks`), and a dangling
  link is always refused, so that writing never creates a file where someone else's link points
  (CWE-59, "Improper Link Resolution Before File Access").
* The path is checked up front (`Output.check`), before a command does its work, where it can
  be: a directory, a missing folder, a folder or file without write permission, a refused link.
  The write checks again, and any failure is an OutputError: one message, exit 2 (invalid
  input), never a traceback and never exit 1, which says an expectation failed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from orchestrator.errors import InvalidInputError

#: Names that stand for one of the process's own open files: written through, whatever they
#: resolve to (a terminal, a pipe, or the file the shell redirected standard output to).
_OWN_STREAMS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")
Writer = Callable[[TextIO], object]


class OutputError(InvalidInputError):
    """An output path that cannot be written; the commands print it and exit 2."""


@dataclass(frozen=True)
class Output:
    """One output file: its path as given, what it holds (for messages) and the link policy."""

    path: str
    what: str
    follow_symlinks: bool = False

    def check(self) -> None:
        """Raise OutputError now if the path cannot be written (before a long run, not after)."""
        self._destination()

    def write_text(self, text: str) -> None:
        self.write(lambda stream: stream.write(text))

    def write(self, writer: Writer) -> None:
        """Write through ``writer`` (which gets a UTF-8 text stream), whole or not at all."""
        destination, through = self._destination()
        if through:
            self._write_through(destination, writer)
        else:
            self._replace(destination, writer)

    def _fail(self, reason: str) -> OutputError:
        return OutputError(f"{self.path}: cannot write {self.what}: {reason}")

    def _destination(self) -> tuple[Path, bool]:
        """The file to write and whether it is written through (a device, a pipe)."""
        path = Path(self.path)
        if _is_stream(path):
            return path, True
        if path.is_symlink():
            path = self._through_link(path)
        try:
            info: os.stat_result | None = path.stat()
        except FileNotFoundError:
            info = None
        except OSError as error:
            raise self._fail(error.strerror or str(error)) from None
        if info is not None:
            self._check_existing(path, info)
        self._check_folder(path.parent)
        return path, False

    def _through_link(self, link: Path) -> Path:
        target = Path(os.path.realpath(link))
        if not target.exists():
            raise self._fail(f"it is a symbolic link to {target}, which does not exist (refused: writing"
                             " through a dangling link would create a file where the link points)")
        if not self.follow_symlinks and target.parent != Path(os.path.realpath(link.parent)):
            raise self._fail(f"it is a symbolic link to {target}, outside its folder (refused;"
                             " --follow-symlinks writes there)")
        return target

    def _check_existing(self, path: Path, info: os.stat_result) -> None:
        if stat.S_ISDIR(info.st_mode):
            raise self._fail("Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise self._fail("not a regular file, a character device or a named pipe")
        if not os.access(path, os.W_OK):
            raise self._fail("Permission denied")

    def _check_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            raise self._fail(f"No such file or directory (no folder {folder})")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise self._fail(f"Permission denied (to write in the folder {folder})")

    def _write_through(self, path: Path, writer: Writer) -> None:
        """Appending, never truncating nor creating: `>> log` redirected to /dev/stdout keeps its lines."""
        try:
            with open(os.open(path, os.O_WRONLY | os.O_APPEND), "w", encoding="utf-8") as stream:
                writer(stream)
        except OSError as error:
            raise self._fail(error.strerror or str(error)) from None

    def _replace(self, destination: Path, writer: Writer) -> None:
        partial = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.partial")
        try:
            with open(_create(partial, destination), "w", encoding="utf-8") as stream:
                writer(stream)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(partial, destination)
        except OSError as error:
            raise self._fail(error.strerror or str(error)) from None
        finally:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)


def _is_stream(path: Path) -> bool:
    """One of the process's own streams, or a character device or FIFO (links followed)."""
    if str(path) in _OWN_STREAMS[:2] or str(path).startswith(_OWN_STREAMS[2:]):
        return True
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _create(partial: Path, destination: Path) -> int:
    """The temporary file, new (O_EXCL), with the mode of the file it replaces (else 0666 less the umask)."""
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if hasattr(os, "fchmod"):  # not on Windows before Python 3.13
            os.fchmod(descriptor, stat.S_IMODE(destination.stat().st_mode))
    except FileNotFoundError:
        pass  # a new file: the umask decided
    except OSError:
        os.close(descriptor)
        raise
    return descriptor

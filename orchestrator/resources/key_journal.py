"""The keys of a scenario and run whose ownership alias may be missing: a local journal.

A key is found through its ownership alias, and the account is not scanned when preflight finds
it fresh (kms_key.py). CreateKey and the CreateAlias that follows are two calls: a run killed
between them (Ctrl-C, SIGKILL, a lost connection) leaves a tagged key without its alias, in an
account that may hold nothing else of the run (a scenario of keys only, or keys and tables whose
tables come after). The next run would find the account fresh, miss that key and make another,
and destroy would never find the first. So the key's name is written here before CreateKey and
removed once its alias names it; while a name is here, the key is looked for by the scan.

The journal sits beside the world's lock file (backends/lock.py: same folder, same name, suffix
`.keys`), one name per line, rewritten whole through a temporary file and os.replace, so a kill
mid-write leaves the old journal or the new one. Apply and destroy hold the world's lock while
they write it. The embedded backend's world lives and dies with its process: no journal.
"""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.backends.lock import lock_path
from orchestrator.resources.context import DEFAULT_RUN, RunContext


def _path(ctx: RunContext) -> Path | None:
    world = (ctx.home_context or ctx).backend.world
    if world is None:
        return None
    return lock_path(world, ctx.scenario, ctx.run_id or DEFAULT_RUN).with_suffix(".keys")


def pending(ctx: RunContext) -> set[str]:
    """The key names whose creation began and whose ownership alias is not known to exist."""
    path = _path(ctx)
    if path is None:
        return set()
    try:
        return {line for line in path.read_text(encoding="utf-8").splitlines() if line}
    except FileNotFoundError:
        return set()


def begin(ctx: RunContext, name: str) -> None:
    """Before CreateKey: `name` may soon exist without its alias."""
    names = pending(ctx)
    if name not in names:
        _write(ctx, names | {name})


def done(ctx: RunContext, name: str) -> None:
    """The alias names the key (or no key of that name exists): the alias finds it again."""
    names = pending(ctx)
    if name in names:
        _write(ctx, names - {name})


def _write(ctx: RunContext, names: set[str]) -> None:
    path = _path(ctx)
    if path is None:
        return
    if not names:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_suffix(".keys.partial")
    partial.write_text("".join(f"{name}\n" for name in sorted(names)), encoding="utf-8")
    os.replace(partial, path)

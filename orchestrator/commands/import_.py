"""`orchestrate import TEMPLATE [-o FILE] [--max-bytes N] [--parameter NAME=VALUE ...]`: a
CloudFormation template as a scenario whose expectations the engine proposes (orchestrator/imports/).
Exit 0 written, 2 a template that is unreadable, larger than --max-bytes (5 MiB unless given,
checked before it is read) or not CloudFormation (one located message), a --parameter the
template does not declare or whose value is not one of its AllowedValues, or an output that cannot be written (checked before the
import; written whole or not at all, links leaving their folder refused without
--follow-symlinks: orchestrator/report/output.py), 1 if the result would not validate (a bug:
the importer leaves out what the loader refuses)."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.exit_codes import ExitCode
from orchestrator.imports import MAX_BYTES, ImportResult, ParameterError, TemplateError, import_template
from orchestrator.imports.parameters import parse_assignments
from orchestrator.imports.writer import dropped_lines, schema_reference
from orchestrator.report.output import Output, OutputError
from orchestrator.report.words import counted

#: The cycle collector's thresholds while importing (CPython's are 700, 10, 10; gc.set_threshold).
IMPORT_GC_THRESHOLDS = (10_000, 10, 10)


def run(args: argparse.Namespace) -> int:
    target = None if args.output_path in (None, "-") else Output(args.output_path, "the scenario", args.follow_symlinks)
    try:
        parameters = parse_assignments(getattr(args, "parameter", None) or [])
        if target is not None:
            target.check()
        schema = schema_reference(None if target is None else Path(target.path))
        with _fewer_cycle_collections():
            result = import_template(args.template, args.region, _max_bytes(args), parameters, schema)
        _report(result)
        problems = result.problems  # the loader's verdict on this very text (imports/validation.py)
        if target is not None:
            target.write_text(result.text)
    except (TemplateError, OutputError) as error:
        print(error.diagnostic if isinstance(error, TemplateError) else error, file=sys.stderr)
        return error.exit_code("import")
    except ParameterError as error:
        print(f"orchestrate import: {error}", file=sys.stderr)
        return error.exit_code("import")
    if problems:
        print(f"orchestrate import: the imported scenario does not validate (please report it):\n{problems}", file=sys.stderr)
        return ExitCode.FAILED
    if target is None:
        print(f"orchestrate import: the $schema modeline names {schema} (standard output: where the file will be"
              " is unknown); with -o FILE it is relative to FILE", file=sys.stderr)
        sys.stdout.write(result.text)
    else:
        print(f"{target.path}: imported {counted(len(result.scenario['states'][0]['expectations']), 'proposed expectation')}", file=sys.stderr)
    return ExitCode.OK


@contextmanager
def _fewer_cycle_collections() -> Iterator[None]:
    """The cycle collector runs less often during the import, then as it was. An import makes
    almost no cycles (on bench/imports.py's 5,000 resources its collections freed ~20 objects), yet
    every 700 allocations a young collection promoted the living temporaries, and the full
    collections that followed (~15) walked the growing heap: a third to a half of the import's
    time, growing faster than the template. With young collections every 10,000 allocations, two
    full ones are left. Not disabled (as analysis/access.py does for a matrix): a template is
    untrusted input, and the collector still bounds whatever cycles it makes."""
    before = gc.get_threshold()
    gc.set_threshold(*IMPORT_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _max_bytes(args: argparse.Namespace) -> int:
    given = getattr(args, "max_bytes", None)
    return MAX_BYTES if given is None else int(given)


def _report(result: ImportResult) -> None:
    if result.skipped:
        names = ", ".join(f"{logical} ({kind})" for logical, kind in result.skipped)
        print(f"orchestrate import: skipped resources of types orchestrate does not declare: {names}", file=sys.stderr)
    for line in dropped_lines(result.dropped):
        print(f"orchestrate import: dropped: {line}", file=sys.stderr)
    for note in result.notes:
        print(f"orchestrate import: note: {note}", file=sys.stderr)

"""`orchestrate schema [-o PATH]`: print (or write) the JSON Schema generated from the models. Exit
0, 2 an output path that cannot be written (checked and written as every output file is:
orchestrator/report/output.py)."""

from __future__ import annotations

import argparse
import sys

from orchestrator.model.schema import scenario_schema_text
from orchestrator.report.output import Output, OutputError


def run(args: argparse.Namespace) -> int:
    path = getattr(args, "output_path", None)
    if path in (None, "-"):
        sys.stdout.write(scenario_schema_text())
        return 0
    target = Output(path, "the schema", getattr(args, "follow_symlinks", False))
    try:
        target.check()
        target.write_text(scenario_schema_text())
    except OutputError as error:
        print(error, file=sys.stderr)
        return error.exit_code("schema")
    return 0

"""`orchestrate schema`: print the JSON Schema generated from the models."""

from __future__ import annotations

import argparse
import sys

from orchestrator.model.schema import scenario_schema_text


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(scenario_schema_text())
    return 0

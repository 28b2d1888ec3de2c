"""Command-line options shared by the reconciling commands (kept light: the parser imports it)."""

from __future__ import annotations

import argparse


def add_target_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where to act")
    group.add_argument("--target", choices=["embedded", "aws"], default="embedded", help="embedded moto (default) or real AWS")
    group.add_argument("--endpoint-url", help="an AWS-compatible endpoint (orchestrate serve, moto, LocalStack); also AWS_ENDPOINT_URL")
    group.add_argument("--profile", help="AWS profile for --target aws")
    group.add_argument("--region", help="overrides the scenario's region")
    group.add_argument("--account", help="the account id real AWS must have (overrides the scenario's `account`)")
    group.add_argument("--run-id", help="prefix for physical names, so parallel runs do not collide")
    group.add_argument("--adopt", action="store_true", help="take over same-named resources the scenario does not own")


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=["text", "json"], default="text", help="output format (default: text)")
    parser.add_argument("--no-color", action="store_true", help="no colour (NO_COLOR is honoured too)")

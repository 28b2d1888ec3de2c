"""A lean start (issue 14, item 4): the light commands import only what they use.

Each check runs a fresh interpreter (``python -c``) that drives the command through
``orchestrator.cli.main`` as the console script does, then lists the heavy packages found in
``sys.modules``: `simulate` needs neither the AWS SDK (boto3, botocore), nor moto, nor pydantic
(it builds no scenario model); `validate` builds models (pydantic and yaml are its job) but
talks to no AWS, so neither boto3, botocore nor moto.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "scenarios" / "kms-dynamodb-access.yaml"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

_PROBE = """
import contextlib, io, json, sys
from orchestrator.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main({argv!r})
print(json.dumps([code, out.getvalue().count("\\n"), sorted(m for m in {heavy!r} if m in sys.modules)]))
"""


def _imported(argv: list[str], heavy: tuple[str, ...], stdin: str = "") -> tuple[int, int, list[str]]:
    """(exit code, lines printed, the heavy packages imported) of one command in a fresh process."""
    code = _PROBE.format(argv=argv, heavy=heavy)
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=ROOT, check=True)
    code_, lines, heavy_found = json.loads(done.stdout.strip().splitlines()[-1])
    return int(code_), int(lines), list(heavy_found)


def _request(table: str) -> str:
    identity = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": KEY,
                                                        "Condition": {"StringEquals": {"kms:ViaService": f"{table}.example"}}}]}
    key_policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                          "Action": "kms:*", "Resource": "*"}]}
    return json.dumps({"PolicyInputList": [json.dumps(identity)], "ActionNames": ["kms:Decrypt"], "ResourceArns": [KEY],
                       "ResourcePolicy": json.dumps(key_policy), "CallerArn": "arn:aws:iam::123456789012:user/tester"})


def test_simulate_imports_neither_the_aws_sdk_nor_moto_nor_pydantic() -> None:
    stdin = "".join(_request(f"t{i}") + "\n" for i in range(3))
    code, lines, heavy = _imported(["simulate", "-"], ("boto3", "botocore", "moto", "pydantic", "yaml"), stdin)
    assert (code, lines) == (0, 3)
    assert heavy == [], f"orchestrate simulate imported {heavy}"


def test_simulate_from_a_file_stays_lean(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    path.write_text(_request("orders") + "\n")
    code, lines, heavy = _imported(["simulate", str(path)], ("boto3", "botocore", "moto"))
    assert (code, lines, heavy) == (0, 1, [])


def test_validate_imports_neither_the_aws_sdk_nor_moto() -> None:
    code, lines, heavy = _imported(["validate", str(SEED)], ("boto3", "botocore", "moto"))
    assert (code, lines) == (0, 1)
    assert heavy == [], f"orchestrate validate imported {heavy}"


def test_validate_json_stays_lean() -> None:
    code, _, heavy = _imported(["validate", str(SEED), "--output", "json"], ("boto3", "botocore", "moto"))
    assert (code, heavy) == (0, [])


def test_version_is_still_the_installed_package() -> None:
    from importlib.metadata import version

    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", "--version"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == f"orchestrate {version('orchestrate')}"

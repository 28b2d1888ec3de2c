"""Policies in full in plan, apply and drift (issue 22, item 1): a document pretty-printed, a change
to one as a structured diff of its JSON, statement by statement, never cut."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.reconcile.drift import Difference
from orchestrator.reconcile.plan import Action, PropertyChange, ResourceChange
from orchestrator.report.drift_text import render_drift
from orchestrator.report.json_diff import diff_lines, render
from orchestrator.report.plan_text import render_change
from orchestrator.report.style import Style

ROOT = Path(__file__).resolve().parents[2]
SSE_KMS = str(ROOT / "scenarios" / "s3-sse-kms.yaml")
PLAIN = Style(False)
ARN = "arn:aws:iam::123456789012:role/" + "a-role-with-a-long-path-" * 8


def statement(sid: str, action: list[str], principal: str = "arn:aws:iam::123456789012:root") -> dict[str, object]:
    return {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": [principal]}, "Action": action, "Resource": ["*"]}


def policy(*statements: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def stripped(lines: list[str]) -> list[str]:
    return [line.strip() for line in lines]


def test_plan_of_s3_sse_kms_shows_the_new_statement_whole(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", SSE_KMS, "--no-color"]) == 2
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if line.endswith("...")]
    step = out[out.index("State with-key-grant (2/3)"):out.index("State with-bucket-key")].splitlines()
    assert stripped(step[1:]) == [
        "~ kms_key.data", "~ policy = {", '~ "Statement": [', "# (2 unchanged elements hidden)",
        "+ {", '+ "Action": [', '+ "kms:Decrypt"', "+ ]",
        '+ "Condition": {', '+ "StringEquals": {', '+ "kms:ViaService": [', '+ "s3.us-east-1.amazonaws.com"', "+ ]", "+ }", "+ }",
        '+ "Effect": "Allow"', '+ "Principal": {', '+ "AWS": [', '+ "arn:aws:iam::123456789012:role/reader"', "+ ]", "+ }",
        '+ "Resource": [', '+ "*"', "+ ]", '+ "Sid": "ReaderDecryptViaS3"', "+ }",
        "]", "# (1 unchanged key hidden)", "}", "Plan: 1 to update.", ""]
    # a created resource's documents too, each statement line present
    assert '+ "Sid": "TrustTheAccount"' in stripped(out.splitlines())
    assert '+ "arn:aws:iam::123456789012:root"' in stripped(out.splitlines())


def test_a_changed_statement_shows_only_its_changes_with_its_sid() -> None:
    before = policy(statement("A", ["kms:Decrypt"]), statement("B", ["kms:Encrypt"]), statement("C", ["kms:Sign"]))
    after = policy(statement("A", ["kms:Decrypt"]), statement("B", ["kms:Encrypt", "kms:ReEncrypt*"], ARN),
                   statement("C", ["kms:Sign"]))
    change = ResourceChange("kms_key.data", Action.UPDATE, {"policy": before}, {"policy": after},
                            (PropertyChange("policy", before, after),))
    lines = render_change(change, PLAIN)
    assert lines[0] == "    ~ kms_key.data"
    assert lines[1:] == [
        "      ~ policy = {",
        '          ~ "Statement": [',
        "                # (1 unchanged element hidden)",
        "              ~ {",
        '                  ~ "Action": [',
        '                        "kms:Encrypt"',
        '                      + "kms:ReEncrypt*"',
        "                    ]",
        '                  ~ "Principal": {',
        '                      ~ "AWS": [',
        '                          - "arn:aws:iam::123456789012:root"',
        f'                          + "{ARN}"',
        "                        ]",
        "                    }",
        '                    "Sid": "B"',
        "                    # (2 unchanged keys hidden)",
        "                }",
        "                # (1 unchanged element hidden)",
        "            ]",
        "            # (1 unchanged key hidden)",
        "        }",
    ]


def test_a_removed_and_an_added_statement_are_whole_and_a_scalar_is_before_and_after() -> None:
    before = policy(statement("Old", ["s3:GetObject"]), statement("Kept", ["s3:ListBucket"]))
    after = policy(statement("Kept", ["s3:ListBucket"]), statement("New", ["s3:PutObject"]))
    text = stripped(render(diff_lines(before, after), PLAIN, ""))

    def whole(marker: str, sid: str, action: str) -> list[str]:
        return [f"{marker} {line}" for line in ("{", '"Action": [', f'"{action}"', "]", '"Effect": "Allow"', '"Principal": {',
                                                '"AWS": [', '"arn:aws:iam::123456789012:root"', "]", "}",
                                                '"Resource": [', '"*"', "]", f'"Sid": "{sid}"', "}")]
    assert text == ["~ {", '~ "Statement": [', *whole("-", "Old", "s3:GetObject"), "# (1 unchanged element hidden)",
                    *whole("+", "New", "s3:PutObject"), "]", "# (1 unchanged key hidden)", "}"]
    assert stripped(render(diff_lines({"enabled": True, "n": 1}, {"enabled": False, "n": 1}), PLAIN, "")) == [
        "~ {", '~ "enabled": true -> false', "# (1 unchanged key hidden)", "}"]


def test_drift_shows_values_whole_and_two_documents_as_a_diff() -> None:
    added = statement("OutOfBand", ["kms:Decrypt"], ARN)
    found = [Difference("kms_key.data", "policy.Statement[2]", None, added, "ADD", True),
             Difference("kms_key.data", "policy.Statement[0]", statement("A", ["kms:Decrypt"]),
                        statement("A", ["kms:Decrypt", "kms:Encrypt"]), "NOT_EQUAL"),
             Difference("kms_key.data", "description", "x" * 300, "y", "NOT_EQUAL")]
    text = render_drift("s", found, PLAIN)
    lines = text.splitlines()
    assert f'                      "{ARN}"' in lines and '              "Sid": "OutOfBand"' in lines
    assert "      expected: null" in lines and "      actual:" in lines
    at = lines.index("      expected -> actual:")
    assert stripped(lines[at + 1:at + 7]) == ["~ {", '~ "Action": [', '"kms:Decrypt"', '+ "kms:Encrypt"', "]", '"Sid": "A"']
    assert f'      expected: "{"x" * 300}"' in lines

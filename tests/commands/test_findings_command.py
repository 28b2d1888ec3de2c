"""`orchestrate findings`: text and JSON, --state with its new access over the state before it,
the exit codes (0 none, 1 findings unless --exit-zero, 2 bad input with its file and line)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PUBLIC_BUCKET = str(SCENARIOS / "public-bucket.yaml")


def test_json_lists_public_findings_and_new_access(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", PUBLIC_BUCKET, "--output", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    by_state = {state["name"]: state["findings"] for state in data["states"]}
    assert by_state["restrict-public-buckets"] == []
    public = [f for f in by_state["public-read"] if f["public"]]
    assert [(f["resource"], f["action"], f["location"]["statement"]) for f in public] == \
        [("bucket:public-site", "s3:GetObject", "PublicRead")]
    assert public[0]["witness"]["statements"]
    assert {(f["state"], f["class"]) for f in data["new_access"]} >= {("endpoint-only", "public")}
    endpoint = [f for f in by_state["endpoint-only"] if f["public"]][0]
    assert endpoint["conditions"] == {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}


def test_one_state_and_its_new_access_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", PUBLIC_BUCKET, "--state", "endpoint-only", "--exit-zero"]) == 0
    text = capsys.readouterr().out
    assert "state endpoint-only:" in text and "state public-read" not in text
    assert "new access:" in text and "public-bucket.yaml:" in text and "witness: arn:aws:" in text


def test_a_closed_scenario_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: closed\nregion: us-east-1\nusers:\n  reader: {}\nstates:\n  - name: only\n")
    assert main(["findings", str(path)]) == 0
    assert "0 findings" in capsys.readouterr().out


def test_bad_input_exits_2_with_its_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", PUBLIC_BUCKET, "--state", "nope"]) == 2
    assert "public-bucket.yaml:1:1: no state named 'nope'" in capsys.readouterr().err
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nregion: us-east-1\nusers: 3\nstates: []\n")
    assert main(["findings", str(path)]) == 2
    assert f"{path}:" in capsys.readouterr().err

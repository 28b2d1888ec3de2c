"""Validation of `roles:` and of expectations `as: role:NAME` / `via` (model/resources.py Role,
loader/references.py): located errors, exit 2 from the CLI, nothing applied.

IAM User Guide, "IAM JSON policy elements: Resource" (a role trust policy takes no Resource:
the role is the resource) and "Role terms and concepts" (trust policy: Principal required);
IAM API Reference, CreateRole (MaxSessionDuration 3600-43200, Path).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario

BASE = """\
name: roles
users:
  caller: {}
roles:
  reader:
    trust_policy:
      Statement:
        - Effect: Allow
          Principal: {AWS: user:caller}
          Action: sts:AssumeRole
keys:
  data:
    policy:
      Statement:
        - Effect: Allow
          Principal: {AWS: account}
          Action: kms:*
          Resource: "*"
states:
  - name: s
    expectations:
      - {as: role:reader, via: caller, action: kms:DescribeKey, resource: key:data, expect: allowed}
"""


def diagnostics(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(d).removeprefix(str(path) + ":") for d in caught.value.diagnostics]


def test_the_base_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE)
    loaded = load_scenario(path)
    assert loaded.scenario.states[0].expectations[0].role == "reader"


CASES = [
    ("a trust policy with Resource", ("          Action: sts:AssumeRole\n", "          Action: sts:AssumeRole\n          Resource: '*'\n"),
     "roles.reader.trust_policy", "a role trust policy cannot have Resource"),
    ("a trust statement without Principal", ("          Principal: {AWS: user:caller}\n", ""),
     "roles.reader.trust_policy", "needs Principal or NotPrincipal"),
    ("a trust policy naming an unknown user", ("user:caller}", "user:ghost}"),
     "roles.reader.trust_policy.Statement[0].Principal.AWS", "'user:ghost' names no user"),
    ("a session length AWS refuses", ("    trust_policy:\n", "    max_session_seconds: 60\n    trust_policy:\n"),
     "roles.reader.max_session_seconds", "greater than or equal to 3600"),
    ("a path without its slashes", ("    trust_policy:\n", "    path: data\n    trust_policy:\n"),
     "roles.reader.path", "should match pattern"),
    ("as names an unknown role", ("as: role:reader", "as: role:ghost"),
     "states[0].expectations[0].as", "'role:ghost' names no role of this scenario (known: reader)"),
    ("via names an unknown user", ("via: caller", "via: ghost"),
     "states[0].expectations[0].via", "'ghost' names no user of this scenario"),
    ("via without a role", ("as: role:reader, via: caller", "as: caller, via: caller"),
     "states[0].expectations[0].via", "via applies only to `as: role:NAME`"),
    ("sts:AssumeRole on something that is not a role", ("action: kms:DescribeKey, resource: key:data", "action: sts:AssumeRole, resource: key:data"),
     "states[0].expectations[0].resource", "sts:AssumeRole acts on a role, not a key"),
    ("sts:AssumeRole as a role session", ("action: kms:DescribeKey, resource: key:data", "action: sts:AssumeRole, resource: role:reader"),
     "states[0].expectations[0].as", "role chaining"),
    ("an unknown boundary policy", ("    trust_policy:\n", "    permissions_boundary: policy:ghost\n    trust_policy:\n"),
     "roles.reader.permissions_boundary", "'policy:ghost' names no policy"),
]


@pytest.mark.parametrize(("change", "where", "message"), [pytest.param(c[1], c[2], c[3], id=c[0]) for c in CASES])
def test_a_bad_role_or_role_expectation_is_a_located_error(tmp_path: Path, change: tuple[str, str], where: str, message: str) -> None:
    old, new = change
    assert old in BASE
    found = diagnostics(tmp_path, BASE.replace(old, new, 1))
    assert any(message in d and f"(at {where}" in d and d.split(":")[0].isdigit() for d in found), found


def test_the_cli_exits_2_and_applies_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(BASE.replace("as: role:reader", "as: role:ghost"))
    assert main(["apply", str(path)]) == 2
    captured = capsys.readouterr()
    assert "role:ghost" in captured.err and "Traceback" not in captured.err
    assert "iam_role" not in captured.out

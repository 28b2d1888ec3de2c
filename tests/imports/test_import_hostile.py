"""`orchestrate import` bounded like `validate` (issue 21): hostile templates are one located
message and exit 2, never a traceback, a hang or a silent misreading; conditions are evaluated
once each; the work grows with the template, not with its square. Behaviour only: no timings are
asserted (a signal.alarm guard keeps a regression from hanging the suite)."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.imports import MAX_BYTES, TemplateError, import_template, scenario_from_template
from orchestrator.imports.intrinsics import Resolver
from orchestrator.imports.template import read_template
from orchestrator.loader.builder import SourceError
from orchestrator.loader.source import read_stream

USER = "Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      UserName: alice\n"


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fails the test instead of hanging the suite (exponential work never finishes)."""
    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _import(tmp_path: Path, name: str, content: str | bytes, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    code = main(["import", str(path), *extra])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.replace(str(path), name)


# conditions ------------------------------------------------------------------------------
def _nested(depth: int, form: str) -> str:
    """C(n) names C(n-1) twice (once for Not): without a memo, 2^depth evaluations."""
    forms = {"and": "!And [!Condition C{p}, !Condition C{p}]", "or": "!Or [!Condition C{p}, !Condition C{p}]",
             "not": "!Not [!Condition C{p}]", "if": "!Equals [!If [C{p}, a, b], !If [C{p}, a, b]]"}
    lines = ["Parameters:", "  Env: {Type: String, Default: prod}", "Conditions:", "  C0: !Equals [!Ref Env, prod]"]
    lines += [f"  C{n}: " + forms[form].format(p=n - 1) for n in range(1, depth + 1)]
    lines += ["Resources:", "  U:", "    Type: AWS::IAM::User", f"    Condition: C{depth}",
              "    Properties:", "      UserName: alice", f"      Path: !If [C{depth}, /yes/, /no/]"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("form, holds", [("and", True), ("or", True), ("not", True), ("if", True)])
def test_conditions_nested_forty_deep_finish(tmp_path: Path, form: str, holds: bool) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text(_nested(40, form))
    with within(20):
        result = import_template(path)
    assert ("alice" in result.scenario.get("users", {})) is holds


def test_a_chain_of_a_thousand_conditions_is_no_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "chain.yaml"
    path.write_text(_nested(1000, "and"))
    with within(60):
        result = import_template(path)
    assert "alice" in result.scenario["users"]


def test_each_condition_is_evaluated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "nested.yaml"
    path.write_text(_nested(12, "and"))
    counted: dict[str, int] = {}
    evaluate = Resolver.evaluate

    def counting(self: Resolver, name: str) -> bool:
        counted[name] = counted.get(name, 0) + 1
        return evaluate(self, name)

    monkeypatch.setattr(Resolver, "evaluate", counting)
    scenario_from_template(read_template(path), "us-east-1")
    assert counted == {f"C{n}": 1 for n in range(13)}


def test_an_unknown_condition_is_noted_once_per_use_and_evaluated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = ("Conditions:\n  Base: !Equals [!ImportValue shared, x]\n  Both: !And [!Condition Base, !Condition Base]\n"
            "Resources:\n  U:\n    Type: AWS::IAM::User\n    Condition: Both\n")
    path = tmp_path / "unknown.yaml"
    path.write_text(text)
    counted: list[str] = []
    evaluate = Resolver.evaluate
    monkeypatch.setattr(Resolver, "evaluate", lambda self, name: counted.append(name) or evaluate(self, name))
    _, imported = scenario_from_template(read_template(path), "us-east-1")
    assert sorted(counted) == ["Base", "Both"]
    assert any("its condition is not known from the template" in note for note in imported.notes)


@pytest.mark.parametrize("conditions, where", [
    ("  A: !Condition B\n  B: !Not [!Condition A]\n", "3:3: conditions refer to each other in a circle: A -> B -> A"),
    ("  A: !Condition A\n", "3:3: conditions refer to each other in a circle: A -> A"),
    ("  A: !And [!Equals [a, a], !Condition B]\n  B: !Or [!Condition C, !Equals [a, b]]\n  C: !If [A, true, false]\n",
     "3:3: conditions refer to each other in a circle: A -> B -> C -> A"),
])
def test_a_cycle_among_conditions_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     conditions: str, where: str) -> None:
    text = "Description: cycle\nConditions:\n" + conditions + "Resources:\n  U:\n    Type: AWS::IAM::User\n    Condition: A\n"
    code, err = _import(tmp_path, "cycle.yaml", text, capsys)
    assert code == 2
    assert err.startswith(f"cycle.yaml:{where} (at Conditions.A)")


# size and linearity ----------------------------------------------------------------------
def _many(resources: int) -> dict[str, Any]:
    """Roles trusted by a service (no principals: nothing proposed) with a managed policy each."""
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    found: dict[str, Any] = {}
    for i in range(resources // 2):
        found[f"Role{i}"] = {"Type": "AWS::IAM::Role", "Properties": {"RoleName": f"r{i}", "AssumeRolePolicyDocument": trust}}
        found[f"Policy{i}"] = {"Type": "AWS::IAM::ManagedPolicy",
                               "Properties": {"Roles": [{"Ref": f"Role{i}"}], "PolicyDocument": document}}
    return {"Resources": found}


class CountingEntities(dict):  # type: ignore[type-arg]
    """The resolver's entities, counting how often they are walked whole."""

    walks = 0

    def values(self) -> Any:
        CountingEntities.walks += 1
        return super().values()


def test_five_thousand_resources_import_and_the_entities_are_walked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "many.json"
    path.write_text(json.dumps(_many(5000)))
    original = Resolver.__init__

    def counted(self: Resolver, body: Any, entities: Any, *args: Any, **kwargs: Any) -> None:
        original(self, body, CountingEntities(entities), *args, **kwargs)

    monkeypatch.setattr(Resolver, "__init__", counted)
    CountingEntities.walks = 0
    with within(120):
        result = import_template(path)
    assert len(result.scenario["roles"]) == 2500 and len(result.scenario["policies"]) == 2500
    assert CountingEntities.walks <= 2   # once per template, not once per policy document (5,000)


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:   # sparse: 50 MB that are never read
        stream.write(USER.encode())
        stream.truncate(50 * 1024 * 1024)
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"{path}: the file is larger than {MAX_BYTES:,} bytes (the limit; it is not read)\n"


def test_the_limit_is_overridable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    size = len(USER.encode())
    code, err = _import(tmp_path, "user.yaml", USER, capsys, "--max-bytes", str(size - 1))
    assert code == 2 and err == f"user.yaml: the file is larger than {size - 1:,} bytes (the limit; it is not read)\n"
    code, _ = _import(tmp_path, "user.yaml", USER, capsys, "--max-bytes", str(size))
    assert code == 0


def test_a_stream_is_read_to_one_byte_past_the_limit() -> None:
    assert read_stream(io.BytesIO(b"x" * 10), "<stdin>", 10) == b"x" * 10
    with pytest.raises(SourceError) as caught:
        read_stream(io.BytesIO(b"x" * 11), "<stdin>", 10)
    assert "larger than 10 bytes" in str(caught.value)


# what the reader refuses, located ---------------------------------------------------------
ALLOW_ALL = """Resources:
  P:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Deny
            Effect: Allow
            Action: "*"
            Resource: "*"
"""


def test_a_duplicate_key_is_refused_where_it_stands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _import(tmp_path, "dup.yaml", ALLOW_ALL, capsys)
    assert code == 2
    assert err == ("dup.yaml:8:13: duplicate key 'Effect' (each key may appear once in a mapping)"
                   " (at Resources.P.Properties.PolicyDocument.Statement[0].Effect)\n")


def test_a_json_duplicate_key_is_refused_where_it_stands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ('{"Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [\n'
            '  {"Effect": "Deny",\n   "Effect": "Allow", "Action": "*", "Resource": "*"}]}}}}}')
    code, err = _import(tmp_path, "dup.json", text, capsys)
    assert code == 2
    assert err.startswith("dup.json:3:4: duplicate key 'Effect'")
    assert "(at Resources.P.Properties.PolicyDocument.Statement[0].Effect)" in err


@pytest.mark.parametrize("name, text, where", [
    ("big.yaml", USER + "      Path: " + "9" * 5000 + "\n", "big.yaml:6:13:"),
    ("big.json", '{"Resources": {"U": {"Type": "AWS::IAM::User",\n  "Properties": {"Path": ' + "9" * 5000 + "}}}}", "big.json:2:26:"),
])
def test_an_integer_of_five_thousand_digits_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                               name: str, text: str, where: str) -> None:
    code, err = _import(tmp_path, name, text, capsys)
    assert code == 2
    assert err.startswith(f"{where} an integer of more than 300 characters is too large for any field (at Resources.U.Properties.Path)")


def test_a_nul_is_reported_at_its_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _import(tmp_path, "nul.yaml", "Resources:\n  U:\n    Type: AWS::IAM::\x00User\n", capsys)
    assert code == 2
    assert err.startswith("nul.yaml:3:21: the character U+0000 (a control character) is not allowed")


@pytest.mark.parametrize("content, where", [
    (USER.encode().replace(b"alice", b"caf\xe9"), "user.yaml:5:20:"),
    (b"\x00\x01\x02\xff\xfe binary", "user.yaml:1:4:"),
])
def test_a_file_that_is_not_utf8_is_positioned(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, where: str) -> None:
    code, err = _import(tmp_path, "user.yaml", content, capsys)
    assert code == 2
    assert err.startswith(f"{where} the file is not UTF-8 text (byte 0x")
    assert err.count("\n") == 1


def test_json_keeps_json_meaning(tmp_path: Path) -> None:
    """JSON is not read as YAML 1.1: `1e3` stays a number, a surrogate-pair escape one character."""
    path = tmp_path / "t.json"
    path.write_text('{"Resources": {"U": {"Type": "AWS::IAM::User", "Properties": {"N": 1e3, "D": "\\ud83d\\ude00"}}}}')
    assert read_template(path).resources["U"]["Properties"] == {"N": 1000.0, "D": "\U0001F600"}


def test_short_forms_in_a_flow_sequence_and_unknown_tags(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Resources:\n  U:\n    Type: AWS::IAM::User\n    Properties:\n      X: [!Ref A, !GetAtt B.Arn, !Sub '${C}']\n")
    assert read_template(path).resources["U"]["Properties"]["X"] == [{"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}, {"Fn::Sub": "${C}"}]
    path.write_text(USER + "      Path: !Bogus x\n")
    with pytest.raises(TemplateError) as caught:
        read_template(path)
    assert str(caught.value).startswith(f"{path}:6:13: the tag !Bogus is not a CloudFormation intrinsic function")

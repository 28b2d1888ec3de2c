"""Terraform export that Terraform's own tools accept (issue 22, item 5): the canonical layout of
`terraform fmt` (Terraform language, "Style Guide"), HCL's string escapes, a provider constraint
from the resource types written, the deploying region and account instead of the scenario's, and
bucket names that do not collide (S3 bucket names are global).

HashiCorp's formatter and parser (WebAssembly builds from the npm registry, .ci/node) check every
export in CI; where `terraform` (or `tofu`) is on PATH, `fmt -check` and `console` confirm the writer's rules;
without it those tests skip and the hand-written samples and the string decoder below still hold
the rules."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
from export_support import cases, exported

from orchestrator.export import export_state
from orchestrator.export.hcl import Block, Expr, jsonencode, quote, string
from orchestrator.export.terraform import PROVIDER_MINIMUM, provider_constraint
from orchestrator.loader import load_scenario

CASES = cases()
TOOL = shutil.which("terraform") or shutil.which("tofu")
needs_terraform = pytest.mark.skipif(TOOL is None, reason="neither terraform nor tofu is on PATH")

# Canonical samples, written as the Style Guide's examples are ("align the equals signs for
# consecutive arguments"; two spaces per nesting level; a nested block or a multi-line value
# ends a run of aligned arguments, whose own keys align among themselves).
SAMPLE_RESOURCE = '''resource "aws_instance" "web" {
  ami           = "ami-12345"
  instance_type = "t2.micro"
  tags = {
    "Name"        = "web"
    "Environment" = "dev"
  }
  count = 2
  network_interface {
    device_index         = 0
    network_interface_id = aws_network_interface.web.id
  }
  user_data = "x"
}'''

SAMPLE_POLICY = '''resource "aws_iam_user_policy" "read" {
  name = "read"
  user = aws_iam_user.tester.name
  policy = jsonencode({
    "Version" = "2012-10-17"
    "Statement" = [
      {
        "Effect"   = "Allow"
        "Action"   = ["s3:GetObject", "s3:ListBucket"]
        "Resource" = "*"
      },
      {
        "Effect" = "Deny"
        "Action" = "s3:DeleteObject"
        "Condition" = {
          "Bool" = {
            "aws:SecureTransport" = "false"
          }
        }
      },
    ]
  })
}'''


def _sample_resource() -> Block:
    return Block("resource", ["aws_instance", "web"], {
        "ami": "ami-12345", "instance_type": "t2.micro", "tags": {"Name": "web", "Environment": "dev"}, "count": 2,
        "network_interface": Block("network_interface", [], {
            "device_index": 0, "network_interface_id": Expr("aws_network_interface.web.id")}),
        "user_data": "x"})


def _sample_policy() -> Block:
    return Block("resource", ["aws_iam_user_policy", "read"], {
        "name": "read", "user": Expr("aws_iam_user.tester.name"), "policy": jsonencode({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})})


def test_the_writer_lays_out_as_the_style_guide() -> None:
    assert _sample_resource().render() == SAMPLE_RESOURCE
    assert _sample_policy().render() == SAMPLE_POLICY


def test_alignment_counts_characters_not_bytes() -> None:
    block = Block("locals", [], {"a": {"é": 1, "🔑x": 2, "abcd": 3}})
    assert block.render() == 'locals {\n  a = {\n    "é"    = 1\n    "🔑x"   = 2\n    "abcd" = 3\n  }\n}'


def _terraform(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(TOOL), *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120)


@needs_terraform
def test_terraform_fmt_leaves_the_samples_and_every_export_unchanged(tmp_path: Path) -> None:
    _every_export(tmp_path)
    done = _terraform(["fmt", "-check", "-list=true", "-diff", "-no-color", "."], tmp_path)
    assert done.returncode == 0, done.stdout[-3000:]



def _every_export(directory: Path) -> list[Path]:
    """The canonical samples, a Unicode block and every shipped scenario's every state, one file each."""
    (directory / "samples.tf").write_text(SAMPLE_RESOURCE + "\n\n" + SAMPLE_POLICY + "\n")
    (directory / "unicode.tf").write_text(Block("locals", [], {"a": {"é": 1, "🔑x": 2, "abcd": 3}}).render() + "\n")
    for number, (path, index, _) in enumerate(CASES):
        (directory / f"{path.stem}-{number}.tf").write_text(exported(path, index, "terraform").text)
    return sorted(directory.glob("*.tf"))


def test_hashicorps_formatter_leaves_every_export_unchanged(node_check: Callable[..., Any], tmp_path: Path) -> None:
    """HashiCorp's own formatter (hclwrite.Format, which `terraform fmt` applies), from the npm
    registry: runs in CI where terraform itself is not installed."""
    done = node_check("hclfmt", *_every_export(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_hashicorps_parser_reads_every_export(node_check: Callable[..., Any], tmp_path: Path) -> None:
    done = node_check("hclparse", *_every_export(tmp_path))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_hashicorps_formatter_and_parser_can_fail(node_check: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "loose.tf").write_text('locals {\n  a   = 1\n  bb = "\\ud83d"\n}\n')
    (tmp_path / "broken.tf").write_text("locals {\n  a = \n")
    assert node_check("hclfmt", tmp_path / "loose.tf").returncode == 1
    refused = node_check("hclparse", tmp_path / "broken.tf")
    assert refused.returncode == 1 and "broken.tf" in refused.stdout

# HCL's quoted string (hashicorp/hcl, hclsyntax spec, "Template Literals"/"String Literals"):
# escapes \n \r \t \" \\ \uNNNN \UNNNNNNNN only; `$${` and `%%{` stand for `${` and `%{`.
_PIECE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([nrt"\\]))|\$\$\{|%%\{|\$\{|%\{|[^\\]', re.S)


def hcl_string(quoted: str) -> str:
    """The text of an HCL quoted string with no interpolation; ValueError where HCL refuses it."""
    assert quoted.startswith('"') and quoted.endswith('"'), quoted
    out, position, inner = [], 0, quoted[1:-1]
    while position < len(inner):
        match = _PIECE.match(inner, position)
        if match is None:
            raise ValueError(f"invalid escape at {position} in {quoted}")
        piece = match.group(0)
        if match.group(1) or match.group(2):
            code = int(match.group(1) or match.group(2), 16)
            if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:  # not a character: HCL refuses it
                raise ValueError(f"invalid escape {piece} in {quoted}")
            out.append(chr(code))
        elif match.group(3):
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(match.group(3), match.group(3)))
        elif piece in ("${", "%{"):
            raise ValueError(f"a template sequence in {quoted}")
        else:
            out.append(piece[1:] if piece in ("$${", "%%{") else piece)
        position = match.end()
    return "".join(out)


TRICKY = ["key 🔑", 'say "hi"', "back\\slash", "${var.secret}", "%{ if true }x%{ endif }", "$${kept}",
          "line\nbreak\ttab\rreturn", "bell\b form\f nul\x00", "nbsp\u00a0zwj\u200d", "é and e\u0301", "\U0010fffd"]


@pytest.mark.parametrize("text", TRICKY)
def test_strings_use_hcl_escapes_only(text: str) -> None:
    written = string(text)
    assert hcl_string(written) == text
    assert "\\ud8" not in written.lower() and "\\b" not in written.replace("\\\\", "") and "\\f" not in written


def test_the_escapes_written() -> None:
    assert string("key 🔑") == '"key 🔑"'  # UTF-8 as is, never JSON's surrogate pair
    assert string('"${x}" %{y}') == '"\\"$${x}\\" %%{y}"'
    assert string("\b\x7f") == '"\\u0008\\u007f"'
    assert quote("a${b}", template=False) == '"a${b}"'


def test_the_decoder_refuses_what_hcl_refuses() -> None:
    for bad in ('"\\ud83d\\udd11"', '"\\b"', '"${x}"'):
        with pytest.raises(ValueError):
            hcl_string(bad)


@needs_terraform
def test_terraform_reads_each_string_as_written(tmp_path: Path) -> None:
    """`base64encode(STRING)` in terraform console is the base64 of the text's UTF-8 (HCL
    normalises a string literal to NFC, hclsyntax's scanner: `e` + U+0301 is read as `é`)."""
    for text in TRICKY:
        done = _terraform(["console"], tmp_path, stdin=f"base64encode({string(text)})\n")
        assert done.returncode == 0, done.stderr
        expected = unicodedata.normalize("NFC", text).encode()
        assert done.stdout.strip().strip('"') == base64.b64encode(expected).decode(), text


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) and value.startswith('"') and "${" not in value.replace("$${", "") else []


def test_every_exported_string_is_a_valid_hcl_string() -> None:
    for path, index, state in CASES:
        for text in _strings(hcl2.loads(exported(path, index, "terraform").text)):
            hcl_string(text)  # raises where HCL would refuse it


ODD = """name: odd-strings
region: eu-west-2
account: "111122223333"
users:
  tester:
    inline_policies:
      read:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: arn:aws:dynamodb:eu-west-2:111122223333:table/elsewhere
keys:
  data:
    description: "key 🔑 \\"quoted\\" ${var.x} %{if}"
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: {AWS: account}
          Action: "kms:*"
          Resource: "*"
          Condition:
            StringEquals:
              kms:ViaService: s3.eu-west-2.amazonaws.com
buckets:
  reports: {}
states:
  - name: only
"""


@pytest.fixture(scope="module")
def odd(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("odd") / "odd.yaml"
    path.write_text(ODD)
    return export_state(load_scenario(path), 0, "terraform").text


def test_non_bmp_and_template_characters_survive(odd: str) -> None:
    assert '"key 🔑 \\"quoted\\" $${var.x} %%{if}"' in odd and "\\ud83d" not in odd


def test_region_and_account_are_the_deploying_ones(odd: str) -> None:
    body = odd[odd.index("terraform {"):]  # the comment block may name them
    assert "eu-west-2" not in body and "111122223333" not in body
    assert '"s3.${data.aws_region.current.name}.amazonaws.com"' in body
    assert ('"arn:aws:dynamodb:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}'
            ':table/elsewhere"') in body
    assert 'data "aws_region" "current"' in body


def test_no_shipped_export_writes_the_scenario_region() -> None:
    for path, index, _ in CASES:
        text = exported(path, index, "terraform").text
        body = text[text.index("terraform {"):]
        region = load_scenario(path).scenario.region
        assert f".{region}." not in body and f":{region}:" not in body, path.stem


def _bucket_resources(text: str) -> list[dict[str, object]]:
    return [body for entry in hcl2.loads(text).get("resource", []) for kind, named in entry.items()
            if kind.strip('"') == "aws_s3_bucket" for body in named.values()]


def test_bucket_names_take_a_prefix_the_deployer_chooses() -> None:
    seen = 0
    for path, index, _ in CASES:
        text = exported(path, index, "terraform").text
        buckets = _bucket_resources(text)
        for body in buckets:
            assert str(body["bucket"]).startswith('"${var.bucket_prefix}'), (path.stem, body["bucket"])
            seen += 1
        if buckets:
            variable = next(v for v in hcl2.loads(text)["variable"] if '"bucket_prefix"' in v or "bucket_prefix" in v)
            assert "default" not in next(iter(variable.values()))  # no default: the deployer must choose
    assert seen


def test_the_provider_constraint_follows_the_types_written() -> None:
    assert provider_constraint(["aws_iam_user", "aws_s3_bucket"]) == ">= 5.0.0"
    assert provider_constraint(["aws_iam_user", "aws_dynamodb_resource_policy"]) == ">= 5.43.0"
    assert PROVIDER_MINIMUM["aws_dynamodb_resource_policy"] == (5, 43, 0)
    checked = 0
    for path, index, _ in CASES:
        text = exported(path, index, "terraform").text
        aws = hcl2.loads(text)["terraform"][0]["required_providers"][0]["aws"]
        version = hcl_string(aws['"version"'])
        if "aws_dynamodb_resource_policy" in text:
            assert version == ">= 5.43.0", path.stem
            checked += 1
    assert checked

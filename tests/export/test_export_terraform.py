"""Terraform export: the HCL of every shipped scenario and state parses with a real HCL parser
(python-hcl2), uses only documented resource types and arguments of the AWS provider
(export_provider_arguments.py), and, where `terraform` or `tofu` is on PATH with the AWS
provider at hand, passes `validate`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from export_provider_arguments import ARGUMENTS, META_ARGUMENTS, REQUIRED
from export_support import cases, exported

CASES = cases()


def _label(text: str) -> str:
    return text.strip('"')


def _resources(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    parsed = hcl2.loads(text)
    return [(_label(kind), _label(name), body) for entry in parsed.get("resource", [])
            for kind, named in entry.items() for name, body in named.items()]


def _unknown(body: dict[str, Any], allowed: dict[str, Any], where: str) -> list[str]:
    """Arguments and nested blocks of `body` that `allowed` does not document."""
    found = []
    for key, value in body.items():
        if key.startswith("__") or key in META_ARGUMENTS:
            continue
        if key not in allowed:
            found.append(f"{where}.{key}")
            continue
        if isinstance(allowed[key], dict):  # a nested block: parsed as a list of blocks
            blocks = value if isinstance(value, list) else [value]
            if not all(isinstance(b, dict) and b.get("__is_block__") for b in blocks):
                found.append(f"{where}.{key} (expected a block)")
            for block in blocks:
                found += _unknown(block, allowed[key], f"{where}.{key}") if isinstance(block, dict) else []
    return found


def test_every_configuration_parses_and_uses_documented_arguments() -> None:
    problems: list[str] = []
    for path, index, state in CASES:
        for kind, name, body in _resources(exported(path, index, "terraform").text):
            where = f"{path.stem}:{state}: {kind}.{name}"
            if kind not in ARGUMENTS:
                problems.append(f"{where}: resource type not in the table")
                continue
            problems += _unknown(body, ARGUMENTS[kind], where)
            missing = REQUIRED.get(kind, frozenset()) - set(body)
            problems += [f"{where}: required argument {m} missing" for m in sorted(missing)]
    assert problems == []


def test_references_are_resource_attributes() -> None:
    path, index, _ = next(c for c in CASES if c[0].stem == "kms-grant")
    resources = {(kind, name): body for kind, name, body in _resources(exported(path, index, "terraform").text)}
    grant = resources[("aws_kms_grant", "data_orders-reader")]
    assert grant["grantee_principal"] == "${aws_iam_user.reader.arn}"
    assert grant["key_id"] == "${aws_kms_key.data.key_id}"
    assert _label(grant["name"]) == "orchestrate/orders-reader"
    for path, index, _ in CASES:
        text = exported(path, index, "terraform").text
        assert "123456789012" not in text and "user/moto" not in text


def test_terraform_says_what_cloudformation_cannot() -> None:
    """Seed items, grants and objects are resources in Terraform: no note for them."""
    kinds = {kind for path, index, _ in CASES for kind, _, _ in _resources(exported(path, index, "terraform").text)}
    assert {"aws_dynamodb_table_item", "aws_kms_grant", "aws_s3_object", "aws_dynamodb_resource_policy"} <= kinds
    for path, index, _ in CASES:
        notes = exported(path, index, "terraform").notes
        assert not [n for n in notes if n.path == "items" or n.address.startswith(("kms_grant.", "s3_objects."))
                    and not n.reason.startswith("lives in")]


def _terraform() -> str | None:
    return shutil.which("terraform") or shutil.which("tofu")


def _plugin_dir() -> str | None:
    """A local provider mirror (offline machines): ORCHESTRATE_TF_PLUGIN_DIR, else a known one."""
    for candidate in (os.environ.get("ORCHESTRATE_TF_PLUGIN_DIR"), "/opt/tf-plugins"):
        if candidate and Path(candidate).is_dir():
            return candidate
    return None


def _organization_inputs(text: str) -> dict[str, str]:
    """Values for the organization's and the endpoints' variables without a default (terraform_org.py)."""
    inputs = {}
    for name in re.findall(r'^variable "([^"]+)" \{\n(?:(?!^\}).)*?^\}', text, re.M | re.S):
        block = text[text.index(f'variable "{name}"'):].split("\n}\n", 1)[0]
        if "default" in block or name in ("key_manager_arn", "bucket_prefix"):
            continue
        if name == "organizational_unit_ids":
            units = sorted(set(re.findall(r'var\.organizational_unit_ids\["([^"]+)"\]', text)))
            inputs[name] = "{ " + ", ".join(f'"{unit}" = "ou-abcd-{n:08d}"' for n, unit in enumerate(units)) + " }"
        elif name.startswith(("route_table_ids_", "subnet_ids_")):
            inputs[name] = '["rtb-0123456789abcdef0"]' if name.startswith("route") else '["subnet-0123456789abcdef0"]'
        else:
            inputs[name] = {"organization_id": '"o-exampleorg1"', "organization_root_id": '"r-abcd"'}.get(
                name, '"vpc-0123456789abcdef0"')
    return inputs


@pytest.mark.skipif(_terraform() is None, reason="neither terraform nor tofu is on PATH")
def test_terraform_validate(tmp_path: Path) -> None:
    """Every configuration as a module of one root, so one init and one validate check them all."""
    modules = []
    for number, (path, index, _) in enumerate(CASES):
        folder = tmp_path / f"m{number}"
        folder.mkdir()
        text = exported(path, index, "terraform").text
        (folder / "main.tf").write_text(text)
        inputs = {"source": f'"./m{number}"'}
        if 'variable "key_manager_arn"' in text:
            inputs["key_manager_arn"] = '"arn:aws:iam::111122223333:role/deployer"'
        if 'variable "bucket_prefix"' in text:
            inputs["bucket_prefix"] = '"orchestrate-test-"'
        inputs.update(_organization_inputs(text))
        width = max(len(name) for name in inputs)
        lines = "".join(f"  {name.ljust(width)} = {value}\n" for name, value in inputs.items())
        modules.append(f'module "m{number}" {{\n{lines}}}\n')
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "us-east-1"\n}\n\n' + "\n".join(modules))
    tool = str(_terraform())
    init = [tool, "init", "-backend=false", "-input=false", "-no-color"]
    if _plugin_dir():
        init.append(f"-plugin-dir={_plugin_dir()}")
    env = {**os.environ, "TF_IN_AUTOMATION": "1"}
    done = subprocess.run(init, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        pytest.skip(f"{tool} init could not get the AWS provider (offline?): {done.stderr.strip()[-300:]}")
    done = subprocess.run([tool, "validate", "-no-color"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr

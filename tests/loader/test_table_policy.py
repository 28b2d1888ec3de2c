"""Validation of `tables.NAME.policy` (orchestrator/loader/table_policy.py and references.py).

IAM User Guide, "IAM JSON policy elements: Resource" (every statement names its resources) and
"AWS JSON policy elements: Principal" (a resource-based policy names its principals); DynamoDB
Developer Guide, "DynamoDB resource-based policy examples" (the Resource must match the table).
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.loader.table_policy import MANAGEMENT_ACTIONS
from orchestrator.resources.dynamodb_table import DynamoDBTable

HEAD = """\
name: tp
users:
  reader: {}
tables:
  orders:
    partition_key: {name: id}
  other:
    partition_key: {name: id}
"""


def write(tmp_path: Path, policy: str, states: str = "states: [{name: s}]\n") -> Path:
    body = HEAD.replace("  other:", "    policy:\n" + textwrap.indent(textwrap.dedent(policy), " " * 6) + "  other:")
    path = tmp_path / "scenario.yaml"
    path.write_text(body + states)
    return path


def diagnostics(tmp_path: Path, policy: str, states: str = "states: [{name: s}]\n") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, policy, states))
    return [str(d).removeprefix(str(tmp_path / "scenario.yaml") + ":") for d in caught.value.diagnostics]


def statement(**fields: str) -> str:
    base = {"Effect": "Allow", "Principal": '{AWS: "user:reader"}', "Action": "dynamodb:GetItem",
            "Resource": "table:orders"} | fields
    lines = [f"{name}: {value}" for name, value in base.items() if value != "-"]
    return "Statement:\n  - " + "\n    ".join(lines) + "\n"


def test_a_valid_policy_loads_with_references(tmp_path: Path) -> None:
    policy = statement() + "  - {Effect: Allow, Principal: {AWS: account}, Action: 'dynamodb:Query', Resource: '*'}\n"
    loaded = load_scenario(write(tmp_path, policy))
    assert [s.resource for s in loaded.desired[0].tables["orders"].policy.statements()] == ["table:orders", "*"]


@pytest.mark.parametrize(("fields", "expected"), [
    ({"Principal": "-"}, "8:7: each statement of a resource-based policy needs Principal or NotPrincipal"
                         " (at tables.orders.policy)"),
    ({"Resource": "-"}, "9:11: each statement of a table policy needs Resource or NotResource (IAM User Guide,"
                        " \"IAM JSON policy elements: Resource\"): 'table:orders', the table's ARN, or '*'"
                        " (at tables.orders.policy.Statement[0])"),
    ({"Principal": '{AWS: "user:ghost"}'}, "10:28: 'user:ghost' names no user of this scenario (known: reader)"
                                           " (at tables.orders.policy.Statement[0].Principal.AWS)"),
    ({"Resource": "table:other"}, "12:21: 'table:other' is not this table: a table policy takes effect only for"
                                  " the ARN of the table it is attached to (DynamoDB Developer Guide, \"DynamoDB"
                                  " resource-based policy examples\"); use 'table:orders' or '*'"
                                  " (at tables.orders.policy.Statement[0].Resource)"),
    ({"Resource": "key:data"}, "12:21: 'key:data' names no key of this scenario (there are none)"
                               " (at tables.orders.policy.Statement[0].Resource)"),
    ({"Resource": "table:ghost"}, "12:21: 'table:ghost' names no table of this scenario (known: orders, other)"
                                  " (at tables.orders.policy.Statement[0].Resource)"),
    ({"Principal": '{AWS: "table:other"}'}, "10:28: 'table:other' cannot be used here: expected user:NAME or role:NAME or account:NAME or session:ROLE/NAME"
                                            " (at tables.orders.policy.Statement[0].Principal.AWS)"),
])
def test_bad_statements_are_located(tmp_path: Path, fields: dict[str, str], expected: str) -> None:
    assert diagnostics(tmp_path, statement(**fields)) == [expected]


@pytest.mark.parametrize("principal", ['"*"', "{AWS: account}", "{AWS: '123456789012'}", "{AWS: '*'}"])
def test_an_account_wide_deny_of_management_is_refused(tmp_path: Path, principal: str) -> None:
    """It would deny orchestrate DescribeTable, PutResourcePolicy, DeleteTable: the table would be stuck."""
    [message] = diagnostics(tmp_path, statement(Effect="Deny", Principal=principal, Action="'dynamodb:*'"))
    assert message.startswith("9:11: this Deny applies to every principal of the account, orchestrate included,"
                              " for dynamodb:DescribeTable, dynamodb:UpdateTable, dynamodb:DeleteTable,")
    assert message.endswith("(at tables.orders.policy.Statement[0])")


def test_not_principal_and_not_action_denies_count_what_they_leave_in(tmp_path: Path) -> None:
    policy = statement(Effect="Deny", Principal="-", NotPrincipal='{AWS: "user:reader"}', Action="-",
                       NotAction="['dynamodb:Describe*', 'dynamodb:*Item', 'dynamodb:*Tag*', 'dynamodb:*Table']")
    [message] = diagnostics(tmp_path, policy)
    assert "for dynamodb:GetResourcePolicy, dynamodb:PutResourcePolicy, dynamodb:DeleteResourcePolicy:" in message


@pytest.mark.parametrize("fields", [
    {"Effect": "Deny", "Principal": '{AWS: "user:reader"}', "Action": "'dynamodb:*'"},   # names whom it denies
    {"Effect": "Deny", "Principal": '"*"', "Action": "dynamodb:Scan"},                  # not a management action
    {"Effect": "Deny", "Principal": '"*"', "Action": "'dynamodb:*'",
     "Condition": "{StringEquals: {'aws:PrincipalTag/team': blocked}}"},                # conditioned: AWS decides
])
def test_denies_that_spare_orchestrate_are_accepted(tmp_path: Path, fields: dict[str, str]) -> None:
    assert load_scenario(write(tmp_path, statement(**fields))).desired[0].tables["orders"].policy is not None


def test_a_state_patch_is_checked_at_its_own_position(tmp_path: Path) -> None:
    states = textwrap.dedent("""\
        states:
          - name: s
          - name: t
            patch:
              tables:
                orders:
                  policy:
                    Statement:
                      Everyone: {Effect: Deny, Principal: "*", Action: "dynamodb:*", Resource: "*"}
        """)
    [message] = diagnostics(tmp_path, statement(Sid="ReaderGet"), states)
    assert message.startswith("24:25: this Deny applies to every principal")
    assert message.endswith("(at states[1].patch.tables.orders.policy.Statement.Everyone)")


def test_the_lockout_check_knows_every_table_action_the_reconciler_calls() -> None:
    called = {p for p in DynamoDBTable.permissions if p.startswith("dynamodb:") and p != "dynamodb:CreateTable"}
    assert set(MANAGEMENT_ACTIONS) == called


@pytest.mark.parametrize("principal", ['"*"', "{AWS: '*'}"])
def test_a_public_allow_is_refused(tmp_path: Path, principal: str) -> None:
    """"Blocking public access with resource-based policies in DynamoDB": DynamoDB refuses the policy."""
    [message] = diagnostics(tmp_path, statement(Principal=principal))
    assert message == ("9:11: this Allow grants public access (Principal \"*\" without a condition on a trusted key"
                       " such as aws:PrincipalAccount or aws:PrincipalArn): DynamoDB refuses to attach such a policy"
                       " (DynamoDB Developer Guide, \"Blocking public access with resource-based policies in DynamoDB\")."
                       " Name the principals (user:NAME, account) or add such a condition"
                       " (at tables.orders.policy.Statement[0])")


@pytest.mark.parametrize("condition", ["{StringEquals: {'aws:PrincipalAccount': '123456789012'}}",
                                       "{ArnLike: {'aws:PrincipalArn': 'user:reader'}}"])
def test_a_star_principal_restricted_by_a_trusted_key_is_not_public(tmp_path: Path, condition: str) -> None:
    loaded = load_scenario(write(tmp_path, statement(Principal='"*"', Condition=condition)))
    assert loaded.desired[0].tables["orders"].policy.statements()[0].principal == "*"


def test_a_star_principal_with_another_condition_is_still_public(tmp_path: Path) -> None:
    [message] = diagnostics(tmp_path, statement(Principal='"*"', Condition="{Bool: {'aws:SecureTransport': 'true'}}"))
    assert "grants public access" in message

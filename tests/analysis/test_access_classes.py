"""The access matrix's rows for the principals nobody named (analysis/access_classes.py): anyone in
each scenario account, anywhere, anonymous; each cell allowed for some (with a witness, concrete) or
denied for all (proved by the symbolic engine); and drift's wording when a `Principal: "*"` opens a
key ("anyone gained kms:Decrypt on key:data (public)")."""
from __future__ import annotations


import pytest

from orchestrator.analysis.access import access_matrix
from orchestrator.analysis.access_classes import ANONYMOUS_ANYONE, ANYONE, UNDECIDED, in_account
from orchestrator.loader import load_scenario
from orchestrator.model.access import Column, StateMatrix
from orchestrator.reconcile.drift import access_differences

SCENARIO = """\
name: classes-small
region: us-east-1
accounts:
  partner: "210987654321"
users:
  reader: {}
keys:
  data:
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: Reader, Effect: Allow, Principal: {AWS: user:reader}, Action: "kms:Decrypt", Resource: "*"}
        - {Sid: Admin, Effect: Allow, Principal: {AWS: orchestrate}, Action: "kms:*", Resource: "*"}
states:
  - name: closed
  - name: opened
    patch:
      keys:
        data:
          policy:
            Statement:
              Anyone: {Effect: Allow, Principal: "*", Action: "kms:Decrypt", Resource: "*"}
"""
DECRYPT = Column("key:data", "kms:Decrypt")


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> list[StateMatrix]:
    path = tmp_path_factory.mktemp("classes") / "s.yaml"
    path.write_text(SCENARIO)
    loaded = load_scenario(path)
    names = [state.name for state in loaded.scenario.states]
    return access_matrix("classes-small", "us-east-1", loaded.desired, names, [[], []]).states


def test_the_named_rows_come_first_then_a_row_per_class(states: list[StateMatrix]) -> None:
    closed = states[0]
    assert closed.principals[:1] == ["reader"]
    assert closed.classes == [in_account("home"), in_account("partner"), ANYONE, ANONYMOUS_ANYONE]
    assert closed.principals[1:] == closed.classes


def test_a_closed_key_is_denied_for_all_but_the_named(states: list[StateMatrix]) -> None:
    closed = states[0]
    assert closed.cell("reader", DECRYPT).allowed
    assert not closed.cell(in_account("home"), DECRYPT).allowed  # the reader is named: not in the class
    assert not closed.cell(ANYONE, DECRYPT).allowed
    assert not closed.cell(in_account("home"), Column("key:data", "kms:DescribeKey")).allowed  # nor orchestrate
    partner = closed.cell(in_account("partner"), DECRYPT)
    assert not partner.allowed and partner.error is None and "proved" in partner.reason
    assert not closed.cell(ANONYMOUS_ANYONE, DECRYPT).allowed


def test_principal_star_opens_the_key_to_the_partner_with_a_witness(states: list[StateMatrix]) -> None:
    opened = states[1]
    partner = opened.cell(in_account("partner"), DECRYPT)
    assert partner.allowed and "210987654321" in partner.reason
    assert any(ref.sid == "Anyone" for ref in partner.statements)
    assert opened.cell(ANYONE, DECRYPT).public
    anonymous = opened.cell(ANONYMOUS_ANYONE, DECRYPT)  # Principal "*" names it, but KMS takes no unsigned request
    assert not anonymous.allowed and "only S3" in anonymous.reason


def test_retire_grant_is_undecided_never_denied(states: list[StateMatrix]) -> None:
    cell = states[0].cell(in_account("partner"), Column("key:data", "kms:RetireGrant"))
    assert cell.error == UNDECIDED and cell.label == "undecided" and not cell.allowed


def test_drift_reads_a_principal_star_as_the_public_gaining_access(states: list[StateMatrix]) -> None:
    words = [d.words() for d in access_differences(states[0], states[1]) if d.actual.principal in states[1].classes]
    assert "anyone gained kms:Decrypt on key:data (public) (by statement Anyone)" in words
    assert "anyone in account:partner gained kms:Decrypt on key:data (by statement Anyone)" in words

"""`guarantees:` under a state (issue 24; model/scenario.py Guarantee,
loader/guarantee_checks.py): accepted when every reference holds, each refusal one located message,
`validate` exits 2."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from loader_mutants import VALUES, mutate, run_validate

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario

BASE = """\
name: guarded
accounts: {partner: "210987654321"}
users:
  admin: {}
roles:
  reader:
    trust_policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: sts:AssumeRole}]}
keys:
  data:
    policy: {Statement: [{Effect: Allow, Principal: {AWS: account}, Action: "kms:*", Resource: "*"}]}
tables:
  orders:
    partition_key: {name: order_id}
    encryption: key:data
buckets:
  site: {}
states:
  - name: s
    guarantees:
"""
GOOD = """\
      - resource: table:orders
        actions: [dynamodb:GetItem, dynamodb:Query, dynamodb:Scan]
        only: [user:admin, role:reader, session:reader/nightly, account:partner, account:home, orchestrate]
        description: the orders stay in-house
      - {resource: key:data, actions: [kms:Decrypt], no_access_from: outside-account}
      - {resource: object:site/*, actions: [s3:GetObject, s3:PutObject], no_access_from: public}
      - {resource: bucket:site, actions: [s3:ListBucket], only: []}
      - {resource: role:reader, actions: [sts:AssumeRole], only: [user:admin]}
"""
ORGANIZATION = "organization: {}\n"


def write(tmp_path: Path, guarantees: str, head: str = "") -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(head + BASE + guarantees, encoding="utf-8")
    return path


def refusals(tmp_path: Path, guarantees: str, head: str = "") -> list[tuple[int, int, str, str]]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(write(tmp_path, guarantees, head))
    return [(d.line, d.col, ".".join(map(str, d.path)), d.message) for d in caught.value.diagnostics]


FIRST = len(BASE.splitlines()) + 1  # the line of the first guarantee


def column(guarantee: str, at: str) -> int:
    """The 1-based column of the last `at` in the guarantee, written as `      - {guarantee}`."""
    return len("      - ") + guarantee.rindex(at) + 1


def test_guarantees_of_every_form_load_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loaded = load_scenario(write(tmp_path, GOOD))
    [table, key, objects, bucket, role] = loaded.scenario.states[0].guarantees
    assert table.only == ["user:admin", "role:reader", "session:reader/nightly", "account:partner", "account:home",
                          "orchestrate"]
    assert table.description == "the orders stay in-house" and table.no_access_from is None
    assert (key.no_access_from, objects.no_access_from, bucket.only, role.actions) == (
        "outside-account", "public", [], ["sts:AssumeRole"])
    assert main(["validate", str(tmp_path / "scenario.yaml")]) == 0
    assert "valid" in capsys.readouterr().out


def test_outside_organization_loads_with_an_organization(tmp_path: Path) -> None:
    text = "      - {resource: key:data, actions: [kms:Decrypt], no_access_from: outside-organization}\n"
    assert load_scenario(write(tmp_path, text, ORGANIZATION)).scenario.states[0].guarantees[0].no_access_from \
        == "outside-organization"


def test_each_state_lists_its_own_a_later_state_inherits_none(tmp_path: Path) -> None:
    later = "  - name: t\n    patch: {keys: {data: {enabled: false}}}\n"
    loaded = load_scenario(write(tmp_path, GOOD + later))
    assert len(loaded.scenario.states[0].guarantees) == 5 and loaded.scenario.states[1].guarantees == []


def test_a_patch_cannot_carry_guarantees(tmp_path: Path) -> None:
    later = "  - name: t\n    patch: {guarantees: []}\n"
    line = FIRST + len(GOOD.splitlines()) + 1
    assert refusals(tmp_path, GOOD + later) == [
        (line, 13, "states.1.patch.guarantees", "a state patches policies, groups, users, keys, tables, roles, buckets,"
         " account_public_access_block, vpc_endpoints, organization; 'guarantees' is not one of them")]


ONE = "exactly one of `only` (the principals that may) and `no_access_from` (outside-account, outside-organization or public)"


@pytest.mark.parametrize(("guarantee", "at", "path", "message"), [
    ("{resource: table:orders, actions: [dynamodb:Scan]}", "{", "", "a guarantee gives " + ONE),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [], no_access_from: public}", "{", "",
     "a guarantee gives " + ONE),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: null}", "{", "", "a guarantee gives " + ONE),
    ("{resource: table:orders, actions: [], only: []}", "[], only", ".actions",
     "List should have at least 1 item after validation, not 0"),
    ("{resource: table:orders, actions: [dynamodb:Scan], no_access_from: anywhere}", "anywhere", ".no_access_from",
     "Input should be 'outside-account', 'outside-organization' or 'public' (got 'anywhere')"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [admin]}", "admin", ".only.0",
     "String should match pattern"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [], expect: denied}", "denied", ".expect",
     "Input should be 'proved' or 'violated'"),
])
def test_the_model_refuses_a_malformed_guarantee(tmp_path: Path, guarantee: str, at: str, path: str,
                                                 message: str) -> None:
    [(line, col, where, said)] = refusals(tmp_path, f"      - {guarantee}\n")
    assert (line, col, where) == (FIRST, column(guarantee, at), "states.0.guarantees.0" + path)
    assert said.startswith(message), said


@pytest.mark.parametrize(("guarantee", "at", "path", "message"), [
    ("{resource: table:ghost, actions: [dynamodb:Scan], only: []}", "table:ghost", "resource",
     "'table:ghost' names no table of this scenario (known: orders)"),
    ("{resource: object:nope/x, actions: [s3:GetObject], only: []}", "object:nope/x", "resource",
     "'object:nope/x' names no bucket of this scenario (known: site)"),
    ("{resource: alias:data, actions: [kms:Decrypt], only: []}", "alias:data", "resource",
     "a guarantee names the resource itself (table:NAME, key:NAME, role:NAME, bucket:NAME, object:BUCKET/KEY), not"
     " 'alias:data': a guarantee on key:NAME covers every call through its aliases"),
    ("{resource: table:orders, actions: [dynamodb:Scan, kms:Decrypt], only: []}", "kms:Decrypt", "actions.1",
     "kms:Decrypt acts on a key, not a table"),
    ("{resource: bucket:site, actions: [s3:GetObject], only: []}", "s3:GetObject", "actions.0",
     "s3:GetObject acts on a object, not a bucket"),
    ("{resource: table:orders, actions: [dynamodb:Scan, dynamodb:Scan], only: []}", "dynamodb:Scan", "actions.1",
     "dynamodb:Scan is listed twice"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [user:ghost]}", "user:ghost", "only.0",
     "'user:ghost' names no user of this scenario (known: admin)"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [role:ghost]}", "role:ghost", "only.0",
     "'role:ghost' names no role of this scenario (known: reader)"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [session:ghost/nightly]}", "session:ghost/nightly", "only.0",
     "'session:ghost/nightly' names no role of this scenario (known: reader)"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [account:elsewhere]}", "account:elsewhere", "only.0",
     "'account:elsewhere' names no account of this scenario (known: home, partner)"),
    ("{resource: table:orders, actions: [dynamodb:Scan], only: [user:admin, user:admin]}", "user:admin", "only.1",
     "'user:admin' is listed twice"),
    ("{resource: key:data, actions: [kms:Decrypt], no_access_from: outside-organization}", "outside-organization", "no_access_from",
     "`outside-organization` needs the scenario's `organization:`, and this scenario declares none (use"
     " outside-account or public)"),
])
def test_each_bad_reference_is_one_located_message(tmp_path: Path, guarantee: str, at: str, path: str,
                                                   message: str) -> None:
    expected = (FIRST, column(guarantee, at), "states.0.guarantees.0." + path, message)
    assert refusals(tmp_path, f"      - {guarantee}\n") == [expected]


def test_a_guarantee_said_twice_is_refused_at_the_second(tmp_path: Path) -> None:
    twice = ("      - {resource: key:data, actions: [kms:Decrypt, kms:Encrypt], only: [user:admin, role:reader]}\n"
             "      - {resource: key:data, actions: [kms:Encrypt], only: [user:admin]}\n"
             "      - {resource: key:data, actions: [kms:Encrypt, kms:Decrypt], only: [role:reader, user:admin]}\n")
    assert refusals(tmp_path, twice) == [
        (FIRST + 2, 9, "states.0.guarantees.2", "the same guarantee as guarantees[0] of this state")]


def test_validate_exits_2_with_one_line_per_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = ("{resource: table:ghost, actions: [dynamodb:Scan], only: []}",
                     "{resource: key:data, actions: [kms:Decrypt], only: [user:ghost]}")
    path = write(tmp_path, f"      - {first}\n      - {second}\n")
    assert main(["validate", str(path)]) == 2
    said = capsys.readouterr()
    lines = [line for line in (said.out + said.err).splitlines() if line.startswith(str(path))]
    assert lines == [
        f"{path}:{FIRST}:{column(first, 'table:ghost')}: 'table:ghost' names no table of this scenario (known: orders)"
        " (at states[0].guarantees[0].resource)",
        f"{path}:{FIRST + 1}:{column(second, 'user:ghost')}: 'user:ghost' names no user of this scenario (known: admin)"
        " (at states[0].guarantees[1].only[0])"]


# --- hostile input ------------------------------------------------------------------------------

#: A line of GOOD per field, whose value each hostile value replaces.
FIELD_LINES = {"resource": "      - resource: table:orders\n",
               "actions": "        actions: [dynamodb:GetItem, dynamodb:Query, dynamodb:Scan]\n",
               "only": "        only: [user:admin, role:reader, session:reader/nightly, account:partner, account:home, orchestrate]\n",
               "description": "        description: the orders stay in-house\n"}


def _clean(path: Path, text: str, code: int | str, output: str) -> str | None:
    """What is wrong with one validate run (tests/loader/test_loader_fuzz.py's rule), or None."""
    if code not in (0, 2) or "Traceback" in output:
        return f"exit {code}: {output[-300:]}"
    lines = len(text.splitlines()) + 1
    for line in output.strip().splitlines() if code == 2 else []:
        head, _, rest = line.partition(f"{path}:")
        where = rest.split(":")[:2]
        if head or len(where) < 2 or not where[0].isdigit() or not 1 <= int(where[0]) <= lines:
            return f"unlocated: {line[:200]!r}"
    return None


@pytest.mark.parametrize("field", sorted(FIELD_LINES))
def test_any_value_in_any_field_is_refused_or_taken_never_a_crash(tmp_path: Path, field: str) -> None:
    path, failures = tmp_path / "mutant.yaml", []
    written = FIELD_LINES[field]
    for value in VALUES + ["[user:admin, 7]", "[[kms:Decrypt]]", "{AWS: user:admin}", "[account]", "[object:site]"]:
        text = (BASE + GOOD).replace(written, written.split(":")[0] + f": {value}\n", 1)
        assert text != BASE + GOOD
        problem = _clean(path, text, *run_validate(path, text, parse=False))
        if problem:
            failures.append(f"{field}: {value[:40]!r}: {problem}")
    assert not failures, "\n".join(failures[:10])


def test_seeded_mutants_of_a_guarded_scenario_never_crash(tmp_path: Path) -> None:
    path, failures, codes = tmp_path / "mutant.yaml", [], set()
    for seed in range(300):
        mutant = mutate(BASE + GOOD, random.Random(seed))
        code, output = run_validate(path, mutant.text, parse=False)
        codes.add(code)
        problem = _clean(path, mutant.text, code, output)
        if problem:
            failures.append(f"seed {seed} ({mutant.operator}): {problem}")
    assert not failures, "\n".join(failures[:10])
    assert codes == {0, 2}

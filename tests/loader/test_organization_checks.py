"""Validation of `organization:`, `vpc_endpoints:` and `vpc_endpoint:` (issue 23, items 1 and 3;
model/organization.py, loader/organization_checks.py): one test per rule, each refusal located at
line:col with its field path, as AWS Organizations would refuse it. The pages: Organizations User
Guide, "SCP syntax", "RCP syntax", "Quotas and service limits for AWS Organizations", "SCP evaluation",
"Resource control policies (RCPs)"; AWS PrivateLink Guide, "Control access to VPC endpoints using
endpoint policies"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario

BASE = """\
name: org-checks
accounts:
  prod: "111111111111"
  dev: "222222222222"
  partner: "333333333333"
organization:
  outside: [partner]
  units:
    workloads: {}
    prod: {parent: workloads, accounts: [prod]}
  scps:
    NoKeyDeletion:
      targets: [ou:prod]
      document:
        Statement:
          - {Sid: NoDeletion, Effect: Deny, Action: kms:ScheduleKeyDeletion, Resource: "*"}
  rcps:
    OrgOnly:
      targets: [root]
      document:
        Version: "2012-10-17"
        Statement:
          - Sid: EnforceOrgIdentities
            Effect: Deny
            Principal: "*"
            Action: ["s3:*", "kms:*"]
            Resource: "*"
            Condition: {StringNotEqualsIfExists: {aws:PrincipalOrgID: organization}}
vpc_endpoints:
  s3-endpoint:
    service: s3
    vpc: main
    policy:
      Statement:
        - Effect: Allow
          Principal: "*"
          Action: s3:*
          Resource: "*"
          Condition: {StringLike: {aws:PrincipalOrgPaths: "ou:workloads/*"}}
users:
  admin: {}
buckets:
  org-checks-bucket: {}
states:
  - name: only
    expectations:
      - {as: admin, action: s3:ListBucket, resource: bucket:org-checks-bucket, vpc_endpoint: s3-endpoint, expect: allowed}
"""


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def refusals(tmp_path: Path, text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return [(d.line, d.col, ".".join(map(str, d.path)), d.message) for d in caught.value.diagnostics]


def changed(old: str, new: str, text: str = BASE) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def at(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """The 1-based line and column where ``needle`` starts (its ``occurrence``-th time)."""
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def one(tmp_path: Path, text: str, needle: str, path: str, words: str, occurrence: int = 1) -> None:
    [(line, col, found_path, message)] = refusals(tmp_path, text)
    assert (found_path, words in message) == (path, True), message
    assert (line, col) == at(text, needle, occurrence), (path, message)


def test_the_base_scenario_loads(tmp_path: Path) -> None:
    loaded = load(tmp_path, BASE)
    organization = loaded.desired[0].organization
    assert organization is not None and organization.management == "home"
    assert organization.chain("prod") == ["workloads", "prod"] and organization.unit_of("dev") is None
    assert loaded.desired[0].vpc_endpoints["s3-endpoint"].service == "s3"


def test_a_scenario_without_the_sections_has_none(tmp_path: Path) -> None:
    text = "name: plain\nstates:\n  - name: only\n"
    desired = load(tmp_path, text).desired[0]
    assert desired.organization is None and desired.vpc_endpoints == {}
    assert load(tmp_path, text).scenario.model_dump(exclude_defaults=True) == {"name": "plain", "states": [{"name": "only"}]}


# -- the structure ---------------------------------------------------------------------------

def test_the_management_account_is_a_scenario_account(tmp_path: Path) -> None:
    text = changed("  outside: [partner]\n", "  management: boss\n  outside: [partner]\n")
    one(tmp_path, text, "boss", "organization.management", "'boss' names no account of this scenario")


def test_outside_accounts_are_scenario_accounts_not_the_management_one(tmp_path: Path) -> None:
    one(tmp_path, changed("outside: [partner]", "outside: [ghost]"), "ghost", "organization.outside.0", "names no account")
    one(tmp_path, changed("outside: [partner]", "outside: [home]"), "home]", "organization.outside.0", "is the management account")


def test_a_unit_is_not_named_root(tmp_path: Path) -> None:
    text = changed("    workloads: {}\n", "    workloads: {}\n    root: {}\n")
    one(tmp_path, text, "root: {}", "organization.units.root", "'root' names the organization's root")


def test_a_units_parent_exists(tmp_path: Path) -> None:
    one(tmp_path, changed("parent: workloads", "parent: nowhere"), "nowhere", "organization.units.prod.parent",
        "'nowhere' is neither `root` nor a unit")


def test_the_unit_tree_does_not_loop(tmp_path: Path) -> None:
    text = changed("    workloads: {}\n", "    workloads: {parent: prod}\n")
    found = refusals(tmp_path, text)
    assert [(path, "loop" in message) for _, _, path, message in found] == [
        ("organization.units.workloads.parent", True), ("organization.units.prod.parent", True)]
    assert found[0][:2] == at(text, "prod}")


def test_units_nest_at_most_five_deep(tmp_path: Path) -> None:
    deep = "".join(f"    u{n}: {{parent: {'workloads' if n == 1 else f'u{n - 1}'}}}\n" for n in range(1, 6))
    text = changed("    workloads: {}\n", "    workloads: {}\n" + deep)
    one(tmp_path, text, "u4}", "organization.units.u5.parent", "6 levels below the root; units nest at most 5")


def test_a_units_accounts_are_scenario_accounts(tmp_path: Path) -> None:
    one(tmp_path, changed("accounts: [prod]", "accounts: [prod, ghost]"), "ghost", "organization.units.prod.accounts.1",
        "'ghost' names no account")


def test_the_management_account_stays_at_the_root(tmp_path: Path) -> None:
    one(tmp_path, changed("accounts: [prod]", "accounts: [prod, home]"), "home]", "organization.units.prod.accounts.1",
        "is the management account")


def test_an_outside_account_is_in_no_unit(tmp_path: Path) -> None:
    one(tmp_path, changed("accounts: [prod]", "accounts: [prod, partner]"), "partner]", "organization.units.prod.accounts.1",
        "is outside the organization", occurrence=2)


def test_an_account_is_directly_in_one_unit(tmp_path: Path) -> None:
    text = changed("    workloads: {}\n", "    workloads: {accounts: [dev]}\n", changed("accounts: [prod]", "accounts: [prod, dev]"))
    one(tmp_path, text, "dev]", "organization.units.prod.accounts.1", "already in unit 'workloads'", occurrence=2)


# -- targets and attachments -----------------------------------------------------------------

@pytest.mark.parametrize(("target", "words"), [
    ("ou:nowhere", "names no unit of this organization"),
    ("account:ghost", "names no account of this scenario"),
    ("account:partner", "is outside the organization"),
])
def test_a_target_names_the_root_a_unit_or_a_member_account(tmp_path: Path, target: str, words: str) -> None:
    one(tmp_path, changed("targets: [ou:prod]", f"targets: [ou:prod, {target}]"), target,
        "organization.scps.NoKeyDeletion.targets.1", words)


def test_a_target_is_listed_once(tmp_path: Path) -> None:
    one(tmp_path, changed("targets: [root]", "targets: [root, root]"), "root]", "organization.rcps.OrgOnly.targets.1",
        "listed twice")


def test_full_aws_access_is_detached_only_where_another_scp_stays(tmp_path: Path) -> None:
    text = changed("  units:\n", "  detach_full_aws_access: [ou:prod, ou:workloads]\n  units:\n")
    one(tmp_path, text, "ou:workloads]", "organization.detach_full_aws_access.1", "FullAWSAccess cannot be detached from ou:workloads")
    assert load(tmp_path, changed("  units:\n", "  detach_full_aws_access: [ou:prod]\n  units:\n")).desired[0].organization


def _many(kind: str, count: int) -> str:
    effect = "Deny"
    principal = ', Principal: "*"' if kind == "rcps" else ""
    return "".join(f"    Extra{n}:\n      targets: [account:dev]\n      document:\n        Version: \"2012-10-17\"\n"
                   f"        Statement: [{{Effect: {effect}{principal}, Action: s3:PutObject, Resource: \"*\"}}]\n"
                   for n in range(1, count + 1))


@pytest.mark.parametrize("kind", ["scps", "rcps"])
def test_at_most_five_policies_of_a_type_on_a_target_defaults_included(tmp_path: Path, kind: str) -> None:
    text = changed(f"  {kind}:\n", f"  {kind}:\n" + _many(kind, 5))
    one(tmp_path, text, "account:dev", f"organization.{kind}.Extra5.targets.0", "would have 6", occurrence=5)
    assert load(tmp_path, changed(f"  {kind}:\n", f"  {kind}:\n" + _many(kind, 4)))


def test_five_scps_fit_where_full_aws_access_is_detached(tmp_path: Path) -> None:
    text = changed("  units:\n", "  detach_full_aws_access: [account:dev]\n  units:\n", changed("  scps:\n", "  scps:\n" + _many("scps", 5)))
    assert load(tmp_path, text)


@pytest.mark.parametrize(("kind", "name"), [("scps", "FullAWSAccess"), ("rcps", "RCPFullAWSAccess")])
def test_a_policy_does_not_take_the_defaults_name(tmp_path: Path, kind: str, name: str) -> None:
    text = changed(f"  {kind}:\n", f"  {kind}:\n" + _many(kind, 1).replace("Extra1", name))
    one(tmp_path, text, f"{name}:", f"organization.{kind}.{name}", "AWS managed")


# -- each policy type's syntax and size -------------------------------------------------------

def test_an_scp_has_no_principal(tmp_path: Path) -> None:
    text = changed("Effect: Deny, Action: kms:ScheduleKeyDeletion", 'Effect: Deny, Principal: "*", Action: kms:ScheduleKeyDeletion')
    one(tmp_path, text, "Principal", "organization.scps.NoKeyDeletion.document.Statement.0.Principal", "an SCP has no Principal")


def test_an_scp_is_at_most_5120_characters(tmp_path: Path) -> None:
    actions = json.dumps([f"s3:Get{'X' * 40}{n}" for n in range(110)])
    text = changed("Action: kms:ScheduleKeyDeletion", f"Action: {actions}")
    one(tmp_path, text, "Statement:", "organization.scps.NoKeyDeletion.document", "at most 5120", occurrence=1)


def test_the_size_counts_resolved_unit_paths(tmp_path: Path) -> None:
    """`ou:prod` is sent as o-.../r-.../ou-.../ou-.../: 12 + 6 + 2 x 17 + 1 characters, not 7."""
    from orchestrator.loader.organization_checks import sent_size

    desired = load(tmp_path, BASE).desired[0]
    endpoint = desired.vpc_endpoints["s3-endpoint"].policy
    assert endpoint is not None
    written = len(json.dumps(endpoint.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")))
    assert sent_size(endpoint, desired.organization) == written - len("ou:workloads/") + len("o-0123456789/r-0123/ou-0123-01234567/")


RCP_STATEMENT = """\
          - Sid: EnforceOrgIdentities
            Effect: Deny
            Principal: "*"
            Action: ["s3:*", "kms:*"]
"""
RCP_PATH = "organization.rcps.OrgOnly.document.Statement.0"


@pytest.mark.parametrize(("old", "new", "needle", "path", "words"), [
    ("Effect: Deny", "Effect: Allow", "Allow", ".Effect", "Allow is only supported for the AWS managed RCPFullAWSAccess"),
    ('Principal: "*"', "Principal: {AWS: '111111111111'}", "{AWS", ".Principal", "an RCP's Principal is \"*\""),
    ('Principal: "*"', "NotPrincipal: {AWS: '111111111111'}", "NotPrincipal", ".NotPrincipal", "an RCP takes no NotPrincipal"),
    ('Action: ["s3:*", "kms:*"]', 'NotAction: ["s3:*"]', "NotAction", ".NotAction", "an RCP takes no NotAction"),
    ('Action: ["s3:*", "kms:*"]', 'Action: ["s3:*", "dynamodb:GetItem"]', '"dynamodb', ".Action.1", "RCPs apply only to"),
])
def test_an_rcp_follows_the_rcp_syntax(tmp_path: Path, old: str, new: str, needle: str, path: str, words: str) -> None:
    text = changed(RCP_STATEMENT, RCP_STATEMENT.replace(old, new))
    one(tmp_path, text, needle, RCP_PATH + path, words)


def test_an_rcp_statement_names_its_principal(tmp_path: Path) -> None:
    text = changed(RCP_STATEMENT, RCP_STATEMENT.replace('            Principal: "*"\n', ""))
    one(tmp_path, text, "Sid: EnforceOrgIdentities", RCP_PATH, "needs \"Principal\": \"*\"")


def test_an_rcp_says_its_version(tmp_path: Path) -> None:
    text = changed('        Version: "2012-10-17"\n        Statement:\n          - Sid: Enforce',
                   "        Statement:\n          - Sid: Enforce")
    one(tmp_path, text, "Statement:\n          - Sid: Enforce", "organization.rcps.OrgOnly.document", "\"Version\": \"2012-10-17\"")


# -- VPC endpoints -----------------------------------------------------------------------------

def test_an_endpoint_policy_names_its_principals(tmp_path: Path) -> None:
    text = changed('        - Effect: Allow\n          Principal: "*"\n', "        - Effect: Allow\n")
    one(tmp_path, text, "Statement:\n        - Effect: Allow", "vpc_endpoints.s3-endpoint.policy", "needs Principal", occurrence=1)


def test_an_endpoint_is_in_a_scenario_account(tmp_path: Path) -> None:
    one(tmp_path, changed("    vpc: main\n", "    vpc: main\n    account: ghost\n"), "ghost", "vpc_endpoints.s3-endpoint.account",
        "names no account")


def test_a_vpc_is_an_id_or_a_name(tmp_path: Path) -> None:
    one(tmp_path, changed("vpc: main", "vpc: vpc-main"), "vpc-main", "vpc_endpoints.s3-endpoint.vpc", "neither a VPC id")
    assert load(tmp_path, changed("vpc: main", "vpc: vpc-0123456789abcdef0"))


def test_an_endpoint_policy_is_at_most_20480_characters(tmp_path: Path) -> None:
    actions = json.dumps([f"s3:Get{'X' * 40}{n}" for n in range(440)])
    text = changed("          Action: s3:*\n          Resource: \"*\"\n          Condition: {StringLike",
                   f"          Action: {actions}\n          Resource: \"*\"\n          Condition: {{StringLike")
    one(tmp_path, text, "Statement:\n        - Effect: Allow", "vpc_endpoints.s3-endpoint.policy", "at most 20480")


def test_an_expectation_names_an_endpoint_of_its_service(tmp_path: Path) -> None:
    one(tmp_path, changed("vpc_endpoint: s3-endpoint", "vpc_endpoint: kms-endpoint"), "kms-endpoint",
        "states.0.expectations.0.vpc_endpoint", "'kms-endpoint' names no VPC endpoint")
    one(tmp_path, changed("service: s3", "service: kms"), "s3-endpoint, expect", "states.0.expectations.0.vpc_endpoint",
        "fronts kms, and s3:ListBucket is a s3 request")


# -- references ------------------------------------------------------------------------------

def test_organization_references_need_an_organization(tmp_path: Path) -> None:
    text = ("name: no-org\nusers:\n  admin: {}\nkeys:\n  k:\n    policy:\n      Statement:\n"
            "        - {Effect: Allow, Principal: '*', Action: kms:Decrypt, Resource: '*',"
            " Condition: {StringEquals: {aws:PrincipalOrgID: organization}}}\nstates:\n  - name: only\n")
    one(tmp_path, text, "organization}", "keys.k.policy.Statement.0.Condition.StringEquals.aws:PrincipalOrgID",
        "declares none")


def test_a_unit_reference_names_a_unit(tmp_path: Path) -> None:
    one(tmp_path, changed('"ou:workloads/*"', '["ou:nowhere/*"]'), '"ou:nowhere',
        "vpc_endpoints.s3-endpoint.policy.Statement.0.Condition.StringLike.aws:PrincipalOrgPaths.0", "names no unit")


def test_references_elsewhere_stay_literal(tmp_path: Path) -> None:
    """`organization` under any other key is the text itself, as before issue 23."""
    assert load(tmp_path, changed("aws:PrincipalOrgPaths: \"ou:workloads/*\"", "aws:userid: \"ou:workloads/*\""))


# -- policy states ----------------------------------------------------------------------------

STATES = "  - name: only\n"


def with_state(patch: str, text: str = BASE) -> str:
    return text + "  - name: later\n    patch:\n" + patch


def test_a_state_patches_the_organizations_policies(tmp_path: Path) -> None:
    text = with_state("      organization:\n        detach_full_aws_access: [ou:prod]\n"
                      "        scps: {NoKeyDeletion: {targets: [ou:prod, account:dev]}}\n"
                      "        rcps: {OrgOnly: {document: {Statement: {EnforceOrgIdentities: {Action: s3:*}}}}}\n"
                      "      vpc_endpoints: {s3-endpoint: {policy: null}}\n")
    first, later = load(tmp_path, text).desired
    assert first.organization is not None and later.organization is not None
    assert later.organization.scps["NoKeyDeletion"].targets == ["ou:prod", "account:dev"]
    assert later.organization.detach_full_aws_access == ["ou:prod"] and first.organization.detach_full_aws_access == []
    assert later.organization.rcps["OrgOnly"].document.statements()[0].action == "s3:*"
    assert later.vpc_endpoints["s3-endpoint"].policy is None and first.vpc_endpoints["s3-endpoint"].policy is not None


def test_a_problem_a_patch_brings_is_located_in_the_patch(tmp_path: Path) -> None:
    text = with_state("      organization:\n        rcps: {OrgOnly: {document: {Statement: {EnforceOrgIdentities: {Effect: Allow}}}}}\n")
    one(tmp_path, text, "Allow}", "states.1.patch.organization.rcps.OrgOnly.document.Statement.EnforceOrgIdentities.Effect",
        "Allow is only supported")


@pytest.mark.parametrize(("patch", "needle", "path", "words"), [
    ("      organization:\n        units: {prod: {accounts: []}}\n", "units", "states.1.patch.organization.units",
     "its units live for the whole scenario"),
    ("      organization:\n        management: prod\n", "management", "states.1.patch.organization.management",
     "live for the whole scenario"),
    ("      organization:\n        scps: {Fresh: {targets: [root]}}\n", "Fresh", "states.1.patch.organization.scps.Fresh",
     "not declared in the scenario"),
    ("      organization:\n        scps: {NoKeyDeletion: null}\n", "null", "states.1.patch.organization.scps.NoKeyDeletion",
     "cannot remove"),
    ("      vpc_endpoints: {s3-endpoint: {account: dev}}\n", "account", "states.1.patch.vpc_endpoints.s3-endpoint.account",
     "cannot move"),
])
def test_a_state_keeps_the_organizations_structure(tmp_path: Path, patch: str, needle: str, path: str, words: str) -> None:
    text = with_state(patch)
    one(tmp_path, text, needle, path, words, occurrence=text.count(needle))


def test_a_state_cannot_patch_an_organization_that_is_not_declared(tmp_path: Path) -> None:
    text = "name: no-org\nstates:\n  - name: only\n    patch:\n      organization: {scps: {}}\n"
    one(tmp_path, text, "organization", "states.0.patch.organization", "declares no organization")


def test_validate_exits_2_on_an_organization_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(changed("parent: workloads", "parent: nowhere"), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    line, col = at(changed("parent: workloads", "parent: nowhere"), "nowhere")
    assert capsys.readouterr().err.startswith(f"{path}:{line}:{col}: ")

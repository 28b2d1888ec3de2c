"""The engine's organization inputs built from a scenario (issue 23, item 1 and 3; orchestrator/prove/
organization.py), decided by the engine: an SCP that denies kms:ScheduleKeyDeletion in the prod unit
denies it to prod's principals and to no one else (Organizations User Guide, "SCP evaluation"); the
defaults are attached everywhere; references resolve to the organization's ids (IAM User Guide,
"AWS global condition context keys": aws:PrincipalOrgID, aws:PrincipalOrgPaths)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate
from orchestrator.authz.engine.organization import ACCOUNT, ROOT, UNIT
from orchestrator.loader import LoadedScenario, load_scenario
from orchestrator.model.organization import OrganizationIds
from orchestrator.prove.organization import membership, memberships, organization_ids, vpc_endpoint

DATA = Path(__file__).parent / "data" / "organization-scp.yaml"
KEY = "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALL_KMS = (PolicySource("identity", "user/inline/keys", {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}),)


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    return load_scenario(DATA)


def _delete_key(loaded: LoadedScenario, state: int, account: str) -> tuple[str, str | None, str]:
    desired = loaded.desired[state]
    ids = organization_ids(loaded.scenario.name, desired)
    account_id = desired.accounts[account]
    org = membership(desired, account, ids, account_id)
    caller = Principal(f"arn:aws:iam::{account_id}:user/{account}-admin", account_id)
    key_policy = PolicySource("key", "key policy", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"}]})
    inputs = PolicyInputs(identity=ALL_KMS, resource_policy=key_policy, resource_account=account_id,
                          principal_org=org, resource_org=org)
    decision = evaluate(Request(caller, "kms:ScheduleKeyDeletion", KEY.format(account=account_id)), inputs)
    return decision.decision, decision.layer, decision.reason


def test_the_unit_scp_denies_in_its_accounts_only(loaded: LoadedScenario) -> None:
    decision, layer, reason = _delete_key(loaded, 0, "prod")
    assert (decision, layer) == ("explicitDeny", "scp"), reason
    assert "NoKeyDeletion" in reason and "unit prod" in reason
    assert _delete_key(loaded, 0, "dev")[0] == "allowed"


def test_a_state_that_attaches_the_scp_nowhere_allows_again(loaded: LoadedScenario) -> None:
    assert _delete_key(loaded, 1, "prod")[0] == "allowed"


def test_levels_run_from_the_root_to_the_account_with_the_defaults(loaded: LoadedScenario) -> None:
    desired = loaded.desired[0]
    ids = organization_ids(loaded.scenario.name, desired)
    org = membership(desired, "prod", ids, "111111111111")
    assert org is not None and not org.management
    assert [(level.kind, level.name) for level in org.levels] == [
        (ROOT, "root"), (UNIT, "workloads"), (UNIT, "prod"), (ACCOUNT, "prod")]
    assert [[s.name for s in level.scps] for level in org.levels] == [
        ["FullAWSAccess"], ["FullAWSAccess"], ["FullAWSAccess", "NoKeyDeletion"], ["FullAWSAccess"]]
    assert [[s.name for s in level.rcps] for level in org.levels] == [
        ["RCPFullAWSAccess", "OrgOnly"], ["RCPFullAWSAccess"], ["RCPFullAWSAccess"], ["RCPFullAWSAccess"]]
    assert org.path() == f"{ids.organization}/{ids.root}/{ids.units['workloads']}/{ids.units['prod']}/"


def test_management_outside_and_unplaced_accounts(loaded: LoadedScenario) -> None:
    desired = loaded.desired[0]
    found = memberships(desired, organization_ids(loaded.scenario.name, desired))
    assert found["partner"] is None
    home, dev = found["home"], found["dev"]
    assert home is not None and home.management and [level.kind for level in home.levels] == [ROOT, ACCOUNT]
    assert dev is not None and not dev.management and [level.kind for level in dev.levels] == [ROOT, ACCOUNT]


def test_references_resolve_to_the_embedded_ids(loaded: LoadedScenario) -> None:
    desired = loaded.desired[0]
    ids = organization_ids(loaded.scenario.name, desired)
    assert ids == organization_ids(loaded.scenario.name, desired)  # the same scenario, the same ids
    assert ids.organization.startswith("o-") and len(ids.organization) == 12 and ids.root.startswith("r-")
    assert ids.units["prod"].startswith(f"ou-{ids.root[2:]}-")
    org = membership(desired, "dev", ids)
    assert org is not None
    [rcp] = [s for s in org.levels[0].rcps if s.name == "OrgOnly"]
    assert rcp.document["Statement"][0]["Condition"]["StringNotEqualsIfExists"] == {"aws:PrincipalOrgID": ids.organization}
    endpoint = vpc_endpoint(desired, loaded.scenario.states[0].expectations[0], ids)
    assert endpoint is not None and endpoint.id.startswith("vpce-") and endpoint.vpc == ids.vpc("main")
    assert endpoint.policy is not None
    condition = endpoint.policy.document["Statement"][0]["Condition"]["StringLike"]
    assert condition == {"aws:PrincipalOrgPaths": f"{ids.organization}/{ids.root}/{ids.units['workloads']}/*"}
    assert OrganizationIds.embedded("other", desired.organization.units).organization != ids.organization


def test_the_endpoint_policy_decides_with_the_org_path(loaded: LoadedScenario) -> None:
    """VPCE: the endpoint's policy allows principals of accounts under workloads only."""
    desired = loaded.desired[0]
    ids = organization_ids(loaded.scenario.name, desired)
    endpoint = vpc_endpoint(desired, loaded.scenario.states[0].expectations[0], ids)
    bucket_policy = PolicySource("resource", "bucket policy", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::reports"}]})

    def list_bucket(account: str) -> tuple[str, str | None]:
        account_id = desired.accounts[account]
        caller = Principal(f"arn:aws:iam::{account_id}:user/{account}-admin", account_id)
        inputs = PolicyInputs(resource_policy=bucket_policy, resource_account=account_id, vpc_endpoint=endpoint,
                              principal_org=membership(desired, account, ids, account_id))
        decision = evaluate(Request(caller, "s3:ListBucket", "arn:aws:s3:::reports"), inputs)
        return decision.decision, decision.layer

    assert list_bucket("prod")[0] == "allowed"
    assert list_bucket("dev") == ("implicitDeny", "vpc-endpoint")


def test_no_organization_builds_nothing(loaded: LoadedScenario, tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("name: plain\nstates:\n  - name: only\n", encoding="utf-8")
    plain = load_scenario(path)
    desired = plain.desired[0]
    assert desired.organization is None and desired.vpc_endpoints == {}
    assert membership(desired, "home", organization_ids("plain", desired)) is None

"""The organization as moto's world holds it, enforced by the gate on every call (issue 23, item 4).

Organizations User Guide, "SCP evaluation": an SCP must allow at every level from the root down to
the account, a Deny at any level wins, and SCPs never restrict the management account's principals;
"RCP evaluation": RCPs cap what anyone, inside the organization or not, may do to a member
account's resources, even what the resource policy grants. The denials are worded as IAM User
Guide, "Troubleshoot access denied error messages" words them: "... with an explicit deny in a
service control policy", "... because no service control policy allows the <action> action".

Every step is a real boto3 call through the gate, in-process and through the gated moto server
(``orchestrate serve``'s), the organization's own calls included: moto's Organizations API, with
the invitation moto lacks (moto_extensions).
"""
from __future__ import annotations

import json
import urllib.request
from typing import Any, Callable, Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_scenario import REGION, gated_server

from orchestrator.authz.gate.core import Gate
from orchestrator.authz.gate.hooks import GateHandler
from orchestrator.backends import moto_extensions
from orchestrator.backends.moto_world import MotoWorld

MANAGEMENT, MEMBER, OUTSIDER = "123456789012", "111122223333", "444455556666"
SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
ALL_KMS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]}
NO_KEY_DELETION = {"Version": "2012-10-17", "Statement": [
    {"Sid": "NoKeyDeletion", "Effect": "Deny", "Action": "kms:ScheduleKeyDeletion", "Resource": "*"}]}


def _document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _in_account(client: Any, account: str) -> Any:
    """moto's ``x-moto-account-id``: the orchestrator's own calls in ``account``."""
    client.meta.events.register_first(
        "before-call.*.*", lambda params, **_: params.setdefault("headers", {}).__setitem__("x-moto-account-id", account))
    return client


Make = Callable[..., Any]


@pytest.fixture(params=["in-process", "served"])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """``make(service, key, secret, token)``: a boto3 client through the gate, in-process (the botocore hook)
    or through the gated moto server (WSGI)."""
    if request.param == "in-process":
        request.getfixturevalue("handler")
        endpoint = None
    else:
        running = request.getfixturevalue("server")
        endpoint = running.endpoint_url
    yield lambda service, key="testing", secret="testing", token=None: boto3.client(
        service, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        endpoint_url=endpoint)


@pytest.fixture
def server() -> Iterator[Any]:
    with gated_server() as running:
        urllib.request.urlopen(urllib.request.Request(f"{running.endpoint_url}/moto-api/reset", method="POST"),
                               timeout=30).read()
        yield running


def _admin(make: Make, service: str, account: str) -> Any:
    return _in_account(make(service), account)


class _User:
    def __init__(self, make: Make, key: str, secret: str) -> None:
        self.make, self.key, self.secret = make, key, secret

    def client(self, service: str) -> Any:
        return self.make(service, self.key, self.secret)


def _user(make: Make, account: str, name: str, policy: dict[str, Any]) -> _User:
    iam = _admin(make, "iam", account)
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="kms", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return _User(make, key["AccessKeyId"], key["SecretAccessKey"])


def _key(make: Make, account: str, *partners: str) -> str:
    """A key in ``account`` whose policy delegates to its own account and to each partner's."""
    roots = [f"arn:aws:iam::{account}:root", *(f"arn:aws:iam::{partner}:root" for partner in partners)]
    policy = _document({"Sid": "Accounts", "Effect": "Allow", "Principal": {"AWS": roots}, "Action": "kms:*",
                        "Resource": "*"})
    return str(_admin(make, "kms", account).create_key(Policy=policy)["KeyMetadata"]["Arn"])


class Organization:
    """An organization made through moto's Organizations API in the management account: its root,
    a unit ``prod`` holding the member account."""

    def __init__(self, make: Make, *types: str) -> None:
        moto_extensions.install_organizations()
        self.api = _admin(make, "organizations", MANAGEMENT)
        self.id = self.api.create_organization(FeatureSet="ALL")["Organization"]["Id"]
        self.root = self.api.list_roots()["Roots"][0]["Id"]
        for policy_type in types:
            self.api.enable_policy_type(RootId=self.root, PolicyType=policy_type)
        self.api.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": MEMBER})
        self.unit = self.api.create_organizational_unit(ParentId=self.root, Name="prod")["OrganizationalUnit"]["Id"]
        self.api.move_account(AccountId=MEMBER, SourceParentId=self.root, DestinationParentId=self.unit)

    def attach(self, name: str, kind: str, document: dict[str, Any], target: str) -> str:
        policy = self.api.create_policy(Name=name, Type=kind, Description=name, Content=json.dumps(document))
        policy_id = str(policy["Policy"]["PolicySummary"]["Id"])
        self.api.attach_policy(PolicyId=policy_id, TargetId=target)
        return policy_id


def _denied(call: Callable[..., Any], **params: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return dict(raised.value.response["Error"])


def test_an_scp_on_the_unit_denies_the_member_and_spares_the_management_account(make: Make) -> None:
    org = Organization(make, SCP)
    org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    member_key, home_key = _key(make, MEMBER), _key(make, MANAGEMENT)
    keeper = _user(make, MEMBER, "keeper", ALL_KMS).client("kms")
    error = _denied(keeper.schedule_key_deletion, KeyId=member_key, PendingWindowInDays=7)
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (f"User: arn:aws:iam::{MEMBER}:user/keeper is not authorized to perform: "
                                f"kms:ScheduleKeyDeletion on resource: {member_key} with an explicit deny in a "
                                "service control policy")
    assert keeper.describe_key(KeyId=member_key)["KeyMetadata"]["KeyState"] == "Enabled"
    home = _user(make, MANAGEMENT, "keeper", ALL_KMS).client("kms")
    # SCPs never bind the management account's principals (moto's ScheduleKeyDeletion takes a key id only)
    home.schedule_key_deletion(KeyId=home_key.rsplit("/", 1)[1], PendingWindowInDays=7)


def test_without_full_aws_access_on_the_unit_only_what_an_scp_there_allows_is_allowed(make: Make) -> None:
    org = Organization(make, SCP)
    org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    member_key = _key(make, MEMBER)
    keeper = _user(make, MEMBER, "keeper", ALL_KMS).client("kms")
    org.api.detach_policy(PolicyId="p-FullAWSAccess", TargetId=org.unit)
    error = _denied(keeper.describe_key, KeyId=member_key)
    assert error["Message"] == (f"User: arn:aws:iam::{MEMBER}:user/keeper is not authorized to perform: "
                                f"kms:DescribeKey on resource: {member_key} because no service control policy "
                                "allows the kms:DescribeKey action")
    org.attach("DescribeOnly", SCP, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Describe*", "Resource": "*"}]}, org.unit)
    assert keeper.describe_key(KeyId=member_key)["KeyMetadata"]["Arn"] == member_key
    assert _denied(keeper.get_key_policy, KeyId=member_key, PolicyName="default")["Code"] == "AccessDeniedException"


def test_an_scp_type_not_enabled_on_the_root_restricts_nothing(make: Make) -> None:
    org = Organization(make, SCP)
    org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    org.api.disable_policy_type(RootId=org.root, PolicyType=SCP)
    member_key = _key(make, MEMBER)
    keeper = _user(make, MEMBER, "keeper", ALL_KMS).client("kms")
    keeper.schedule_key_deletion(KeyId=member_key.rsplit("/", 1)[1], PendingWindowInDays=7)


def test_an_rcp_keeps_a_member_key_inside_the_organization(make: Make) -> None:
    org = Organization(make, SCP, RCP)
    org.attach("KeysStayInside", RCP, {"Version": "2012-10-17", "Statement": [
        {"Sid": "OrgOnly", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": org.id},
                       "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}]}, MEMBER)
    member_key = _key(make, MEMBER, OUTSIDER, MANAGEMENT)
    outsider = _user(make, OUTSIDER, "partner", ALL_KMS).client("kms")
    error = _denied(outsider.encrypt, KeyId=member_key, Plaintext=b"secret")
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (f"User: arn:aws:iam::{OUTSIDER}:user/partner is not authorized to perform: "
                                f"kms:Encrypt on resource: {member_key} with an explicit deny in a resource "
                                "control policy")
    insider = _user(make, MANAGEMENT, "analyst", ALL_KMS).client("kms")
    assert insider.encrypt(KeyId=member_key, Plaintext=b"secret")["KeyId"] == member_key


def test_an_scp_stops_orchestrates_own_call_with_awss_error(make: Make) -> None:
    org = Organization(make, SCP)
    org.attach("KeyPoliciesFrozen", SCP, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "kms:PutKeyPolicy", "Resource": "*"}]}, MEMBER)
    member_key = _key(make, MEMBER)
    kms = _admin(make, "kms", MEMBER)
    before = kms.get_key_policy(KeyId=member_key, PolicyName="default")["Policy"]
    error = _denied(kms.put_key_policy, KeyId=member_key, PolicyName="default", Policy=_document(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"}, "Action": "kms:*", "Resource": "*"}))
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (f"User: arn:aws:iam::{MEMBER}:user/moto is not authorized to perform: "
                                f"kms:PutKeyPolicy on resource: {member_key} with an explicit deny in a service "
                                "control policy")
    assert kms.get_key_policy(KeyId=member_key, PolicyName="default")["Policy"] == before


def test_organizations_own_api_is_gated_like_any_other(make: Make) -> None:
    org = Organization(make, SCP)
    keeper = _user(make, MEMBER, "keeper", ALL_KMS).client("organizations")
    error = _denied(keeper.describe_organization)
    assert error["Code"] == "AccessDeniedException"
    assert "organizations:DescribeOrganization" in error["Message"]
    assert org.api.describe_organization()["Organization"]["Id"] == org.id


def test_the_world_reads_the_membership_root_first(make: Make) -> None:
    world = MotoWorld()
    assert world.membership(MEMBER) is None and world.membership(MANAGEMENT) is None
    org = Organization(make, SCP)
    policy_id = org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    member = world.membership(MEMBER)
    assert member is not None and not member.management and member.org_id == org.id
    assert [(level.kind, level.id) for level in member.levels] == [("root", org.root), ("unit", org.unit),
                                                                    ("account", MEMBER)]
    assert member.path() == f"{org.id}/{org.root}/{org.unit}/"
    assert [source.name for source in member.levels[1].scps] == ["FullAWSAccess (p-FullAWSAccess)",
                                                                   f"NoKeyDeletion ({policy_id})"]
    assert [source.name for source in member.levels[1].rcps] == ["RCPFullAWSAccess (RCPs not enabled)"]
    home = world.membership(MANAGEMENT)
    assert home is not None and home.management and [level.kind for level in home.levels] == ["root", "account"]
    assert world.membership(OUTSIDER) is None


def test_an_account_joins_once(make: Make) -> None:
    org = Organization(make)
    error = _denied(org.api.invite_account_to_organization, Target={"Type": "ACCOUNT", "Id": MEMBER})
    assert error["Code"] == "HandshakeConstraintViolationException"
    accounts = {account["Id"]: account["JoinedMethod"] for account in org.api.list_accounts()["Accounts"]}
    assert accounts == {MANAGEMENT: "CREATED", MEMBER: "INVITED"}


class _FixedWorld(MotoWorld):
    """moto's world claiming fixed answers, so the gate keeps its plans and the engine its
    decisions (gate/core.py, _StaticMemo): the organization must still be part of each question."""

    def answers_version(self) -> int:
        return 0


def test_a_remembered_decision_does_not_outlive_the_organization(handler: GateHandler) -> None:
    def make(service: str, key: str = "testing", secret: str = "testing") -> Any:
        return boto3.client(service, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)

    org = Organization(make, SCP)
    member_key = _key(make, MEMBER)
    keeper = _user(make, MEMBER, "keeper", ALL_KMS)
    gate = Gate(REGION, _FixedWorld())
    params = {"KeyId": member_key, "PendingWindowInDays": 7}
    assert gate.check("kms", "ScheduleKeyDeletion", params, keeper.key).allowed
    policy_id = org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    denied = gate.check("kms", "ScheduleKeyDeletion", params, keeper.key)
    assert not denied.allowed and denied.layer == "scp" == denied.steps[-1][1].layer
    org.api.detach_policy(PolicyId=policy_id, TargetId=org.unit)
    assert gate.check("kms", "ScheduleKeyDeletion", params, keeper.key).allowed


def test_the_attachments_aws_refuses_are_refused(make: Make) -> None:
    org = Organization(make)
    policy = org.api.create_policy(Name="NoKeyDeletion", Type=SCP, Description="",
                                   Content=json.dumps(NO_KEY_DELETION))["Policy"]["PolicySummary"]["Id"]
    error = _denied(org.api.attach_policy, PolicyId=policy, TargetId=org.unit)
    assert (error["Code"], error["Message"]) == ("PolicyTypeNotEnabledException",
                                                 "This operation can be performed only for enabled policy types.")
    org.api.enable_policy_type(RootId=org.root, PolicyType=SCP)
    org.api.enable_policy_type(RootId=org.root, PolicyType=RCP)
    error = _denied(org.api.detach_policy, PolicyId="p-FullAWSAccess", TargetId=MEMBER)
    assert error["Code"] == "ConstraintViolationException"  # the last SCP of the account
    assert _denied(org.api.detach_policy, PolicyId="p-RCPFullAWSAccess", TargetId=MEMBER)["Code"] == \
        "ConstraintViolationException"
    org.api.attach_policy(PolicyId=policy, TargetId=MEMBER)
    org.api.detach_policy(PolicyId="p-FullAWSAccess", TargetId=MEMBER)  # NoKeyDeletion is left


def test_a_key_policy_naming_the_organization_lets_its_accounts_in_and_no_one_else(make: Make) -> None:
    """IAM User Guide, "AWS global condition context keys": aws:PrincipalOrgID and
    aws:PrincipalOrgPaths are set for a principal of an account in an organization (with or without
    SCPs enabled); a key policy with ``Principal: "*"`` conditioned on them shares the key with the
    organization, or with one unit of it."""
    org = Organization(make)
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "kms:Encrypt", "Resource": "*"}
    policy = _document({"Sid": "Home", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                        "Action": "kms:*", "Resource": "*"},
                       {**everyone, "Sid": "Organization", "Condition": {"StringEquals": {"aws:PrincipalOrgID": org.id}}},
                       {**everyone, "Sid": "ProdOnly", "Action": "kms:GenerateDataKey", "Condition": {
                           "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{org.id}/{org.root}/{org.unit}/*"}}})
    key = str(_admin(make, "kms", MANAGEMENT).create_key(Policy=policy)["KeyMetadata"]["Arn"])
    member = _user(make, MEMBER, "keeper", ALL_KMS).client("kms")
    assert member.encrypt(KeyId=key, Plaintext=b"x")["KeyId"] == key
    assert member.generate_data_key(KeyId=key, KeySpec="AES_256")["KeyId"] == key
    outsider = _user(make, OUTSIDER, "partner", ALL_KMS).client("kms")
    assert _denied(outsider.encrypt, KeyId=key, Plaintext=b"x")["Code"] == "AccessDeniedException"
    org.api.move_account(AccountId=MEMBER, SourceParentId=org.unit, DestinationParentId=org.root)
    assert _denied(member.generate_data_key, KeyId=key, KeySpec="AES_256")["Code"] == "AccessDeniedException"


def test_simulate_principal_policy_says_whether_the_organization_allows(make: Make) -> None:
    """IAM API Reference, "SimulatePrincipalPolicy" / "EvaluationResult": OrganizationsDecisionDetail
    "details how Organizations and its service control policies affect the results of the
    simulation. Only applies if the simulated user's account is part of an organization." """
    org = Organization(make, SCP)
    org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, org.unit)
    _user(make, MEMBER, "keeper", ALL_KMS)
    iam = _admin(make, "iam", MEMBER)
    results = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{MEMBER}:user/keeper",
                                            ActionNames=["kms:ScheduleKeyDeletion", "kms:Encrypt"])["EvaluationResults"]
    found = {result["EvalActionName"]: (result["EvalDecision"], result["OrganizationsDecisionDetail"])
             for result in results}
    assert found == {"kms:ScheduleKeyDeletion": ("explicitDeny", {"AllowedByOrganizations": False}),
                     "kms:Encrypt": ("allowed", {"AllowedByOrganizations": True})}
    _user(make, OUTSIDER, "partner", ALL_KMS)
    outside = _admin(make, "iam", OUTSIDER).simulate_principal_policy(
        PolicySourceArn=f"arn:aws:iam::{OUTSIDER}:user/partner", ActionNames=["kms:ScheduleKeyDeletion"])
    assert "OrganizationsDecisionDetail" not in outside["EvaluationResults"][0]


def test_a_service_linked_role_is_not_restricted_by_scps(make: Make) -> None:
    """Organizations User Guide, "SCP evaluation" / "Tasks and entities not restricted by SCPs":
    SCPs do not affect service-linked roles (IAM User Guide, "Create a service-linked role": their
    path is /aws-service-role/); an ordinary role of the same account is restricted."""
    org = Organization(make, SCP)
    org.attach("NoKeyDeletion", SCP, NO_KEY_DELETION, MEMBER)
    iam = _admin(make, "iam", MEMBER)
    trust = _document({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
                       "Action": "sts:AssumeRole"})
    sts = _admin(make, "sts", MEMBER)
    outcomes = {}
    for name, path in (("AWSServiceRoleForKeyCleanup", "/aws-service-role/kms.amazonaws.com/"), ("KeyCleanup", "/")):
        role = iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)["Role"]
        iam.put_role_policy(RoleName=name, PolicyName="kms", PolicyDocument=json.dumps(ALL_KMS))
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="cleanup")["Credentials"]
        kms = make("kms", credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"])
        key_id = _key(make, MEMBER).rsplit("/", 1)[1]
        try:
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
            outcomes[name] = "allowed"
        except ClientError as error:
            outcomes[name] = error.response["Error"]["Message"].rsplit(" with ", 1)[-1]
    assert outcomes == {"AWSServiceRoleForKeyCleanup": "allowed",
                        "KeyCleanup": "an explicit deny in a service control policy"}

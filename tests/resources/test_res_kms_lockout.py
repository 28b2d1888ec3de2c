"""The key policy lockout guard (orchestrator/resources/lockout.py) with KmsKey.

AWS KMS API Reference, CreateKey/PutKeyPolicy BypassPolicyLockoutSafetyCheck: a key policy must let
the caller call PutKeyPolicy again unless the check is bypassed. KMS Developer Guide, "Default key
policy". STS GetCallerIdentity returns assumed-role ARNs, which key policies cannot name as such.
The guard grants nobody but orchestrate's identity (a root identity's statement is restricted to
the root user), lists what orchestrate calls on AWS, and, end to end on the embedded backend whose
gate decides orchestrate's own calls, is what lets orchestrate set a scenario up.
"""
from __future__ import annotations

import pytest
from res_support import (
    ACCOUNT, ACCOUNT_ADMIN, CALLER, actions, apply, doc, key_policy, key_statement, live_key, mutating_ops,
    ops, plan, record, statements_by_sid,
)

from orchestrator.model.normalise import normalise_policy
from orchestrator.resources.context import RunContext
from orchestrator.resources.lockout import (
    GUARD_ACTIONS, MANAGEMENT_ACTIONS, MANAGEMENT_SID, LockoutError, guard_policy, management_statement, principal_arn,
)

DENY_POLICY_UPDATES = key_statement("NoPolicyChanges", "*", "kms:PutKeyPolicy", effect="Deny")


def locked(mode: str = "guard") -> dict:
    return {"users": {"tester": {}}, "keys": {"data": {"lockout": mode, "policy": doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES)}}}


@pytest.mark.parametrize(("caller", "expected"), [
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OrchestrateAdmin/session-1", f"arn:aws:iam::{ACCOUNT}:role/OrchestrateAdmin"),
    (f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/Ops/alice@example.com", f"arn:aws-cn:iam::{ACCOUNT}:role/Ops"),
    (f"arn:aws:sts::{ACCOUNT}:user/moto", CALLER),
    (f"arn:aws:iam::{ACCOUNT}:user/ci/deployer", f"arn:aws:iam::{ACCOUNT}:user/ci/deployer"),
    (f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:root"),
    (f"arn:aws:sts::{ACCOUNT}:federated-user/bob", f"arn:aws:sts::{ACCOUNT}:federated-user/bob"),
])
def test_principal_arn(caller, expected):
    """GetCallerIdentity ARNs to principals a key policy accepts: an assumed-role session becomes
    its role, an STS user ARN the IAM user; IAM ARNs and federated users are kept."""
    assert principal_arn(caller) == expected


class _Identity:
    """Just what guard_policy reads from a backend: the caller identity, account and region."""

    region = "us-east-1"
    account_id = ACCOUNT

    def __init__(self, arn: str) -> None:
        self.arn = arn

    def identity(self) -> dict[str, str]:
        return {"Account": ACCOUNT, "Arn": self.arn, "UserId": "AIDAEXAMPLE"}


def _guard(policy: dict, mode: str = "guard", caller: str = f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s") -> dict:
    return guard_policy(RunContext(_Identity(caller), "res"), "data", policy, mode)


def test_guard_adds_one_management_statement_for_the_callers_role():
    """The management statement names the role behind an assumed-role caller, lists the management
    actions (no kms:* wildcard), and is not added twice."""
    guarded = _guard(doc(ACCOUNT_ADMIN))
    statements = statements_by_sid(guarded)

    assert set(statements) == {"AccountAdmin", MANAGEMENT_SID}
    assert statements[MANAGEMENT_SID]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Admin"}
    assert "kms:PutKeyPolicy" in statements[MANAGEMENT_SID]["Action"]
    assert statements[MANAGEMENT_SID]["Action"] == MANAGEMENT_ACTIONS and "kms:*" not in MANAGEMENT_ACTIONS
    assert _guard(guarded)["Statement"] == guarded["Statement"]


def test_guard_refuses_only_a_deny_that_reaches_the_caller():
    """An explicit Deny of kms:PutKeyPolicy for everyone locks the caller out; one for another
    principal does not; `allow` returns the policy untouched."""
    with pytest.raises(LockoutError, match="NoPolicyChanges"):
        _guard(doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES))

    other = key_statement("NoTesterChanges", f"arn:aws:iam::{ACCOUNT}:user/tester", "kms:PutKeyPolicy", effect="Deny")
    assert MANAGEMENT_SID in statements_by_sid(_guard(doc(ACCOUNT_ADMIN, other)))

    written = doc(ACCOUNT_ADMIN, DENY_POLICY_UPDATES)
    assert _guard(written, mode="allow") is written


def test_locking_policy_is_refused_before_any_kms_call(backend):
    """With `lockout: guard` (the default) a policy that denies kms:PutKeyPolicy to "*" raises
    LockoutError in plan and apply; no KMS API is called and no key exists."""
    with pytest.raises(LockoutError):
        plan(backend, locked())
    with pytest.raises(LockoutError, match="keys.data.policy"):
        apply(backend, locked())

    assert [service for service, _, _ in backend.log.calls if service == "kms"] == []
    assert backend.client("kms").list_keys()["Keys"] == []


def test_guard_sends_management_statement_naming_the_caller(backend):
    """CreateKey with BypassPolicyLockoutSafetyCheck=False and the policy plus Sid
    OrchestrateKeyManagement for moto's caller, arn:aws:iam::123456789012:user/moto."""
    sent = record(backend, "CreateKey")
    apply(backend, {"keys": {"data": {"policy": doc(ACCOUNT_ADMIN)}}})

    assert sent[0]["BypassPolicyLockoutSafetyCheck"] is False
    statements = statements_by_sid(key_policy(backend, live_key(backend, "data")["KeyId"]))
    assert set(statements) == {"AccountAdmin", MANAGEMENT_SID}
    expected = management_statement(CALLER)
    assert normalise_policy({"Statement": [statements[MANAGEMENT_SID]]}) == normalise_policy({"Statement": [expected]})
    assert sorted(statements[MANAGEMENT_SID]["Action"]) == sorted(MANAGEMENT_ACTIONS)


def test_allow_sends_the_policy_as_written(backend):
    """`lockout: allow`: CreateKey with BypassPolicyLockoutSafetyCheck=True and exactly the declared
    statements (no management statement); a second apply changes nothing."""
    sent = record(backend, "CreateKey")
    apply(backend, locked("allow"))

    assert sent[0]["BypassPolicyLockoutSafetyCheck"] is True
    assert "CreateUser" in ops(backend)
    assert set(statements_by_sid(key_policy(backend, live_key(backend, "data")["KeyId"]))) == {"AccountAdmin", "NoPolicyChanges"}
    backend.log.clear()
    assert set(actions(apply(backend, locked("allow"))).values()) == {"no-op"}
    assert mutating_ops(backend) == []


# ---- a guard that grants nobody else ---------------------------------------------------------
# IAM User Guide, "AWS JSON policy elements: Principal" (AWS account principals): naming
# arn:aws:iam::ACCOUNT:root delegates to every principal of the account. "AWS global condition
# context keys", aws:PrincipalArn: the root user's requests carry arn:aws:iam::ACCOUNT:root, and
# only theirs. AWS KMS Developer Guide, "Key policies in AWS KMS": even the root user needs the key
# policy to allow.

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER = "210987654321"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
#: (label, principal, identity policies): IAM administrators, a user with nothing, a role session,
#: a federated user, and another account's root and administrator.
OTHERS = [
    ("iam-administrator", ("User", f"arn:aws:iam::{ACCOUNT}:user/boss", ACCOUNT), True),
    ("user-with-nothing", ("User", f"arn:aws:iam::{ACCOUNT}:user/nobody", ACCOUNT), False),
    ("role-session-administrator", ("AssumedRole", f"arn:aws:sts::{ACCOUNT}:assumed-role/Ops/s", ACCOUNT), True),
    ("federated-administrator", ("FederatedUser", f"arn:aws:sts::{ACCOUNT}:federated-user/bob", ACCOUNT), True),
    ("other-account-root", ("Account", f"arn:aws:iam::{OTHER}:root", OTHER), True),
    ("other-account-administrator", ("User", f"arn:aws:iam::{OTHER}:user/boss", OTHER), True),
]
BASE_POLICIES = {
    "admin-only": doc(key_statement("AdminOnly", f"arn:aws:iam::{ACCOUNT}:user/admin")),
    "account-delegation": doc(key_statement("Account", ROOT)),
    "via-dynamodb": doc({**key_statement("ViaDynamoDB", "*", ["kms:Decrypt", "kms:DescribeKey"]),
                         "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}}),
}


def _decide(principal: tuple[str, str, str], admin: bool, action: str, policy: dict):
    from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, evaluate

    kind, arn, account = principal
    who = Principal(arn, account, kind, userid=account if kind == "Account" else None)
    identity = (PolicySource("identity", "AdministratorAccess", ALLOW_ALL),) if admin else ()
    inputs = PolicyInputs(identity=identity, resource_policy=PolicySource("key", "key policy", policy),
                          resource_account=ACCOUNT)
    return evaluate(Request(who, action, KEY_ARN), inputs)


def _root_guarded(policy: dict) -> dict:
    return _guard(policy, caller=ROOT)


def test_root_guard_is_restricted_to_the_root_user():
    """For a root identity the statement names the root and requires aws:PrincipalArn to be it;
    for any other identity it carries no condition (it names that identity alone)."""
    statement = statements_by_sid(_root_guarded(BASE_POLICIES["admin-only"]))[MANAGEMENT_SID]
    assert statement["Principal"] == {"AWS": ROOT}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": ROOT}}
    assert "Condition" not in management_statement(CALLER)


@pytest.mark.parametrize("base", sorted(BASE_POLICIES))
@pytest.mark.parametrize(("label", "principal", "admin"), OTHERS, ids=[o[0] for o in OTHERS])
def test_root_guard_grants_no_other_principal_anything(base, label, principal, admin):
    """Every guard action, for every other principal: the decision with the guard is the decision
    without it, and the guard statement never takes part in it."""
    policy = BASE_POLICIES[base]
    guarded = _root_guarded(policy)
    for action in MANAGEMENT_ACTIONS:
        without, with_guard = _decide(principal, admin, action, policy), _decide(principal, admin, action, guarded)
        assert with_guard.allowed == without.allowed, (label, action, with_guard.reason)
        assert MANAGEMENT_SID not in {ref.sid for ref in with_guard.matched}, (label, action)


def test_root_guard_lets_the_root_do_every_guard_action():
    """Positive control: the root needs the statement (the admin-only policy does not allow it),
    and the statement allows it every guard action."""
    root, policy = ("Account", ROOT, ACCOUNT), BASE_POLICIES["admin-only"]
    guarded = _root_guarded(policy)
    for action in MANAGEMENT_ACTIONS:
        assert not _decide(root, False, action, policy).allowed, action
        decision = _decide(root, False, action, guarded)
        assert decision.allowed and MANAGEMENT_SID in {ref.sid for ref in decision.matched}, action


def test_an_unrestricted_root_statement_would_delegate():
    """Why the condition is there (and that the test above can fail): the same statement without
    it lets an IAM administrator of the account call kms:DescribeKey "by OrchestrateKeyManagement"."""
    widened = doc(key_statement("AdminOnly", f"arn:aws:iam::{ACCOUNT}:user/admin"),
                  {k: v for k, v in management_statement(ROOT).items() if k != "Condition"})
    decision = _decide(OTHERS[0][1], True, "kms:DescribeKey", widened)
    assert decision.allowed and MANAGEMENT_SID in {ref.sid for ref in decision.matched}


# ---- exactly what orchestrate needs on AWS ---------------------------------------------------

def test_guard_actions_are_management_plus_what_table_setup_and_probes_need():
    """Key management, plus DynamoDB CreateTable's kms:CreateGrant/DescribeKey/GenerateDataKey,
    seeding's kms:Decrypt and the probe's kms:Encrypt; nothing a key policy cannot grant or
    orchestrate never calls, and no wildcard."""
    assert {"kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} <= set(MANAGEMENT_ACTIONS)
    assert {"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"} <= set(MANAGEMENT_ACTIONS)  # pending_deletion
    assert not {"kms:ListAliases", "kms:CreateKey", "kms:ListKeys", "kms:UpdateAlias",
                "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:*"} & set(MANAGEMENT_ACTIONS)
    assert all(GUARD_ACTIONS[action] for action in MANAGEMENT_ACTIONS)


# ---- end to end on the embedded backend: the gate decides orchestrate's own calls -------------

SCENARIO_YAML = """
name: guard-e2e
region: us-east-1
users:
  admin: {managed_policies: [AdministratorAccess]}
  boss: {managed_policies: [AdministratorAccess]}
  nobody: {}
keys:
  data:
    aliases: [alias/guard-e2e]
    rotation: true
    tags: {team: security}
    LOCKOUT
    policy:
      Version: "2012-10-17"
      Statement:
        - {Sid: AdminOnly, Effect: Allow, Principal: {AWS: "user:admin"}, Action: "kms:*", Resource: "*"}
tables:
  orders:
    partition_key: {name: order_id, type: S}
    encryption: key:data
    items:
      - {order_id: "o-1", total: 42}
states:
  - name: only-admin
    expectations:
      - {as: admin, action: "kms:DescribeKey", resource: "key:data", expect: allowed}
      - {as: admin, action: "kms:Decrypt", resource: "key:data", expect: allowed}
      - {as: admin, action: "dynamodb:GetItem", resource: "table:orders", key: {order_id: "o-1"}, expect: allowed}
      - {as: boss, action: "kms:DescribeKey", resource: "key:data", expect: denied, layer: key-policy}
      - {as: boss, action: "kms:Decrypt", resource: "key:data", expect: denied, layer: key-policy}
      - {as: boss, action: "dynamodb:GetItem", resource: "table:orders", key: {order_id: "o-1"}, expect: denied, layer: key-policy}
      - {as: nobody, action: "kms:DescribeKey", resource: "key:data", expect: denied}
"""
#: KMS actions a key policy cannot grant (AWS KMS Developer Guide, "AWS KMS permissions": IAM only).
IAM_ONLY = {"kms:CreateKey", "kms:ListKeys", "kms:ListAliases"}


@pytest.fixture
def orchestrate(monkeypatch, tmp_path, capsys):
    """Runs `orchestrate` on an embedded backend whose identity is `admin_arn` (default moto's);
    returns (exit code, JSON report or None, stderr, the KMS actions of the orchestrator's calls)."""
    import json

    from orchestrator.backends import embedded
    from orchestrator.cli import main

    def run(command: str, lockout: str = "", admin_arn: str | None = None, text: str = SCENARIO_YAML):
        kms_actions: set[str] = set()

        class Backend(embedded.EmbeddedBackend):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **{**kwargs, "admin_arn": admin_arn})
                check = self.gate.check

                def recording(*call, **options):
                    verdict = check(*call, **options)
                    if verdict.admin:
                        kms_actions.update(s.action for s, _ in verdict.steps if s.action.startswith("kms:"))
                    return verdict

                self.gate.check = recording

        monkeypatch.setattr(embedded, "EmbeddedBackend", Backend)
        path = tmp_path / "guard-e2e.yaml"
        path.write_text(text.replace("LOCKOUT", lockout))
        code = main([command, str(path), "--output", "json"])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if out.strip() else None), err, kms_actions

    return run


def _failures(report) -> list:
    return [v for s in report["states"] for v in s["expectations"] if not v["passed"]]


def test_lockout_allow_with_a_policy_naming_someone_else_fails_like_aws(orchestrate):
    """`lockout: allow`, key policy naming only admin: orchestrate's own identity may not use the
    key, so apply stops at its first call on the key (after CreateKey) with AWS's
    AccessDeniedException and KMS's wording, exit 3, nothing reported as proven."""
    code, report, err, _ = orchestrate("apply", lockout="lockout: allow")
    assert code == 3 and (report is None or report["passed"] is False)
    assert "AWS error AccessDeniedException from " in err
    assert "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: kms:" in err
    assert "because no resource-based policy allows" in err


def test_lockout_allow_fails_at_table_creation(orchestrate):
    """The key's first use being DynamoDB's: CreateTable under the key fails with DynamoDB's
    "KMS key access denied error" (the key policy lets orchestrate describe the key, nothing else)."""
    describe_only = ('        - {Sid: OrchestratorDescribes, Effect: Allow, Principal: {AWS: "arn:aws:iam::123456789012:user/moto"},'
                     ' Action: [kms:DescribeKey, kms:ListResourceTags, kms:GetKeyPolicy, kms:GetKeyRotationStatus], Resource: "*"}\n')
    text = SCENARIO_YAML.replace("    aliases: [alias/guard-e2e]\n    rotation: true\n", "")
    text = text.replace("tables:\n", describe_only + "tables:\n", 1)
    code, report, err, _ = orchestrate("apply", lockout="lockout: allow", text=text)
    assert code == 3 and (report is None or report["passed"] is False)
    assert "AWS error AccessDeniedException from CreateTable: KMS key access denied error" in err


def test_default_guard_passes_and_needs_only_its_actions(orchestrate):
    """With the guard the same scenario applies, proves and is destroyed; every KMS authorization
    the orchestrator's calls needed (its own and DynamoDB's on its behalf) is a guard action."""
    code, report, err, kms_actions = orchestrate("run")
    assert code == 0, (err, report and _failures(report))
    assert {"kms:CreateGrant", "kms:DescribeKey", "kms:Decrypt", "kms:Encrypt", "kms:CreateAlias",
            "kms:ScheduleKeyDeletion"} <= kms_actions
    assert kms_actions <= set(MANAGEMENT_ACTIONS) | IAM_ONLY, kms_actions - set(MANAGEMENT_ACTIONS) - IAM_ONLY


def test_as_account_root_the_guard_grants_no_one_else(orchestrate):
    """Orchestrate running as the account root: it sets up, proves and destroys the scenario with
    the guard, and boss (AdministratorAccess) and nobody stay denied by the key policy; no
    verdict is "by OrchestrateKeyManagement"."""
    code, report, err, _ = orchestrate("run", admin_arn=ROOT)
    assert code == 0, (err, report and _failures(report))
    verdicts = [v for s in report["states"] for v in s["expectations"]]
    assert {v["principal"]: v["actual"] for v in verdicts if v["principal"] != "admin"} == {"boss": "denied", "nobody": "denied"}
    denied = [v["reason"] for v in verdicts if v["principal"] != "admin"]
    assert not any(f'allowed by statement "{MANAGEMENT_SID}"' in reason for reason in denied)
    assert all(f'statement "{MANAGEMENT_SID}" of the key policy did not apply: ArnEquals aws:PrincipalArn' in reason
               for reason in denied if "kms:" in reason)

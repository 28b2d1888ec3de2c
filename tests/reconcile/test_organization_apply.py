"""An SCP that denies a call orchestrate needs stops apply with AWS's error on embedded, as it would
on AWS (issue 23, item 4; Organizations User Guide, "SCP evaluation": SCPs bind every principal of a
member account, orchestrate's own credentials there too; IAM User Guide, "Troubleshoot access
denied error messages": "... with an explicit deny in a service control policy").

The organization is made out of band through moto's Organizations API (the scenario language does
not declare one yet): a management account apart from the scenario's, the partner account invited
(moto_extensions: InviteAccountToOrganization) with an SCP that denies iam:PutUserPolicy."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from orchestrator.backends.embedded import EmbeddedBackend
from orchestrator.loader import load_scenario
from orchestrator.reconcile.apply import apply_state
from orchestrator.resources.context import RunContext

ROOT = Path(__file__).resolve().parents[2]
LOADED = load_scenario(ROOT / "scenarios" / "cross-account-table.yaml")
PARTNER = LOADED.desired[0].accounts["partner"]
MANAGEMENT = "999988887777"
NO_INLINE_POLICIES = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "iam:PutUserPolicy", "Resource": "*"}]})


def _organization_denying_inline_policies(backend: EmbeddedBackend) -> None:
    org = backend.client("organizations", None, MANAGEMENT)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    org.invite_account_to_organization(Target={"Type": "ACCOUNT", "Id": PARTNER})
    policy = org.create_policy(Name="NoInlinePolicies", Type="SERVICE_CONTROL_POLICY", Description="",
                               Content=NO_INLINE_POLICIES)["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=policy, TargetId=PARTNER)


def test_an_scp_denying_orchestrates_own_call_stops_apply_with_awss_error() -> None:
    backend = EmbeddedBackend(LOADED.scenario.region)
    try:
        _organization_denying_inline_policies(backend)
        ctx = RunContext(backend, LOADED.scenario.name)
        ctx.declare(LOADED.desired)
        with pytest.raises(ClientError) as raised:
            apply_state(ctx, LOADED.desired[0], "first")
        error = raised.value.response["Error"]
        assert error["Code"] == "AccessDenied"
        assert error["Message"].endswith(
            f"is not authorized to perform: iam:PutUserPolicy on resource: arn:aws:iam::{PARTNER}:user/analyst "
            "with an explicit deny in a service control policy")
        assert f":{PARTNER}:" in error["Message"].split(" is not authorized")[0]
    finally:
        backend.close()

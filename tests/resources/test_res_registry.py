"""The reconciler registry (orchestrator/resources/__init__.py): each kind's declared contract, the
dependency order, and that the declared IAM permissions cover every API call actually made
(as Cloud Custodian checks its resources' `permissions`). Service Authorization Reference: for
KMS, DynamoDB and IAM the IAM action is service:OperationName; sts:GetCallerIdentity needs none.
"""
from __future__ import annotations

import copy
import re

from res_support import ACCOUNT_ADMIN, allow, apply, context, desired, doc, key_statement, teardown

from orchestrator.model.scenario import DesiredState
from orchestrator.resources import REGISTRY

PERMISSION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}


def declared() -> set[str]:
    return {permission for reconciler in REGISTRY for permission in reconciler.permissions}


def test_every_reconciler_declares_its_contract():
    """kind, section (a DesiredState field), non-empty service:Action permissions, replace_on and
    write_only as frozensets of property names, and the six protocol methods."""
    kinds = [reconciler.kind for reconciler in REGISTRY]
    assert sorted(kinds) == sorted({"kms_key", "kms_grant", "dynamodb_table", "iam_user", "iam_user_access", "iam_group",
                                    "iam_group_access", "iam_policy", "s3_bucket", "s3_objects", "iam_role", "iam_role_access",
                                    "s3_account_public_access_block", "organization"})
    for reconciler in REGISTRY:
        assert reconciler.section in DesiredState.model_fields, reconciler.kind
        assert isinstance(reconciler.permissions, tuple) and reconciler.permissions, reconciler.kind
        bad = [p for p in reconciler.permissions if not PERMISSION.match(p)]
        assert bad == [], f"{reconciler.kind}: {bad}"
        assert len(set(reconciler.permissions)) == len(reconciler.permissions), reconciler.kind
        for declared_set in (reconciler.replace_on, reconciler.write_only):
            assert isinstance(declared_set, frozenset) and all(isinstance(p, str) and p for p in declared_set)
        assert not reconciler.replace_on & reconciler.write_only, reconciler.kind
        for method in ("names", "desired", "read", "create", "update", "delete"):
            assert callable(getattr(reconciler, method)), f"{reconciler.kind}.{method}"


def test_registry_order_follows_dependencies():
    """Key policies name users (AWS rejects unknown principals), tables name keys, access names
    keys, tables, groups and customer managed policies; destroy walks the order backwards."""
    at = {reconciler.kind: index for index, reconciler in enumerate(REGISTRY)}
    assert at["iam_user"] < at["kms_key"] < at["dynamodb_table"]
    for access in ("iam_user_access", "iam_group_access"):
        assert max(at["kms_key"], at["dynamodb_table"], at["iam_policy"], at["iam_group"]) < at[access]


def full() -> dict:
    return {
        "policies": {"read": {"description": "d", "document": doc(allow("dynamodb:GetItem", "table:orders"))}},
        "groups": {"devs": {"managed_policies": ["policy:read"],
                            "inline_policies": {"g": doc(allow("kms:DescribeKey", "key:data"))}}},
        "users": {"tester": {"groups": ["devs"], "tags": {"t": "1"}, "managed_policies": ["ReadOnlyAccess"],
                             "inline_policies": {"u": doc(allow("kms:Decrypt", "key:data"))}}},
        "keys": {"data": {"aliases": ["alias/data"], "tags": {"t": "1"},
                          "policy": doc(ACCOUNT_ADMIN, key_statement("Tester", "user:tester", "kms:Decrypt"))}},
        "tables": {"orders": {"partition_key": {"name": "id"}, "encryption": "key:data", "tags": {"t": "1"},
                              "items": [{"id": "a", "n": 1}],
                              "policy": doc(key_statement("Tester", "user:tester", "dynamodb:GetItem") | {"Resource": "table:orders"})}},
    }


def test_lifecycle_calls_are_declared_permissions_and_replace_on_names_properties(backend):
    """Create, update every kind, replace (key spec, table schema, policy description) and destroy:
    every API call made is among the declared permissions; replace_on/write_only name real properties."""
    document = full()
    ctx = context(backend)
    for reconciler in REGISTRY:
        for name in reconciler.names(desired(document)):
            properties = set(reconciler.desired(ctx, desired(document), name))
            assert reconciler.replace_on <= properties and reconciler.write_only <= properties, reconciler.kind

    apply(backend, document)
    updated = copy.deepcopy(document)
    updated["keys"]["data"].update(description="v2", enabled=False, rotation=True, aliases=["alias/data2"], tags={"u": "2"})
    updated["tables"]["orders"].update(tags={"u": "2"}, billing_mode="PROVISIONED", read_capacity=1, write_capacity=1)
    updated["tables"]["orders"]["items"][0]["n"] = 2
    updated["tables"]["orders"]["policy"]["Statement"][0]["Action"] = "dynamodb:Query"
    updated["users"]["tester"].update(tags={"u": "2"}, managed_policies=[], groups=[], inline_policies={})
    updated["groups"]["devs"].update(managed_policies=[], inline_policies={"h": doc(allow("kms:Encrypt", "key:data"))})
    updated["policies"]["read"]["document"] = doc(allow("dynamodb:Query", "table:orders"))
    apply(backend, updated)
    replaced = copy.deepcopy(updated)
    replaced["keys"]["data"].update(spec="RSA_2048", rotation=False, enabled=True)
    replaced["tables"]["orders"]["partition_key"] = {"name": "pk"}
    replaced["tables"]["orders"]["items"] = [{"pk": "a"}]
    replaced["policies"]["read"]["description"] = "e"
    replaced["users"]["tester"]["managed_policies"] = ["policy:read"]
    apply(backend, replaced)
    made = {f"{service}:{operation}" for service, operation, _ in backend.log.calls}
    backend.client("iam").create_access_key(UserName="tester")  # the test's own call, not the orchestrator's
    backend.log.clear()
    teardown(backend, replaced)
    made |= {f"{service}:{operation}" for service, operation, _ in backend.log.calls}

    for operation in ("kms:ScheduleKeyDeletion", "kms:DisableKey", "dynamodb:UpdateTable", "iam:CreatePolicyVersion",
                      "iam:DeletePolicy", "iam:DeleteAccessKey", "iam:RemoveUserFromGroup", "dynamodb:DeleteTable",
                      "dynamodb:PutResourcePolicy", "dynamodb:GetResourcePolicy", "dynamodb:DeleteResourcePolicy"):
        assert operation in made  # the lifecycle really exercised each kind
    assert made - NEEDS_NO_PERMISSION - declared() == set()


def test_adopting_a_group_uses_only_declared_permissions(backend):
    """UpdateGroup (NewPath) is what adoption sends for a group."""
    backend.client("iam").create_group(GroupName="devs")
    backend.log.clear()

    apply(backend, {"groups": {"devs": {}}}, adopt=True)

    made = {f"{service}:{operation}" for service, operation, _ in backend.log.calls}
    assert "iam:UpdateGroup" in made
    assert made - NEEDS_NO_PERMISSION - declared() == set()

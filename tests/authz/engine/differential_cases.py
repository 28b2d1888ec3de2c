"""Random requests and policies for the engine's differential run (plain values, no engine import),
so the same cases can be decided by two versions of the engine and compared.

A case is a dict: principal fields, action, resource, context, identity/boundary policy texts,
a resource policy (kind and text), the resource's account and KMS grants. The generator draws
from the elements and condition keys the rules of the IAM User Guide ("Policy evaluation logic")
and the KMS Developer Guide turn on: principals of two accounts (users, role sessions, roots),
Principal/NotPrincipal naming users, roles, sessions, accounts and "*", Action/NotAction,
Resource/NotResource, and conditions on principal, resource and transport keys.
"""
from __future__ import annotations

import json
import random
from typing import Any

HOME, OTHER = "111122223333", "444455556666"
ACCOUNTS = (HOME, OTHER)
REGION = "us-east-1"
ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
           "kms:DisableKey", "kms:CreateGrant", "kms:DescribeKey", "s3:GetObject", "s3:PutObject",
           "dynamodb:GetItem", "dynamodb:PutItem", "sts:AssumeRole", "sts:GetCallerIdentity", "iam:GetUser")
ACTION_PATTERNS = ("kms:*", "kms:Decrypt", "kms:Encrypt", "kms:Generate*", "kms:*Key*", "s3:Get*", "s3:*",
                   "dynamodb:*", "dynamodb:GetItem", "sts:AssumeRole", "*", "iam:Get*")
NAMES = ("alice", "bob")
ROLES = ("reader", "admin")


def _principal(rng: random.Random) -> dict[str, Any]:
    account = rng.choice(ACCOUNTS)
    kind = rng.choice(("User", "User", "AssumedRole", "Account"))
    tags = {"team": rng.choice(("red", "blue"))} if rng.random() < 0.5 else {}
    if kind == "User":
        name = rng.choice(NAMES)
        return {"arn": f"arn:aws:iam::{account}:user/{name}", "account": account, "type": kind,
                "username": name, "userid": f"AIDA{name.upper()}", "tags": tags, "role_arn": None}
    if kind == "AssumedRole":
        role = rng.choice(ROLES)
        return {"arn": f"arn:aws:sts::{account}:assumed-role/{role}/s{rng.randint(1, 2)}", "account": account,
                "type": kind, "username": None, "userid": f"AROA{role.upper()}:s", "tags": tags,
                "role_arn": f"arn:aws:iam::{account}:role/{role}"}
    return {"arn": f"arn:aws:iam::{account}:root", "account": account, "type": kind, "username": None,
            "userid": None, "tags": {}, "role_arn": None}


def _resource(rng: random.Random, action: str) -> tuple[str, str]:
    account = rng.choice(ACCOUNTS)
    service = action.split(":")[0]
    if service == "kms":
        return f"arn:aws:kms:{REGION}:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab", account
    if service == "s3":
        return f"arn:aws:s3:::bucket-{account}/{rng.choice(('a.txt', 'secret/b.txt'))}", account
    if service == "dynamodb":
        return f"arn:aws:dynamodb:{REGION}:{account}:table/orders", account
    if service == "sts" and action == "sts:AssumeRole":
        return f"arn:aws:iam::{account}:role/{rng.choice(ROLES)}", account
    if service == "iam":
        return f"arn:aws:iam::{account}:user/{rng.choice(NAMES)}", account
    return "*", account


def _principal_element(rng: random.Random) -> Any:
    account = rng.choice(ACCOUNTS)
    choice = rng.randrange(9)
    if choice == 0:
        return "*"
    if choice == 1:
        return {"AWS": f"arn:aws:iam::{account}:root"}
    if choice == 2:
        return {"AWS": account}
    if choice == 3:
        return {"AWS": f"arn:aws:iam::{account}:user/{rng.choice(NAMES)}"}
    if choice == 4:
        return {"AWS": f"arn:aws:iam::{account}:role/{rng.choice(ROLES)}"}
    if choice == 5:
        return {"AWS": f"arn:aws:sts::{account}:assumed-role/{rng.choice(ROLES)}/s{rng.randint(1, 2)}"}
    if choice == 6:
        return {"AWS": [f"arn:aws:iam::{a}:root" for a in ACCOUNTS]}
    role = rng.choice(ROLES)
    named = [f"arn:aws:iam::{account}:role/{role}", f"arn:aws:iam::{account}:root"]
    if choice == 8:
        named.append(f"arn:aws:sts::{account}:assumed-role/{role}/s{rng.randint(1, 2)}")
    return {"AWS": named}


def _condition(rng: random.Random) -> dict[str, Any]:
    account = rng.choice(ACCOUNTS)
    options = [
        {"StringEquals": {"aws:PrincipalTag/team": rng.choice(("red", "blue"))}},
        {"StringEquals": {"aws:ResourceAccount": account}},
        {"StringEquals": {"aws:PrincipalAccount": account}},
        {"StringEquals": {"kms:CallerAccount": account}},
        {"IpAddress": {"aws:SourceIp": rng.choice(("10.0.0.0/8", "127.0.0.0/8"))}},
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        {"Bool": {"aws:SecureTransport": rng.choice(("true", "false"))}},
        {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{account}:role/*"}},
        {"Null": {"aws:PrincipalTag/team": rng.choice(("true", "false"))}},
        {"StringLike": {"kms:ViaService": "dynamodb.*.amazonaws.com"}},
        {"StringEqualsIfExists": {"aws:username": rng.choice(NAMES)}},
    ]
    return rng.choice(options)


def _statement(rng: random.Random, resource_based: bool, action: str) -> dict[str, Any]:
    effect = "Deny" if rng.random() < 0.2 else "Allow"
    statement: dict[str, Any] = {"Effect": effect}
    if rng.random() < 0.5:
        statement["Sid"] = f"S{rng.randrange(100)}"
    if resource_based:
        if effect == "Deny" and rng.random() < 0.3:
            statement["NotPrincipal"] = _principal_element(rng)
        else:
            statement["Principal"] = _principal_element(rng)
    patterns = sorted(set(rng.sample(ACTION_PATTERNS, rng.randint(1, 2)) + ([action] if rng.random() < 0.5 else [])))
    statement["NotAction" if rng.random() < 0.15 else "Action"] = patterns if len(patterns) > 1 else patterns[0]
    statement["NotResource" if rng.random() < 0.1 else "Resource"] = rng.choice(
        ("*", "*", "*", "arn:aws:kms:*:*:key/*", f"arn:aws:s3:::bucket-{rng.choice(ACCOUNTS)}/*",
         f"arn:aws:dynamodb:{REGION}:{rng.choice(ACCOUNTS)}:table/*", "arn:aws:iam::*:role/*"))
    if rng.random() < 0.35:
        statement["Condition"] = _condition(rng)
    return statement


def _policy(rng: random.Random, resource_based: bool, action: str) -> str:
    statements = [_statement(rng, resource_based, action) for _ in range(rng.randint(1, 3))]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _resource_policy_kind(action: str, resource: str) -> str:
    if resource.startswith("arn:aws:kms:"):
        return "key"
    if action == "sts:AssumeRole":
        return "trust"
    return "resource"


def _grants(rng: random.Random, principal: dict[str, Any], resource: str) -> list[dict[str, Any]]:
    if not resource.startswith("arn:aws:kms:") or rng.random() < 0.7:
        return []
    grantee = principal["role_arn"] if principal["role_arn"] and rng.random() < 0.5 else principal["arn"]
    return [{"grantee_principal": grantee, "operations": rng.sample(["Decrypt", "Encrypt", "GenerateDataKey"], 2),
             "key_arn": resource, "name": "g1"}]


def case(rng: random.Random) -> dict[str, Any]:
    principal = _principal(rng)
    action = rng.choice(ACTIONS)
    resource, owner = _resource(rng, action)
    context = {"aws:SourceIp": rng.choice(("10.1.2.3", "127.0.0.1")),
               "aws:SecureTransport": rng.choice(("true", "false"))}
    if rng.random() < 0.3:
        context["kms:ViaService"] = f"dynamodb.{REGION}.amazonaws.com"
    if action.startswith("kms:"):
        context["kms:CallerAccount"] = principal["account"]
    resource_policy = None
    if rng.random() < 0.8 and resource != "*":
        resource_policy = {"kind": _resource_policy_kind(action, resource), "text": _policy(rng, True, action)}
    return {
        "principal": principal, "action": action, "resource": resource, "context": context,
        "identity": [_policy(rng, False, action) for _ in range(rng.choice((0, 1, 1, 2)))],
        "boundaries": [_policy(rng, False, action)] if rng.random() < 0.15 else [],
        "resource_policy": resource_policy, "resource_account": owner if resource != "*" else None,
        "grants": _grants(rng, principal, resource),
    }


def cases(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [case(rng) for _ in range(count)]


def decide(engine_module: Any, found: dict[str, Any], evaluate: Any) -> dict[str, Any]:
    """The decision of ``evaluate`` (an engine's) on a case, as plain values. ``engine_module``
    supplies Principal, Request, PolicyInputs, PolicySource and Grant."""
    m = engine_module
    p = found["principal"]
    principal = m.Principal(arn=p["arn"], account=p["account"], type=p["type"], username=p["username"],
                            userid=p["userid"], tags=p["tags"], role_arn=p["role_arn"])
    policy = found["resource_policy"]
    inputs = m.PolicyInputs(
        identity=[m.PolicySource("identity", f"identity{i}", t) for i, t in enumerate(found["identity"])],
        boundaries=[m.PolicySource("boundary", "boundary", t) for t in found["boundaries"]],
        resource_policy=None if policy is None else m.PolicySource(policy["kind"], "resource policy", policy["text"]),
        resource_account=found["resource_account"],
        grants=[m.Grant(g["grantee_principal"], g["operations"], g["key_arn"], name=g["name"]) for g in found["grants"]],
    )
    decision = evaluate(m.Request(principal, found["action"], found["resource"], found["context"]), inputs)
    return {"decision": decision.decision, "layer": decision.layer,
            "matched": [[r.policy_kind, r.policy_name, r.sid, r.index, r.effect] for r in decision.matched],
            "missing": list(decision.missing_context), "reason": decision.reason}

"""IAM SimulatePrincipalPolicy / SimulateCustomPolicy answered by our engine.

moto 5.2 does not implement the IAM policy simulator.  Following the IAM API
Reference ("SimulatePrincipalPolicy", "SimulateCustomPolicy") the gate answers
both from :func:`orchestrator.authz.simulate.simulate_document`; for
SimulatePrincipalPolicy the policies are those the world reader finds for the
user or role named by ``PolicySourceArn`` (inline, attached, group policies and
the permissions boundary), plus any ``PolicyInputList`` given, and the SCPs of the
principal's account when it is in an organization (the world's ``membership``): the API
Reference's ``OrganizationsDecisionDetail`` "details how Organizations and its service control
policies affect the results of the simulation. Only applies if the simulated user's account is part
of an organization." (handed to the simulator as its ServiceControlPolicies extension, root first).
"""
from __future__ import annotations

from typing import Any, Mapping

from orchestrator.authz.gate.errors import AwsError
from ..simulate import InputError, simulate_document
from ..world import PolicyDoc, World

__all__ = ["SIMULATE_OPERATIONS", "simulate_call", "unflatten_query"]

SIMULATE_OPERATIONS = frozenset({"SimulatePrincipalPolicy", "SimulateCustomPolicy"})
_PASSED = ("ActionNames", "ResourceArns", "ResourcePolicy", "ResourceOwner", "CallerArn",
           "ContextEntries", "PolicyInputList", "PermissionsBoundaryPolicyInputList")


def _policy_id(doc: PolicyDoc) -> str:
    """How IAM's simulator names a source policy (its name)."""
    name = doc.name
    if " inline " in name:
        return name.rsplit(" inline ", 1)[1]
    return name.rsplit("/", 1)[-1]


def _principal_document(params: Mapping[str, Any], world: World) -> tuple[dict[str, Any], list[str]]:
    arn = str(params.get("PolicySourceArn", ""))
    identity = world.identity_for_arn(arn)
    if identity is None:
        raise LookupError(arn)
    docs = world.identity_policies(identity)
    document = {key: params[key] for key in _PASSED if key in params}
    document["PolicyInputList"] = [d.document for d in docs] + list(params.get("PolicyInputList", []))
    document.setdefault("CallerArn", arn)
    boundary = world.permissions_boundary(identity)
    if boundary is not None:
        document["PermissionsBoundaryPolicyInputList"] = [boundary.document]
    document.update(_organization_fields(world, identity.account))
    names = [_policy_id(d) for d in docs]
    names += [f"PolicyInputList.{i + 1}" for i in range(len(params.get("PolicyInputList", [])))]
    return document, names


def _organization_fields(world: World, account: str) -> dict[str, Any]:
    """simulate's extension fields (simulate_extensions.py) for the SCPs of ``account``'s levels, as
    the world holds them; none outside an organization (or for a world without organizations)."""
    read = getattr(world, "membership", None)
    org = None if read is None else read(account)
    if org is None:
        return {}
    fields: dict[str, Any] = {
        "OrganizationId": org.org_id,
        "ServiceControlPolicies": [{"Id": level.id, "Policies": [str(source.document) for source in level.scps]}
                                   for level in org.levels]}
    if org.management:
        fields["ManagementAccount"] = account
    return fields


def _rename(result: dict[str, Any], names: list[str]) -> dict[str, Any]:
    for evaluation in result["EvaluationResults"]:
        for statement in evaluation["MatchedStatements"]:
            source = statement["SourcePolicyId"]
            if source.startswith("PolicyInputList."):
                index = int(source.rsplit(".", 1)[1]) - 1
                statement["SourcePolicyId"] = names[index] if index < len(names) else source
    return result


def simulate_call(operation: str, params: Mapping[str, Any], world: World,
                  request_id: str) -> dict[str, Any] | AwsError:
    """The parsed (botocore-shaped) answer, or the AWS error for bad input."""
    try:
        if operation == "SimulatePrincipalPolicy":
            document, names = _principal_document(params, world)
            result = _rename(simulate_document(document), names)
        else:
            result = simulate_document({k: params[k] for k in _PASSED if k in params})
    except LookupError as missing:
        return AwsError("NoSuchEntity", f"The user with name {str(missing).rsplit('/', 1)[-1]} cannot be found.",
                        404, "simulator", "iam", request_id)
    except InputError as error:
        return AwsError("InvalidInput", str(error), 400, "simulator", "iam", request_id)
    result["IsTruncated"] = False
    return result


def _insert(root: dict[str, Any], parts: list[str], value: str) -> None:
    node = root
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if set(node) == {"member"} and isinstance(node["member"], dict):
        members = node["member"]
        return [_listify(members[k]) for k in sorted(members, key=lambda k: int(k) if k.isdigit() else 0)]
    return {key: _listify(value) for key, value in node.items()}


def unflatten_query(form: Mapping[str, str]) -> dict[str, Any]:
    """Query-protocol parameters (``ActionNames.member.1=...``) as nested lists and dicts."""
    root: dict[str, Any] = {}
    for key, value in form.items():
        _insert(root, key.split("."), value)
    return dict(_listify(root))

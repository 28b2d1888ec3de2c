"""Checks on a table's resource-based policy that its schema cannot express.

Every statement names its resources, as every policy statement but a role trust policy's must
(IAM User Guide, "IAM JSON policy elements: Resource": "Statements must include either a Resource
or a NotResource element"); KMS key policies write `*`, DynamoDB's examples the table ARN.

DynamoDB Developer Guide, "DynamoDB resource-based policy examples": "When you specify an ARN in
the Resource field of a resource-based policy, the policy takes effect only if the specified ARN
matches the ARN of the DynamoDB resource to which it is attached." A statement naming another
scenario entity (`table:other`, `key:data`) would be accepted and never match, so it is refused;
`*`, literal ARNs and `table:NAME` of the table itself are accepted.

DynamoDB refuses to attach a policy that grants public access ("Blocking public access with
resource-based policies in DynamoDB"): the Principal must not include `*` unless one of the
trusted condition keys listed there restricts it. PutResourcePolicy would fail mid-apply, so an
Allow for `*` without a condition on one of those keys is refused here (AWS's automated reasoning
is finer: a wildcard in such a condition's value still counts as public, which is not checked).

orchestrate manages the table through the same policy (DescribeTable, PutResourcePolicy,
DeleteTable ...). An unconditioned Deny that applies to every principal of the account (`"*"`,
the account, or `NotPrincipal`) on one of those actions would stop orchestrate observing,
changing and destroying the table, leaving it behind; it is refused, as the key lockout guard
refuses key policies that lock orchestrate out. DynamoDB's own guard, PutResourcePolicy's
`ConfirmRemoveSelfResourceAccess`, protects only the right to change the policy.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from orchestrator.loader.diagnostics import PathElement
from orchestrator.loader.validation import Problem, located_statements
from orchestrator.model.policy import ACCOUNT_ID_PATTERN, PolicyDocument, Statement, as_list, is_reference

Path = tuple[PathElement, ...]
PAGE = 'DynamoDB Developer Guide, "DynamoDB resource-based policy examples"'
BPA_PAGE = 'DynamoDB Developer Guide, "Blocking public access with resource-based policies in DynamoDB"'
#: The condition keys that page names as restricting a `*` principal.
TRUSTED_KEYS = frozenset(k.lower() for k in (
    "aws:PrincipalAccount", "aws:PrincipalArn", "aws:PrincipalOrgID", "aws:PrincipalOrgPaths",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:UserId",
    "aws:PrincipalServiceName", "aws:PrincipalServiceNamesList", "aws:PrincipalIsAWSService",
    "aws:Ec2InstanceSourceVpc", "aws:SourceOrgID", "aws:SourceOrgPaths",
))
#: The table actions the table reconciler calls (orchestrator/resources/dynamodb_table.py;
#: tests/loader check the two agree).
MANAGEMENT_ACTIONS = (
    "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:PutItem", "dynamodb:BatchGetItem",
    "dynamodb:GetResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
)


def check_table_policy(name: str, document: PolicyDocument, path: Path, names: dict[str, set[str]]) -> list[Problem]:
    """Resources named, resources that can match the table, no Deny that locks orchestrate out of it."""
    problems: list[Problem] = []
    for spath, statement in located_statements(document, path):
        if statement.resource is None and statement.not_resource is None:
            problems.append(Problem(spath, (
                "each statement of a table policy needs Resource or NotResource (IAM User Guide,"
                f" \"IAM JSON policy elements: Resource\"): 'table:{name}', the table's ARN, or '*'"
            )))
        problems += _foreign_resources(name, statement, spath, names)
        if _public(statement):
            problems.append(Problem(spath, (
                f"this Allow grants public access (Principal \"*\" without a condition on a trusted key such as"
                f" aws:PrincipalAccount or aws:PrincipalArn): DynamoDB refuses to attach such a policy ({BPA_PAGE})."
                " Name the principals (user:NAME, account) or add such a condition"
            )))
        locked = _locked_out_actions(statement)
        if locked:
            problems.append(Problem(spath, (
                f"this Deny applies to every principal of the account, orchestrate included, for"
                f" {', '.join(locked)}: orchestrate could no longer observe, change or destroy table"
                f" {name!r}. Name the principals to deny (Principal {{AWS: user:NAME}})"
                " or limit the Deny with a Condition"
            )))
    return problems


def _foreign_resources(name: str, statement: Statement, path: Path, names: dict[str, set[str]]) -> list[Problem]:
    """References to other entities; one to an unknown entity is reported as unknown (references.py)."""
    problems = []
    for field, alias in (("resource", "Resource"), ("not_resource", "NotResource")):
        value = getattr(statement, field)
        for index, resource in enumerate(as_list(value) if value is not None else []):
            kind, _, other = resource.partition(":")
            if not is_reference(resource) or resource == f"table:{name}" or other not in names.get(kind, set()):
                continue
            where = path + (alias,) + ((index,) if isinstance(value, list) else ())
            problems.append(Problem(where, (
                f"{resource!r} is not this table: a table policy takes effect only for the ARN of the table"
                f" it is attached to ({PAGE}); use 'table:{name}' or '*'"
            )))
    return problems


def _locked_out_actions(statement: Statement) -> list[str]:
    """The management actions an unconditioned, account-wide Deny covers (none if it does not apply)."""
    if statement.effect != "Deny" or statement.condition or not _everyone(statement):
        return []
    if statement.not_resource is not None:
        return []  # what a NotResource excludes cannot be told here; AWS decides it
    if statement.action is not None:
        patterns = [a.lower() for a in as_list(statement.action)]
        return [a for a in MANAGEMENT_ACTIONS if any(fnmatchcase(a.lower(), p) for p in patterns)]
    excluded = [a.lower() for a in as_list(statement.not_action)]
    return [a for a in MANAGEMENT_ACTIONS if not any(fnmatchcase(a.lower(), p) for p in excluded)]


def _public(statement: Statement) -> bool:
    principal: Any = statement.principal
    star = principal == "*" or (principal is not None and "*" in as_list(principal.aws or []))
    if statement.effect != "Allow" or not star:
        return False
    keys = {key.lower() for block in (statement.condition or {}).values() for key in block}
    return not keys & TRUSTED_KEYS


def _everyone(statement: Statement) -> bool:
    """Principal "*", the account (by reference, id or root ARN), or any NotPrincipal."""
    if statement.not_principal is not None:
        return True
    principal: Any = statement.principal
    if principal == "*":
        return True
    values = as_list(principal.aws) if principal is not None and principal.aws is not None else []
    return any(v in ("*", "account") or ACCOUNT_ID_PATTERN.match(v) or v.endswith(":root") for v in values)

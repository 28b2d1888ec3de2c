"""``orchestrate simulate``: IAM SimulateCustomPolicy, offline, on our engine.

Input is one JSON document or JSON Lines (one document per line) in the shape
of ``aws iam simulate-custom-policy --cli-input-json`` (IAM API Reference,
"SimulateCustomPolicy"): ``PolicyInputList``, ``PermissionsBoundaryPolicyInputList``,
``ActionNames`` (required), ``ResourceArns`` (default ``["*"]``),
``ResourcePolicy``, ``ResourceOwner``, ``CallerArn`` and ``ContextEntries``.
For every document one JSON line ``{"EvaluationResults": [...]}`` is printed,
one ``EvaluationResult`` per (action, resource) pair in input order (the
classic per-resource shape), with ``EvalActionName``, ``EvalResourceName``,
``EvalDecision``, ``MatchedStatements`` (``SourcePolicyId`` such as
``PolicyInputList.1`` / ``PermissionsBoundaryPolicyInputList.1`` /
``ResourcePolicy``, ``SourcePolicyType`` "IAM Policy" / "Resource Policy",
``StartPosition`` / ``EndPosition``), ``MissingContextValues``, and
``EvalDecisionDetails`` / ``PermissionsBoundaryDecisionDetail`` where AWS
returns them.

Extension fields (:mod:`orchestrator.authz.simulate_extensions`, README "simulate") give what
SimulateCustomPolicy cannot: ``ServiceControlPolicies`` and ``ResourceControlPolicies`` per level
(root first), ``OrganizationId``, ``ManagementAccount``, ``SessionPolicy``, ``VpcEndpoint``, and a
``CallerArn`` of ``anonymous`` or an AWS service principal; ``OrchestrateLayer`` names the layer that
decided (``scp``, ``rcp``, ``vpc-endpoint``, ``session-policy``, ...).

Deliberate differences from AWS's simulator, where the simulator does not
decide as the service would:

* when the resource is a KMS key ARN (``arn:aws:kms:...:key/...``) a
  ``ResourcePolicy`` is treated as its key policy — it must allow, and a
  statement naming the account only delegates to the IAM policies (AWS KMS
  Developer Guide, "Key policies in AWS KMS"); with no ``ResourcePolicy`` the
  key's policy is unknown and the decision fails closed (``implicitDeny``:
  "Unless the key policy explicitly allows it, you cannot use IAM policies to
  allow access to a KMS key").  AWS's simulator evaluates identity policies alone;
* for ``sts:AssumeRole`` (``sts:TagSession``, ``sts:SetSourceIdentity``) on a role ARN the
  ``ResourcePolicy`` is the role's trust policy, which must allow explicitly even in the same
  account (IAM User Guide, "How AWS enforcement code logic evaluates requests to allow or deny
  access"); with no ``ResourcePolicy`` the trust policy is unknown and the decision fails closed;
* ``aws:ResourceAccount`` is set to ``ResourceOwner`` when given and no context entry names it,
  as a real request for an owned resource carries it;
* ``sts:GetCallerIdentity`` is ``allowed`` whatever the policies say (AWS STS
  API Reference, "GetCallerIdentity": no permission is required and an
  explicit deny does not apply);
* ``orchestrate simulate`` adds ``OrchestrateReason`` to every result: the
  engine's reason in words (which statement allowed or denied, which
  condition did not hold).  The in-process IAM API answers leave it out.

A malformed line prints ``SOURCE:LINE: message`` on stderr and exits 2;
results of earlier lines have already been printed.  This module imports
nothing heavy (no boto3/moto/pydantic) so that start-up stays fast.

Each distinct policy text is parsed once per run: the parsed mapping is
checked (:func:`~orchestrator.authz.engine.validation.policy_problems`) and compiled
(:func:`~orchestrator.authz.engine.documents.compile_text`) from the same parse, and
the verdict is remembered for the lines that repeat it (a :class:`Prepared`).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Iterator, TextIO

from orchestrator import arns
from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.documents import PolicyCache, PolicyError, load_document
from orchestrator.authz.engine.inputs import Decision, PolicyInputs, PolicySource, StatementRef
from orchestrator.authz.engine.positions import statement_positions
from orchestrator.authz.engine.request import Principal, Request
from orchestrator.authz.engine.validation import policy_problems
from orchestrator.authz.services.rules import ROLE_ARN
from orchestrator.authz.simulate_extensions import SOURCE_TYPES, Extensions, extension_principal
from orchestrator.authz.services.sts_trust_policy import TRUST_ACTIONS
from orchestrator.errors import InvalidInputError
from orchestrator.constants import DEFAULT_ACCOUNT
from orchestrator.exit_codes import ExitCode

__all__ = ["run", "simulate_document", "InputError", "Prepared"]

_KMS_KEY = arns.KMS_KEY_ARN
_CALLER = arns.CALLER_ARN
#: orchestrate's extension fields (README, "simulate"): the organization, a session policy, an endpoint.
_EXTENSION_KEYS = {"ServiceControlPolicies", "ResourceControlPolicies", "OrganizationId", "ManagementAccount",
                   "SessionPolicy", "VpcEndpoint"}
_KNOWN_KEYS = {"PolicyInputList", "PermissionsBoundaryPolicyInputList", "ActionNames", "ResourceArns",
               "ResourcePolicy", "ResourceOwner", "CallerArn", "ContextEntries",
               "ResourceHandlingOption", "MaxItems", "Marker"} | _EXTENSION_KEYS
_CONTEXT_TYPES = {"string", "stringList", "numeric", "numericList", "boolean", "booleanList",
                  "ip", "ipList", "binary", "binaryList", "date", "dateList"}
_PRINCIPAL_TYPES = (("root", "Account"), ("user/", "User"), ("assumed-role/", "AssumedRole"),
                    ("role/", "AssumedRole"), ("federated-user/", "FederatedUser"))
_PREPARED_SIZE = 4096
#: One output line: json.dumps(separators=...) would build this encoder again for every line.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


class InputError(InvalidInputError):
    """A malformed input document (reported as SOURCE:LINE: message)."""


def _string_list(document: Mapping[str, Any], name: str, default: list[str] | None) -> list[str]:
    if name not in document:
        if default is None:
            raise InputError(f"missing required parameter {name}")
        return default
    value = document[name]
    if not isinstance(value, list):
        raise InputError(f"{name} must be a list of strings")
    for item in value:
        if not isinstance(item, str):
            raise InputError(f"{name} must be a list of strings")
    return value


def _optional_string(document: Mapping[str, Any], name: str) -> str | None:
    value = document.get(name)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be a string")
    return value


def _context_value(value: Any, name: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InputError(f"ContextEntries {name}: ContextKeyValues must be strings")


def _context(document: Mapping[str, Any]) -> dict[str, list[str]]:
    entries = document.get("ContextEntries", [])
    if not isinstance(entries, list):
        raise InputError("ContextEntries must be a list")
    context: dict[str, list[str]] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("ContextKeyName"), str):
            raise InputError("each ContextEntries item needs a ContextKeyName string")
        name, values = entry["ContextKeyName"], entry.get("ContextKeyValues", [])
        if not isinstance(values, list):
            raise InputError(f"ContextEntries {name}: ContextKeyValues must be a list")
        kind = entry.get("ContextKeyType", "string")
        if kind not in _CONTEXT_TYPES:
            raise InputError(f"ContextEntries {name}: unknown ContextKeyType {kind!r}")
        context.setdefault(name, []).extend(_context_value(v, name) for v in values)
    return context


def _owner_account(document: Mapping[str, Any]) -> str | None:
    owner = _optional_string(document, "ResourceOwner")
    if owner is None:
        return None
    if re.fullmatch(r"\d{12}", owner):
        return owner
    found = arns.ROOT_ARN.match(owner)
    if found is None:
        raise InputError(f"ResourceOwner must be an account ARN like arn:aws:iam::123456789012:root, not {owner!r}")
    return found["account"]


class Prepared:
    """What a run has worked out already, by input text: each distinct policy's first grammar
    problem (None: well formed, and compiled into the engine's cache from the same parse) and each
    caller's Principal. Bounded: emptied when full."""

    __slots__ = ("problems", "principals", "positions", "engine")

    def __init__(self) -> None:
        self.problems: dict[tuple[str, bool], str | None] = {}
        self.principals: dict[tuple[str | None, str | None], Principal] = {}
        self.positions: dict[str, tuple[Any, ...]] = {}
        #: The engine of this run: each distinct policy is compiled once into its cache.
        self.engine = service_engine()

    def problem(self, text: str, resource_based: bool) -> str | None:
        key = (text, resource_based)
        if key in self.problems:
            return self.problems[key]
        if len(self.problems) >= _PREPARED_SIZE:
            self.problems.clear()
        found = self.problems[key] = _first_problem(text, resource_based, self.engine.policies)
        return found

    def statement_positions(self, text: str) -> tuple[Any, ...]:
        found = self.positions.get(text)
        if found is None:
            if len(self.positions) >= _PREPARED_SIZE:
                self.positions.clear()
            found = self.positions[text] = statement_positions(text)
        return found

    def principal(self, document: Mapping[str, Any], owner: str | None) -> Principal:
        key = (_optional_string(document, "CallerArn"), owner)
        found = self.principals.get(key)
        if found is None:
            if len(self.principals) >= _PREPARED_SIZE:
                self.principals.clear()
            found = self.principals[key] = _principal(key[0], owner)
        return found


def _first_problem(text: str, resource_based: bool, policies: PolicyCache) -> str | None:
    """policy_problems(text)[0] or None, parsing the text once; a well-formed policy is compiled
    from that parse into the engine's cache (evaluate finds it there)."""
    try:
        mapping = load_document(text)
    except PolicyError as error:
        return str(error)
    problems = policy_problems(mapping, resource_based)
    if problems:
        return problems[0]
    try:
        policies.compile_text(text, resource_based, mapping)
    except PolicyError:
        pass  # evaluate compiles it again and reports the error where it always has
    return None


def _principal(caller: str | None, owner: str | None) -> Principal:
    special = extension_principal(caller)  # "anonymous" or a service principal (simulate_extensions.py)
    if special is not None:
        return special
    arn = caller or arns.user_arn(owner or DEFAULT_ACCOUNT, "simulated")
    found = _CALLER.match(arn)
    if found is None:
        raise InputError(f"CallerArn {arn!r} is not an IAM or STS principal ARN")
    account, rest = found["account"], found["resource"]
    kind = next((name for prefix, name in _PRINCIPAL_TYPES if rest.startswith(prefix)), None)
    if kind is None:
        raise InputError(f"CallerArn {arn!r} is not a user, role, session or account root ARN")
    return Principal(arn=arn, account=account, type=kind)


def _checked_policies(texts: list[str], parameter: str, kind: str, prepared: Prepared) -> list[PolicySource]:
    sources = []
    for index, text in enumerate(texts, start=1):
        name = f"{parameter}.{index}"
        problem = prepared.problem(text, False)
        if problem is not None:
            raise InputError(f"{name}: malformed policy: {problem}")
        sources.append(PolicySource(kind, name, text))
    return sources


def _resource_policy(document: Mapping[str, Any], prepared: Prepared) -> str | None:
    text = _optional_string(document, "ResourcePolicy")
    if text is not None:
        problem = prepared.problem(text, True)
        if problem is not None:
            raise InputError(f"ResourcePolicy: malformed policy: {problem}")
    return text


class _Simulation:
    """One input document, validated."""

    def __init__(self, document: Any, prepared: Prepared) -> None:
        if not isinstance(document, Mapping):
            raise InputError("input must be a JSON object")
        unknown = sorted(set(document) - _KNOWN_KEYS)
        if unknown:
            raise InputError(f"unknown parameter {unknown[0]}")
        self.actions = _string_list(document, "ActionNames", None)
        if not self.actions:
            raise InputError("ActionNames must not be empty")
        self.resources = _string_list(document, "ResourceArns", ["*"]) or ["*"]
        self.identity = _checked_policies(_string_list(document, "PolicyInputList", []), "PolicyInputList",
                                          "identity", prepared)
        self.boundaries = _checked_policies(
            _string_list(document, "PermissionsBoundaryPolicyInputList", []),
            "PermissionsBoundaryPolicyInputList", "boundary", prepared)
        self.resource_policy = _resource_policy(document, prepared)
        self.owner = _owner_account(document)
        self.principal = prepared.principal(document, self.owner)
        self.context = _with_resource_account(_context(document), self.owner)
        self.prepared = prepared
        self.texts = {s.name: s.document for s in (*self.identity, *self.boundaries)}
        self.extensions: Extensions | None = None
        if not _EXTENSION_KEYS.isdisjoint(document):
            self.extensions = Extensions(document, self.principal, self.owner, self._check, InputError)
            self.texts.update(self.extensions.texts)
        if self.resource_policy is not None:
            self.texts["ResourcePolicy"] = self.resource_policy

    def inputs(self, action: str, resource: str) -> PolicyInputs:
        """The policies of one (action, resource): ``ResourcePolicy`` is the key policy of a KMS key
        ARN and the role trust policy of sts:AssumeRole (TagSession, SetSourceIdentity) on a role
        ARN, decided by those policies' own rules (services/); else a resource-based policy."""
        policy = None
        if self.resource_policy is not None:
            policy = PolicySource(_policy_kind(action, resource), "ResourcePolicy", self.resource_policy)
        found = self.extensions
        if found is None:
            return PolicyInputs(identity=self.identity, boundaries=self.boundaries,
                                resource_policy=policy, resource_account=self.owner)
        return PolicyInputs(identity=self.identity, boundaries=self.boundaries, resource_policy=policy,
                            resource_account=self.owner, principal_org=found.principal_org,
                            resource_org=found.resource_org, vpc_endpoint=found.endpoint,
                            session_policies=(found.session,) if found.session is not None else ())

    def _check(self, text: str, resource_based: bool, name: str) -> None:
        problem = self.prepared.problem(text, resource_based)
        if problem is not None:
            raise InputError(f"{name}: malformed policy: {problem}")

    @property
    def cross_account(self) -> bool:
        return self.owner is not None and self.owner != self.principal.account

    def results(self, reasons: bool = False) -> list[dict[str, Any]]:
        out = []
        for action in self.actions:
            for resource in self.resources:
                request = Request(self.principal, action, resource, self.context)
                out.append(self.result(request, self.inputs(action, resource), reasons))
        return out

    def result(self, request: Request, inputs: PolicyInputs, reasons: bool = False) -> dict[str, Any]:
        engine = self.prepared.engine
        decision: Decision = engine.evaluate(request, inputs)
        result: dict[str, Any] = {
            "EvalActionName": request.action,
            "EvalResourceName": request.resource,
            "EvalDecision": decision.decision,
            "MatchedStatements": [self.statement(ref) for ref in decision.matched],
            "MissingContextValues": list(decision.missing_context),
        }
        if reasons:
            result["OrchestrateReason"] = decision.reason
            result["OrchestrateLayer"] = decision.layer
        organization = self.extensions is not None and self.extensions.principal_org is not None
        sides = (engine.side_decisions(request, inputs) if self.cross_account or self.boundaries or organization
                 else None)
        if self.cross_account and sides is not None:
            result["EvalDecisionDetails"] = {"IAM Policy": sides["identity"], "Resource Policy": sides["resource"]}
        elif request.resource != "*":
            result["EvalDecisionDetails"] = {}
        if organization and sides is not None:  # AWS's member: whether the SCPs allow (none apply: true)
            result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": sides.get("scp", "allowed") == "allowed"}
        if self.boundaries and sides is not None:
            result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": sides["boundary"] == "allowed"}
        return result

    def statement(self, ref: StatementRef) -> dict[str, Any]:
        policy_type = SOURCE_TYPES.get(ref.policy_kind) or (
            "Resource Policy" if ref.policy_name == "ResourcePolicy" else "IAM Policy")
        out: dict[str, Any] = {"SourcePolicyId": ref.policy_name, "SourcePolicyType": policy_type}
        text = self.texts.get(ref.policy_name)
        positions = self.prepared.statement_positions(text) if isinstance(text, str) else ()
        if ref.index < len(positions):
            (line, column), (end_line, end_column) = positions[ref.index]
            out["StartPosition"] = {"Line": line, "Column": column}
            out["EndPosition"] = {"Line": end_line, "Column": end_column}
        return out


def _with_resource_account(context: dict[str, list[str]], owner: str | None) -> dict[str, list[str]]:
    """``aws:ResourceAccount`` is the ``ResourceOwner`` unless a context entry gives it: a request
    for an owned resource carries it (IAM User Guide, "AWS global condition context keys")."""
    if owner is None or any(key.lower() == "aws:resourceaccount" for key in context):
        return context
    return {**context, "aws:ResourceAccount": [owner]}


def _policy_kind(action: str, resource: str) -> str:
    if _KMS_KEY.match(resource):
        return "key"
    if action.lower() in TRUST_ACTIONS and ROLE_ARN.match(resource):
        return "trust"
    return "resource"


def simulate_document(document: Any, reasons: bool = False, prepared: Prepared | None = None) -> dict[str, Any]:
    """``{"EvaluationResults": [...]}`` for one parsed input document (raises InputError);
    ``reasons`` adds each decision's ``OrchestrateReason``; ``prepared``: what earlier
    documents of the same run have worked out (policies checked and compiled, callers)."""
    try:
        return {"EvaluationResults": _Simulation(document, prepared or Prepared()).results(reasons)}
    except PolicyError as error:
        raise InputError(f"malformed policy: {error}") from None


def _json_error(error: json.JSONDecodeError, first_line: int) -> tuple[int, str]:
    return first_line + error.lineno - 1, f"invalid JSON: {error.msg} (column {error.colno})"


def _documents(stream: TextIO) -> Iterator[tuple[int, Any]]:
    """(line number, parsed document): JSON Lines, or one multi-line document."""
    lines = iter(stream)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            first = json.loads(line)
        except json.JSONDecodeError:
            yield from _whole_document(line + "".join(lines), number)
            return
        yield number, first
        break
    else:
        return
    for number, line in enumerate(lines, start=number + 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(*_json_error(error, number)) from None


def _whole_document(text: str, first_line: int) -> Iterator[tuple[int, Any]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(*_json_error(error, first_line)) from None
    yield first_line, document


def run(stdin: TextIO, stdout: TextIO, stderr: TextIO, source_name: str = "<stdin>") -> int:
    """Simulate every input document; 0 on success, 2 on the first malformed one."""
    number = 0
    prepared = Prepared()
    try:
        for number, document in _documents(stdin):
            result = simulate_document(document, reasons=True, prepared=prepared)
            stdout.write(_ENCODE(result) + "\n")
    except InputError as error:
        if len(error.args) == 2:
            number, message = error.args
        else:
            message = error.args[0]
        stderr.write(f"{source_name}:{number}: {message}\n")
        return ExitCode.INVALID
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover - manual use: python -m orchestrator.authz.simulate < in.jsonl
    import sys

    sys.exit(run(sys.stdin, sys.stdout, sys.stderr))

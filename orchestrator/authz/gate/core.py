"""The authorization gate: decide an AWS call before moto runs it.

Follows the IAM User Guide, "Policy evaluation logic" (each authorization a
call needs is decided on its own; the first denial answers the call) and
"AWS global condition context keys" (``aws:RequestedRegion``,
``aws:SecureTransport``, ``aws:SourceIp``, ``aws:CurrentTime``,
``aws:EpochTime``, ``aws:ViaAWSService``, ``aws:CalledVia*`` and the
principal keys), and the AWS KMS Developer Guide, "Key states of AWS KMS keys"
(a key's state is checked after authorization and applies to every caller).

Requests whose access key belongs to no IAM user or role session are the
orchestrator's own identity (moto answers GetCallerIdentity for any such key
with one identity, ``arn:aws:sts::ACCOUNT:user/moto``, unless the backend
names another, such as an account root).  That identity is decided like any
other principal, with one assumption: its identity-based policies allow
everything, as an administrator's do (its real IAM policies are not in moto's
world).  So resource-based policies still bind it: a KMS call, or a DynamoDB
call that uses the table's key (CreateTable/UpdateTable under a customer
managed key, PutItem, BatchWriteItem, GetItem...), needs the key policy to
allow it, by naming the identity or by delegating to its account ("Key
policies in AWS KMS"), and an explicit deny in any policy applies.  A scenario
that orchestrate could not set up on AWS fails here with AWS's error.

The organization around each call is the world's (``World.membership``: moto's
Organizations backend under embedded and ``serve``): the caller's account's, whose
SCPs cap the caller, orchestrate's own identity included (Organizations User
Guide, "SCP evaluation"), and the resource owner's, whose RCPs cap the resource
("RCP evaluation"); the engine decides them (engine/guardrails.py) and sets the
organization's context keys. Outside an organization both are None and nothing
changes.
"""
from __future__ import annotations

import copy
import json
import marshal
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from orchestrator import arns
from orchestrator.authz.gate.caller import caller_principal
from orchestrator.authz.gate.errors import (
    AwsError,
    dynamodb_kms_denied,
    dynamodb_kms_state_error,
    generic_denied,
    kms_denied,
    kms_key_state_error,
    kms_key_usage_error,
    kms_not_pending_deletion_error,
    missing_authentication,
    new_request_id,
    s3_denied,
    sts_assume_role_denied,
)
from orchestrator.authz.decide import service_engine
from orchestrator.authz.engine.context import principal_arn_key
from orchestrator.authz.engine.evaluate import Decision, Engine, Grant, PolicyError, PolicyInputs, PolicySource, Request
from orchestrator.authz.engine.guardrails import is_service_linked_role
from orchestrator.authz.engine.inputs import IMPLICIT_DENY
from orchestrator.authz.engine.memo import caller_question, guardrails_question, step_question
from orchestrator.authz.engine.organization import Membership, VpcEndpoint
from orchestrator.authz.engine.request import ANONYMOUS, ANONYMOUS_TYPE, Principal, anonymous_principal
from orchestrator.authz.gate.transport import Transport
from orchestrator.authz.services import Authorization, CallPlan, Denial, PlanContext, plan_call
from orchestrator.authz.services.iam_simulate import SIMULATE_OPERATIONS, simulate_call
from orchestrator.authz.services.kms import usage_refusal  # at import: a per-step import is a cost on every call
from orchestrator.authz.services.s3 import setting_refusal
from orchestrator.authz.world import DEFAULT_ACCOUNT, Identity, PolicyDoc, World

__all__ = ["Gate", "CallVerdict", "ADMIN_POLICY", "MOTO_CALLER"]

#: The identity-based policy assumed for the orchestrator's own identity (an administrator's).
ADMIN_POLICY = PolicySource("identity", "orchestrator (assumed administrator)",
                            '{"Version": "2012-10-17", "Statement": '
                            '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
#: What moto's sts:GetCallerIdentity answers for credentials of no IAM user (moto ``sts/models.py``).
MOTO_CALLER = arns.sts_arn("{account}", "user/moto")
Step = tuple[Authorization, Decision]
# IAM User Guide, "aws:CalledVia": only these services add themselves to the chain.
_CALLED_VIA_SERVICES = frozenset({"athena.amazonaws.com", "cloudformation.amazonaws.com",
                                  "dynamodb.amazonaws.com", "kms.amazonaws.com"})


@dataclass(frozen=True)
class CallVerdict:
    """The gate's answer for one call."""

    allowed: bool
    service: str
    operation: str
    principal: Principal
    admin: bool  # the orchestrator's own identity
    steps: list[Step] = field(default_factory=list)
    error: AwsError | None = None
    request_id: str = ""
    #: The account moto must serve an allowed call in (``x-moto-account-id``): the resource
    #: owner's for a cross-account call, else the caller's own.
    account: str | None = None

    @property
    def layer(self) -> str | None:
        """The layer that denied the call ("key-policy", "key-state", ...), if any."""
        return None if self.error is None else self.error.layer


def _params_slot(params: Mapping[str, Any]) -> Any:
    """The plan cache's key for ``params``: marshal's bytes, a faithful encoding of plain values
    (types, order and nesting kept, so two keys are equal only for equal parameters; sharing
    between objects may change the bytes, which costs a miss, never a wrong hit); else
    :func:`_frozen`, for values marshal does not take."""
    try:
        return marshal.dumps(params)
    except ValueError:
        return _frozen(params)


def _frozen(value: Any) -> Any:
    """A hashable copy of request parameters, for the plan cache: mappings and lists keep their
    order (an encryption context's order shows in the plan's context), and a scalar that is not
    text keeps its type (True, 1 and 1.0 are equal keys otherwise)."""
    kind = type(value)
    if kind is str or kind is bytes:
        return value
    if kind is dict:
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    if kind is list:
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, Mapping):
        return (dict, tuple((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return (list, tuple(_frozen(item) for item in value))
    if isinstance(value, (bytearray, memoryview)):
        return (bytes, bytes(value))
    return (kind, value) if value is None or isinstance(value, (bool, int, float)) else (kind, repr(value))


class _StaticMemo:
    """What the gate derives from a world whose answers are fixed: plans by request; per
    identity its policy sources and principal keys; per planned step its resource policy,
    grants and service keys (each shared by many requests). A world opts in with
    ``answers_version()``, which changes whenever an answer may (a new ciphertext it can trace);
    moto's world changes with every call and has none, so nothing is cached over it.

    Nothing here depends on the transport (source IP, secure transport) or the clock: those
    enter the request context, which is built for every request. Identities and steps are keyed
    by id and kept alongside, so an id is never reused while its entry lives."""

    __slots__ = ("world", "version", "plans", "sources", "steps")

    def __init__(self) -> None:
        self.world: Any = None
        self.version: Any = None
        self.plans: dict[tuple[Any, ...], CallPlan] = {}
        #: id(identity) -> (identity, identity-based sources, boundaries, session policies,
        #: principal's context keys, its part of the engine's question: memo.caller_question, None
        #: if unhashable)
        self.sources: dict[int, tuple[Identity, tuple[PolicySource, ...], tuple[PolicySource, ...],
                                      tuple[PolicySource, ...], dict[str, tuple[str, ...]], Any]] = {}
        #: id(step) -> (step, its resource policy's source, its grants, its service context keys,
        #: its part of the engine's question: memo.step_question, None if unhashable)
        self.steps: dict[int, tuple[Authorization, PolicySource | None, tuple[Grant, ...],
                                    dict[str, tuple[str, ...]], Any]] = {}

    def current(self, world: Any, version: Any) -> "_StaticMemo":
        """This memo for ``world`` at ``version``, emptied if it held another's (in place: the
        gate's transport views share it, and see the same world)."""
        if self.world is not world or self.version != version:
            self.world, self.version = world, version
            self.plans.clear()
            self.sources.clear()
            self.steps.clear()
        return self

    def identity(self, gate: "Gate", identity: Identity) -> tuple[Identity, tuple[PolicySource, ...],
                                                             tuple[PolicySource, ...], tuple[PolicySource, ...],
                                                             dict[str, tuple[str, ...]], Any]:
        hit = self.sources.get(id(identity))
        if hit is None or hit[0] is not identity:
            sources, boundaries = gate._identity_sources(identity), gate._boundaries(identity)
            sessions = _session_sources(identity)
            asked = _hashable(caller_question(identity.principal, sources, boundaries, sessions))
            hit = self.sources[id(identity)] = (identity, sources, boundaries, sessions,
                                                _principal_keys(identity.principal), asked)
        return hit

    def step(self, step: Authorization) -> tuple[Authorization, PolicySource | None, tuple[Grant, ...],
                                                 dict[str, tuple[str, ...]], Any]:
        hit = self.steps.get(id(step))
        if hit is None or hit[0] is not step:
            policy, grants = (_source(step.resource_policy) if step.resource_policy else None), _grants(step)
            parts = PolicyInputs(resource_policy=policy, resource_account=step.resource_account, grants=grants,
                                 encryption_context=step.encryption_context, restrict_public=step.restrict_public)
            asked = _hashable(step_question(step.action, step.resource, parts))
            hit = self.steps[id(step)] = (step, policy, grants, _step_keys(step), asked)
        return hit


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return None
    return value


def _source(doc: PolicyDoc) -> PolicySource:
    return PolicySource(doc.kind, doc.name, doc.document)


def _session_sources(identity: Identity) -> tuple[PolicySource, ...]:
    """A role session's session policies (IAM User Guide, "Session policies"); none for others."""
    return tuple(_source(doc) for doc in identity.session_policies)


def _grants(step: Authorization) -> tuple[Grant, ...]:
    if step.key is None:
        return ()
    return tuple(Grant(g.grantee_principal, g.operations, g.key_arn, g.encryption_context_equals,
                       g.encryption_context_subset, g.name, g.retiring_principal) for g in step.key.grants)


class _Organizations:
    """The organization of each account one call involves (the caller's, each step's resource
    owner's), read from the world once per call: World.membership, None outside one or for a world
    that knows no organizations (a scenario's desired world, a test's)."""

    __slots__ = ("_read", "_found")

    def __init__(self, world: Any) -> None:
        self._read: Callable[[str], Membership | None] | None = getattr(world, "membership", None)
        self._found: dict[str, Membership | None] = {}

    def of(self, account: str | None) -> Membership | None:
        if not account or self._read is None:
            return None
        if account not in self._found:
            self._found[account] = self._read(account)
        return self._found[account]

    def inputs(self, identity: Identity, step: Authorization) -> tuple[Membership | None, Membership | None, bool]:
        """``principal_org``, ``resource_org`` and ``service_linked_role`` of the engine's inputs.
        An anonymous caller is in no account; the orchestrator's own identity is in the account it
        acts in, so an SCP there binds it as it binds any principal of that account (on AWS,
        orchestrate's credentials are a principal of a member account, or of the management
        account, which SCPs never restrict: Organizations User Guide, "SCP evaluation")."""
        principal = identity.principal
        caller = None if principal.type == ANONYMOUS_TYPE else self.of(identity.account)
        linked = is_service_linked_role(principal.arn, identity.role_arn)
        return caller, self.of(step.resource_account), linked


def _denial(style: str, service: str, principal: Principal, step: Authorization,
            decision: Decision, request_id: str) -> AwsError:
    """The AWS error for a denied step, worded as the service that answers it."""
    arn, action, resource = principal.arn, step.action, step.resource
    if style == Denial.DYNAMODB_KMS:
        return dynamodb_kms_denied(decision, request_id)
    if style in (Denial.KMS, Denial.KMS_CIPHERTEXT):
        return kms_denied(arn, action, resource, decision, request_id, style == Denial.KMS_CIPHERTEXT)
    if style == Denial.S3_KMS:
        return kms_denied(arn, action, resource, decision, request_id, action == "kms:Decrypt", "s3")
    if style == Denial.S3:
        return s3_denied(arn, action, resource, decision, request_id)
    if style == Denial.STS_ASSUME_ROLE:
        return sts_assume_role_denied(arn, resource, decision, request_id, action)
    return generic_denied(service, arn, action, resource, decision, request_id, style != Denial.QUERY)


def _state_error(step: Authorization, service: str, request_id: str) -> AwsError | None:
    """Key-state error for a step whose key is in a state the operation refuses."""
    key = step.key
    if key is None:
        return None
    if key.state not in step.blocked_states:
        return _usage_error(step, service, request_id)
    if step.denial == Denial.DYNAMODB_KMS:
        return dynamodb_kms_state_error(key.arn, key.state, request_id)
    if step.action == "kms:CancelKeyDeletion":
        return kms_not_pending_deletion_error(key.arn, request_id)
    error = kms_key_state_error(key.arn, key.state, request_id, service)
    if error is not None and service == "s3":
        return AwsError(f"KMS.{error.code}", error.message, error.http_status, error.layer, "s3", request_id)
    return error


def _usage_error(step: Authorization, service: str, request_id: str) -> AwsError | None:
    """A direct KMS call on a key whose usage or spec cannot serve it (KMS API Reference, "Sign",
    "GenerateMac", "GetPublicKey"): decided after authorization and key state, as AWS does."""
    if step.key is None or service != "kms" or not step.action.startswith("kms:"):
        return None
    operation = step.action.removeprefix("kms:")
    code = usage_refusal(operation, step.key)
    if code is None:
        return None
    return kms_key_usage_error(code, step.key.arn, step.key.key_usage, operation, request_id)


class Gate:
    """Decides every call before moto runs it (reads moto lazily).

    ``admin_arn`` is the orchestrator's own identity as GetCallerIdentity names it, used for
    credentials of no IAM user or role session; default: moto's answer, ``MOTO_CALLER``.
    """

    def __init__(self, region: str, world: World,
                 clock: Callable[[], datetime] | None = None, secure_transport: bool = True,
                 source_ip: str = "127.0.0.1", admin_arn: str | None = None, engine: Engine | None = None) -> None:
        self.region = region
        self.world = world
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.secure_transport = secure_transport
        self.source_ip = source_ip
        #: The VPC endpoint this view's call goes through (for_call), else None.
        self.vpc_endpoint: VpcEndpoint | None = None
        self.admin_arn = admin_arn
        #: The engine with the services' rules; its decisions are remembered only over a world
        #: whose answers are fixed (see _StaticMemo). Callers that run many gates over one
        #: scenario (an access matrix, a mutation run) hand them one engine to share.
        self.engine = engine if engine is not None else service_engine()
        self._memo = _StaticMemo()  # shared by the for_call views (copy.copy), as the world is
        self._clock_text: tuple[Any, tuple[str, str]] = (None, ("", ""))  # the last second's time keys

    def _static(self) -> _StaticMemo | None:
        """The memo, when the world's answers are fixed (see _StaticMemo), else None."""
        version_of = getattr(self.world, "answers_version", None)
        return None if version_of is None else self._memo.current(self.world, version_of())

    def for_call(self, transport: Transport | None) -> "Gate":
        """This gate seeing ``transport``'s source IP / secure transport for one call (same world)."""
        if transport is None or transport.empty:
            return self
        view = copy.copy(self)
        if transport.source_ip is not None:
            view.source_ip = transport.source_ip
        if transport.secure_transport is not None:
            view.secure_transport = transport.secure_transport
        if transport.vpc_endpoint is not None:
            view.vpc_endpoint = _as_text(transport.vpc_endpoint)
        return view

    def check(self, service: str, operation: str, params: Mapping[str, Any],
              access_key_id: str | None, region: str | None = None, account: str | None = None,
              signed: bool = True) -> CallVerdict:
        """Decide a call signed with ``access_key_id`` (None or a key of no IAM identity: the
        orchestrator's own identity, see :meth:`admin_identity`). ``account`` is the account the
        request asks to be served in (moto's ``x-moto-account-id``): it places orchestrate's own
        identity in one of a scenario's accounts; a scenario identity stays in its own account.
        An unsigned request (``signed`` False) is anonymous, never orchestrate's own identity
        (:meth:`check_anonymous`). Under ``serve`` a key no one holds never gets here: the WSGI
        gate authenticates first (authenticate.py), so only orchestrate's own admin keys do."""
        if not signed:
            return self.check_anonymous(service, operation, params, region)
        identity = self.world.identity_for_access_key(access_key_id)
        if identity is None:
            identity = self.admin_identity(account or self.world.account_for_access_key(access_key_id))
        return self._decide(identity, identity.account, service, operation, params, region or self.region)

    def check_anonymous(self, service: str, operation: str, params: Mapping[str, Any],
                        region: str | None = None) -> CallVerdict:
        """Decide an unsigned request as the anonymous principal (IAM User Guide, "AWS JSON policy
        elements: Principal", anonymous users): S3 decides it by the bucket policy's grants to
        ``"*"``; every other service refuses an unsigned request (MissingAuthenticationToken)."""
        identity = Identity(anonymous_principal(), "")
        if service != "s3":
            error = missing_authentication(service, new_request_id())
            return CallVerdict(False, service, operation, identity.principal, False, [], error, error.request_id)
        bucket = self.world.bucket(params.get("Bucket"))
        return self._decide(identity, bucket.account if bucket is not None else DEFAULT_ACCOUNT,
                            service, operation, params, region or self.region)

    def admin_identity(self, account: str) -> Identity:
        """The orchestrator's identity in ``account``: an administrator as far as IAM goes."""
        arn = self.admin_arn or MOTO_CALLER.format(account=account)
        if arns.account_of(arn) != account:  # the same identity, in another of the scenario's accounts
            arn = arns.with_account(arn, account)
        principal = caller_principal(arn, account)
        return Identity(principal, principal.account, administrator=True)

    def predict(self, principal_arn: str, service: str, operation: str,
                params: Mapping[str, Any], region: str | None = None) -> CallVerdict:
        """Decide a call as the IAM user ``principal_arn`` would make it (no credentials needed)."""
        if principal_arn == ANONYMOUS:
            return self.check_anonymous(service, operation, params, region)
        identity = self.world.identity_for_arn(principal_arn)
        if identity is None:
            raise LookupError(f"no IAM user with ARN {principal_arn}")
        return self._decide(identity, identity.account, service, operation, params, region or self.region)

    def answer(self, service: str, operation: str,
               params: Mapping[str, Any]) -> dict[str, Any] | AwsError | None:
        """The gate's own answer to an *allowed* call moto cannot serve, else None.

        Today: IAM SimulatePrincipalPolicy / SimulateCustomPolicy, from the engine.
        """
        if service == "kms" and operation == "Verify":
            return self._invalid_signature(params)
        if service != "iam" or operation not in SIMULATE_OPERATIONS:
            return None
        return simulate_call(operation, params, self.world, new_request_id())

    def _invalid_signature(self, params: Mapping[str, Any]) -> AwsError | None:
        """KMS API Reference, "Verify": "If the signature is not verified, the Verify operation
        fails with a KMSInvalidSignatureException exception"; moto 5.2 answers SignatureValid
        false instead, so the gate answers an invalid one (docs/embedded-departures.md)."""
        check = getattr(self.world, "signature_valid", None)
        if check is None:
            return None
        valid = check(params.get("KeyId"), params.get("Message"), params.get("Signature"),
                      str(params.get("SigningAlgorithm") or ""), self.region, DEFAULT_ACCOUNT)
        if valid is not False:
            return None
        return AwsError("KMSInvalidSignatureException", "", 400, "verification", "kms", new_request_id())

    def plan(self, identity: Identity | None, account: str, service: str, operation: str,
             params: Mapping[str, Any], region: str) -> CallPlan:
        """The authorizations a call needs (exposed for reports); over a world whose answers are
        fixed, planned once per request, caller's account and serving account."""
        return self._plan(self._static(), identity, account, service, operation, params, region)

    def _plan(self, memo: _StaticMemo | None, identity: Identity | None, account: str, service: str,
              operation: str, params: Mapping[str, Any], region: str) -> CallPlan:
        caller = identity.account if identity else account
        if memo is None:
            return plan_call(service, operation, params, PlanContext(self.world, region, account, caller))
        slot = (caller, account, service, operation, region, _params_slot(params))
        found = memo.plans.get(slot)
        if found is None:
            found = memo.plans[slot] = plan_call(service, operation, params, PlanContext(self.world, region, account, caller))
        return found

    def _decide(self, identity: Identity, account: str, service: str, operation: str,
                params: Mapping[str, Any], region: str) -> CallVerdict:
        memo = self._static()
        plan = self._plan(memo, identity, account, service, operation, params, region)
        request_id = new_request_id()
        principal, admin = identity.principal, identity.administrator
        # The orchestrator's identity is made anew per call (admin_identity): nothing to reuse.
        memo = None if admin or principal.type == ANONYMOUS_TYPE else memo
        steps: list[Step] = []
        orgs = _Organizations(self.world)
        for step in plan.steps:
            decision = self._evaluate(identity, step, region, memo, orgs)
            steps.append((step, decision))
            error = None
            if not decision.allowed:
                error = _denial(step.denial, plan.service, principal, step, decision, request_id)
            error = error or _state_error(step, plan.service, request_id)
            if error is not None:
                return CallVerdict(False, service, operation, principal, admin, steps, error, request_id)
        refused = setting_refusal(operation, params, self.world, principal.arn) if plan.service == "s3" else None
        if refused is not None:
            code, message, status = refused
            error = AwsError(code, message, status, "block-public-access" if status == 403 else "object-ownership",
                             "s3", request_id)
            return CallVerdict(False, service, operation, principal, admin, steps, error, request_id)
        return CallVerdict(True, service, operation, principal, admin, steps, None, request_id,
                           _serving_account(identity.account, plan.steps))

    def _evaluate(self, identity: Identity, step: Authorization, region: str,
                  memo: _StaticMemo | None = None, orgs: _Organizations | None = None) -> Decision:
        asked = None
        principal_org, resource_org, linked = (orgs or _Organizations(self.world)).inputs(identity, step)
        if memo is None:
            request = Request(identity.principal, step.action, step.resource,
                              self.request_context(identity.principal, step, region))
            inputs = self._inputs(identity, step, principal_org, resource_org, linked)
        else:
            request, asked, parts = self._memo_request(memo, identity, step, region)
            if asked is not None and (principal_org is not None or resource_org is not None or self.vpc_endpoint is not None):
                # the organization and the endpoint are part of the question: a cached decision never outlives them
                asked = (*asked, guardrails_question(principal_org, resource_org, self.vpc_endpoint, linked))
            made = None if asked is None else self.engine.recall(request, asked)
            if made is not None:
                return made
            sources, boundaries, sessions, policy, grants = parts
            inputs = PolicyInputs(identity=sources, boundaries=boundaries, resource_policy=policy,
                                  resource_account=step.resource_account, grants=grants,
                                  encryption_context=step.encryption_context, session_policies=sessions,
                                  restrict_public=step.restrict_public, principal_org=principal_org,
                                  resource_org=resource_org, service_linked_role=linked, vpc_endpoint=self.vpc_endpoint)
        try:
            return self.engine.evaluate(request, inputs, asked)
        except PolicyError as error:
            return Decision(IMPLICIT_DENY, "identity-policy", (), (), f"unreadable policy: {error}")

    def _identity_sources(self, identity: Identity) -> tuple[PolicySource, ...]:
        # Departure (docs/embedded-departures.md): the orchestrator's real IAM policies are not
        # in moto's world; assumed to allow everything, so only resource policies can deny it.
        if identity.administrator:
            return (ADMIN_POLICY,)
        return tuple(_source(d) for d in self.world.identity_policies(identity))

    def _memo_request(self, memo: _StaticMemo, identity: Identity, step: Authorization,
                      region: str) -> tuple[Request, Any, tuple[Any, ...]]:
        """The request as :meth:`request_context` makes it, from the parts that one identity's, or
        one step's, requests share; the engine's question (evaluate.question) made of the same
        parts; and the parts of its inputs (:meth:`_inputs`), assembled only if the engine has
        not decided that question already."""
        _, sources, boundaries, sessions, principal_keys, caller_asks = memo.identity(self, identity)
        _, policy, grants, step_keys, step_asks = memo.step(step)
        context = self._transport_keys(region)
        context.update(principal_keys)
        context.update(step_keys)
        asked = None if caller_asks is None or step_asks is None else (caller_asks, step_asks)
        return (Request(identity.principal, step.action, step.resource, context), asked,
                (sources, boundaries, sessions, policy, grants))

    def _boundaries(self, identity: Identity) -> tuple[PolicySource, ...]:
        boundary = None if identity.administrator else self.world.permissions_boundary(identity)
        return (_source(boundary),) if boundary is not None else ()

    def _inputs(self, identity: Identity, step: Authorization, principal_org: Membership | None = None,
                resource_org: Membership | None = None, service_linked_role: bool = False) -> PolicyInputs:
        return PolicyInputs(
            identity=self._identity_sources(identity),
            boundaries=self._boundaries(identity),
            resource_policy=_source(step.resource_policy) if step.resource_policy else None,
            resource_account=step.resource_account,
            grants=_grants(step),
            encryption_context=step.encryption_context,
            session_policies=_session_sources(identity),
            restrict_public=step.restrict_public,
            principal_org=principal_org,
            resource_org=resource_org,
            service_linked_role=service_linked_role,
            vpc_endpoint=self.vpc_endpoint,
        )

    def request_context(self, principal: Principal, step: Authorization,
                        region: str) -> dict[str, tuple[str, ...]]:
        """Global condition keys, then the step's service keys."""
        context = self._transport_keys(region)
        context.update(_principal_keys(principal))
        context.update(_step_keys(step))
        return context

    def _transport_keys(self, region: str) -> dict[str, tuple[str, ...]]:
        """The region, transport and clock keys, in a new dict."""
        current, epoch = self._time_keys(self.clock())
        return {
            "aws:RequestedRegion": (region,),
            "aws:SecureTransport": ("true" if self.secure_transport else "false",),
            "aws:SourceIp": (self.source_ip,),
            "aws:CurrentTime": (current,),
            "aws:EpochTime": (epoch,),
        }

    def _time_keys(self, now: datetime) -> tuple[str, str]:
        """aws:CurrentTime and aws:EpochTime of ``now``, formatted once per second of the clock
        (the time zone is part of the key: the text is the clock's own wall time)."""
        second = (now.replace(microsecond=0), now.tzinfo, now.fold)
        if self._clock_text[0] != second:
            self._clock_text = (second, (now.strftime("%Y-%m-%dT%H:%M:%SZ"), str(int(now.timestamp()))))
        return self._clock_text[1]


def _as_text(endpoint: VpcEndpoint) -> VpcEndpoint:
    """The endpoint with its policy as JSON text, as the world's policies are: the memo's question
    holds documents, and a dict cannot be hashed."""
    policy = endpoint.policy
    if policy is None or isinstance(policy.document, str):
        return endpoint
    return replace(endpoint, policy=PolicySource(policy.kind, policy.name, json.dumps(policy.document)))


def _principal_keys(principal: Principal) -> dict[str, tuple[str, ...]]:
    """The principal's global condition keys (IAM User Guide, "AWS global condition context keys")."""
    if principal.type == ANONYMOUS_TYPE:  # an unsigned request carries no principal keys
        return {}
    context: dict[str, tuple[str, ...]] = {
        "aws:PrincipalArn": (principal_arn_key(principal),),
        "aws:PrincipalAccount": (principal.account,),
        "aws:PrincipalType": (principal.type,),
    }
    if principal.username:
        context["aws:username"] = (principal.username,)
    if principal.userid:
        context["aws:userid"] = (principal.userid,)
    for tag, value in principal.tags.items():
        context[f"aws:PrincipalTag/{tag}"] = (value,)
    if principal.source_identity:
        # IAM User Guide, "aws:SourceIdentity": present in every request of a session that has one.
        context["aws:SourceIdentity"] = (principal.source_identity,)
    return context


def _serving_account(caller: str, steps: tuple[Authorization, ...]) -> str:
    """Where the call is served: the owner of the resource of its first step when that is another
    account (a cross-account request both sides allowed), else the caller's own account."""
    for step in steps[:1]:
        if step.resource_account and step.resource_account != caller:
            return step.resource_account
    return caller


def _step_keys(step: Authorization) -> dict[str, tuple[str, ...]]:
    """The keys a step sets: the service's own (``step.context``), the calling-service keys, and
    ``aws:ResourceAccount``, the account that owns the step's resource (IAM User Guide, "AWS global
    condition context keys": "Availability – This key is always included in the request context
    for most service actions"; a request whose resource is ``*`` names no owner and has none).
    ``aws:ResourceOrgID``/``aws:ResourceOrgPaths`` (and the principal's org keys) are the engine's to
    set, from the organizations the gate hands it (engine/organization.py, with_organization_context)."""
    keys = _via_service_keys(step)
    if step.resource_account:
        keys["aws:ResourceAccount"] = (step.resource_account,)
    keys.update(step.context)
    return keys


def _via_service_keys(step: Authorization) -> dict[str, tuple[str, ...]]:
    """``aws:ViaAWSService`` and ``aws:CalledVia*`` for requests a service makes for the caller."""
    via = step.context.get("kms:ViaService")
    if not via:
        return {"aws:ViaAWSService": ("false",)}
    service = via[0].split(".", 1)[0] + ".amazonaws.com"
    if service not in _CALLED_VIA_SERVICES:
        return {"aws:ViaAWSService": ("true",)}
    return {"aws:ViaAWSService": ("true",), "aws:CalledVia": (service,),
            "aws:CalledViaFirst": (service,), "aws:CalledViaLast": (service,)}

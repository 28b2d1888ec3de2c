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
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from .caller import caller_principal
from .errors import (
    AwsError,
    dynamodb_kms_denied,
    dynamodb_kms_state_error,
    generic_denied,
    kms_denied,
    kms_key_state_error,
    kms_key_usage_error,
    kms_not_pending_deletion_error,
    new_request_id,
    s3_denied,
    sts_assume_role_denied,
)
from .context import principal_arn_key
from .evaluate import Decision, Grant, PolicyError, PolicyInputs, PolicySource, Request, evaluate
from .inputs import IMPLICIT_DENY
from .request import Principal
from .services import Authorization, CallPlan, Denial, PlanContext, plan_call
from .services.iam_simulate import SIMULATE_OPERATIONS, simulate_call
from .transport import Transport
from .world import DEFAULT_ACCOUNT, Identity, PolicyDoc, World

__all__ = ["Gate", "CallVerdict", "ADMIN_POLICY", "MOTO_CALLER"]

#: The identity-based policy assumed for the orchestrator's own identity (an administrator's).
ADMIN_POLICY = PolicySource("identity", "orchestrator (assumed administrator)",
                            '{"Version": "2012-10-17", "Statement": '
                            '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')
#: What moto's sts:GetCallerIdentity answers for credentials of no IAM user (moto ``sts/models.py``).
MOTO_CALLER = "arn:aws:sts::{account}:user/moto"
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


def _source(doc: PolicyDoc) -> PolicySource:
    return PolicySource(doc.kind, doc.name, doc.document)


def _grants(step: Authorization) -> tuple[Grant, ...]:
    if step.key is None:
        return ()
    return tuple(Grant(g.grantee_principal, g.operations, g.key_arn, g.encryption_context_equals,
                       g.encryption_context_subset, g.name) for g in step.key.grants)


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
        return sts_assume_role_denied(arn, resource, decision, request_id)
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
    from .services.kms import usage_refusal

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

    def __init__(self, region: str = "us-east-1", world: World | None = None,
                 clock: Callable[[], datetime] | None = None, secure_transport: bool = True,
                 source_ip: str = "127.0.0.1", admin_arn: str | None = None) -> None:
        self.region = region
        self.world = world or World()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.secure_transport = secure_transport
        self.source_ip = source_ip
        self.admin_arn = admin_arn

    def for_call(self, transport: Transport | None) -> "Gate":
        """This gate seeing ``transport``'s source IP / secure transport for one call (same world)."""
        if transport is None or transport.empty:
            return self
        view = copy.copy(self)
        if transport.source_ip is not None:
            view.source_ip = transport.source_ip
        if transport.secure_transport is not None:
            view.secure_transport = transport.secure_transport
        return view

    def check(self, service: str, operation: str, params: Mapping[str, Any],
              access_key_id: str | None, region: str | None = None, account: str | None = None) -> CallVerdict:
        """Decide a call signed with ``access_key_id`` (None or a key of no IAM identity: the
        orchestrator's own identity, see :meth:`admin_identity`). ``account`` is the account the
        request asks to be served in (moto's ``x-moto-account-id``): it places orchestrate's own
        identity in one of a scenario's accounts; a scenario identity stays in its own account."""
        identity = self.world.identity_for_access_key(access_key_id)
        if identity is None:
            identity = self.admin_identity(account or self.world.account_for_access_key(access_key_id))
        return self._decide(identity, identity.account, service, operation, params, region or self.region)

    def admin_identity(self, account: str) -> Identity:
        """The orchestrator's identity in ``account``: an administrator as far as IAM goes."""
        arn = self.admin_arn or MOTO_CALLER.format(account=account)
        parts = arn.split(":")
        if len(parts) > 4 and parts[4] != account:  # the same identity, in another of the scenario's accounts
            arn = ":".join(parts[:4] + [account] + parts[5:])
        principal = caller_principal(arn, account)
        return Identity(principal, principal.account, administrator=True)

    def predict(self, principal_arn: str, service: str, operation: str,
                params: Mapping[str, Any], region: str | None = None) -> CallVerdict:
        """Decide a call as the IAM user ``principal_arn`` would make it (no credentials needed)."""
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
        """The authorizations a call needs (exposed for reports)."""
        caller = identity.account if identity else account
        return plan_call(service, operation, params, PlanContext(self.world, region, account, caller))

    def _decide(self, identity: Identity, account: str, service: str, operation: str,
                params: Mapping[str, Any], region: str) -> CallVerdict:
        plan = self.plan(identity, account, service, operation, params, region)
        request_id = new_request_id()
        principal, admin = identity.principal, identity.administrator
        steps: list[Step] = []
        for step in plan.steps:
            decision = self._evaluate(identity, step, region)
            steps.append((step, decision))
            error = None
            if not decision.allowed:
                error = _denial(step.denial, plan.service, principal, step, decision, request_id)
            error = error or _state_error(step, plan.service, request_id)
            if error is not None:
                return CallVerdict(False, service, operation, principal, admin, steps, error, request_id)
        return CallVerdict(True, service, operation, principal, admin, steps, None, request_id,
                           _serving_account(identity.account, plan.steps))

    def _evaluate(self, identity: Identity, step: Authorization, region: str) -> Decision:
        request = Request(identity.principal, step.action, step.resource,
                          self.request_context(identity.principal, step, region))
        try:
            return evaluate(request, self._inputs(identity, step))
        except PolicyError as error:
            return Decision(IMPLICIT_DENY, "identity-policy", (), (), f"unreadable policy: {error}")

    def _identity_sources(self, identity: Identity) -> tuple[PolicySource, ...]:
        # Departure (docs/embedded-departures.md): the orchestrator's real IAM policies are not
        # in moto's world; assumed to allow everything, so only resource policies can deny it.
        if identity.administrator:
            return (ADMIN_POLICY,)
        return tuple(_source(d) for d in self.world.identity_policies(identity))

    def _inputs(self, identity: Identity, step: Authorization) -> PolicyInputs:
        boundary = None if identity.administrator else self.world.permissions_boundary(identity)
        return PolicyInputs(
            identity=self._identity_sources(identity),
            boundaries=(_source(boundary),) if boundary is not None else (),
            resource_policy=_source(step.resource_policy) if step.resource_policy else None,
            resource_account=step.resource_account,
            grants=_grants(step),
            encryption_context=step.encryption_context,
        )

    def request_context(self, principal: Principal, step: Authorization,
                        region: str) -> dict[str, tuple[str, ...]]:
        """Global condition keys, then the step's service keys."""
        now = self.clock()
        context: dict[str, tuple[str, ...]] = {
            "aws:RequestedRegion": (region,),
            "aws:SecureTransport": ("true" if self.secure_transport else "false",),
            "aws:SourceIp": (self.source_ip,),
            "aws:CurrentTime": (now.strftime("%Y-%m-%dT%H:%M:%SZ"),),
            "aws:EpochTime": (str(int(now.timestamp())),),
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
        context.update(_via_service_keys(step))
        context.update(step.context)
        return context


def _serving_account(caller: str, steps: tuple[Authorization, ...]) -> str:
    """Where the call is served: the owner of the resource of its first step when that is another
    account (a cross-account request both sides allowed), else the caller's own account."""
    for step in steps[:1]:
        if step.resource_account and step.resource_account != caller:
            return step.resource_account
    return caller


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

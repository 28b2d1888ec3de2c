"""AWS error values and the exact wording AWS uses for denials and key states.

Sources (each builder names the one it follows):

* IAM User Guide, "Troubleshoot access denied error messages" — the
  ``User: <arn> is not authorized to perform: <action> on resource: <arn>
  because no <policy type> allows the <action> action`` / ``with an explicit
  deny in a(n) <policy type>`` family, policy types "identity-based policy",
  "resource-based policy", "permissions boundary", "session policy", and the
  organization's: "service control policy" (its example: "... is not authorized to
  perform: codecommit:ListRepositories because no service control policy allows
  the codecommit:ListRespositories action"), "resource control policy", and
  "VPC endpoint policy" ("with an explicit deny in a VPC endpoint policy").
* Amazon S3 User Guide, "Troubleshoot access denied (403 Forbidden) errors in
  Amazon S3" — same family, resource ARN in double quotes, HTTP 403
  ``AccessDenied``.
* AWS KMS: ``kms:Decrypt`` denied by the key policy is reported without the key
  ARN: "... kms:Decrypt on the resource associated with this ciphertext because
  the resource does not exist in this Region, no resource-based policies allow
  access, or a resource-based policy explicitly denies access" (observed in AWS
  answers quoted in IAM Identity Center "Troubleshoot customer managed keys"
  and S3 SSE-KMS reports).  Key states: ``DisabledException`` "<key arn> is
  disabled." and ``KMSInvalidStateException`` "<key arn> is pending deletion."
  (AWS KMS Developer Guide, "Key states of AWS KMS keys"; wording as validated
  against AWS by LocalStack's KMS provider).
* DynamoDB, caller cannot use the table's KMS key: HTTP 400
  ``AccessDeniedException`` "KMS key access denied error:
  com.amazonaws.services.kms.model.AWSKMSException: The ciphertext refers to a
  customer master key that does not exist, does not exist in this region, or
  you are not allowed to access. (Service: AWSKMS; Status Code: 400; Error
  Code: AccessDeniedException; Request ID: ...; Proxy: null)" — as returned by
  AWS in aws/aws-cdk#10010 (PutItem), aws/aws-cdk#18616 (CreateTable) and
  aws-samples/aws-secure-environment-accelerator#919 (PutItem).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from orchestrator.authz.engine.evaluate import Decision
from orchestrator.authz.engine.inputs import EXPLICIT_DENY
from orchestrator.authz.engine.organization import RCP, SCP, VPC_ENDPOINT as ENDPOINT  # the guardrail layers
from orchestrator.authz.engine.request import ANONYMOUS

__all__ = [
    "AwsError",
    "deny_source",
    "denial_reason",
    "not_authorized",
    "new_request_id",
    "generic_denied",
    "s3_denied",
    "kms_denied",
    "kms_key_state_error",
    "kms_not_pending_deletion_error",
    "kms_key_usage_error",
    "dynamodb_kms_denied",
    "dynamodb_kms_state_error",
]

IDENTITY, RESOURCE, BOUNDARY, SESSION = "identity", "resource", "boundary", "session"

_PHRASES = {
    IDENTITY: ("an identity-based policy", "identity-based policy"),
    RESOURCE: ("a resource-based policy", "resource-based policy"),
    BOUNDARY: ("a permissions boundary", "permissions boundary"),
    SESSION: ("a session policy", "session policy"),
    SCP: ("a service control policy", "service control policy"),
    RCP: ("a resource control policy", "resource control policy"),
    ENDPOINT: ("a VPC endpoint policy", "VPC endpoint policy"),
}
_LAYER_SOURCES = {
    "identity-policy": IDENTITY,
    "permissions-boundary": BOUNDARY,
    "session-policy": SESSION,
    "key-policy": RESOURCE,
    "resource-policy": RESOURCE,
    "trust-policy": RESOURCE,
    SCP: SCP,
    RCP: RCP,
    ENDPOINT: ENDPOINT,
}
_KIND_SOURCES = {"identity": IDENTITY, "boundary": BOUNDARY, "session": SESSION, "key": RESOURCE, "resource": RESOURCE, "trust": RESOURCE,
                 SCP: SCP, RCP: RCP, ENDPOINT: ENDPOINT}

_KMS_CIPHERTEXT_RESOURCE = (
    "because the resource does not exist in this Region, no resource-based policies "
    "allow access, or a resource-based policy explicitly denies access"
)
_DDB_KMS_PREFIX = "KMS key access denied error: com.amazonaws.services.kms.model."
_DDB_KMS_ACCESS = (
    "AWSKMSException: The ciphertext refers to a customer master key that does not exist, "
    "does not exist in this region, or you are not allowed to access."
)


@dataclass(frozen=True)
class AwsError:
    """An AWS error response: code, message, HTTP status and the layer that decided."""

    code: str
    message: str
    http_status: int
    layer: str
    service: str
    request_id: str


def new_request_id() -> str:
    """A fresh AWS-style request id (UUID4)."""
    return str(uuid.uuid4())


def deny_source(decision: Decision) -> str:
    """Which policy type denied: "identity", "resource" or "boundary"."""
    if decision.decision == EXPLICIT_DENY:
        for ref in decision.matched:
            if ref.effect == "Deny" and ref.policy_kind in _KIND_SOURCES:
                return _KIND_SOURCES[ref.policy_kind]
        return IDENTITY
    return _LAYER_SOURCES.get(decision.layer, IDENTITY)


def denial_reason(decision: Decision, action: str) -> str:
    """The tail of an access-denied message (IAM User Guide wording)."""
    with_article, bare = _PHRASES[deny_source(decision)]
    if decision.decision == EXPLICIT_DENY:
        return f"with an explicit deny in {with_article}"
    return f"because no {bare} allows the {action} action"


def not_authorized(principal_arn: str, action: str, resource: str, reason: str,
                   quote: bool = False) -> str:
    """``User: ... is not authorized to perform: ... on resource: ... <reason>``."""
    shown = f'"{resource}"' if quote else resource
    return f"User: {principal_arn} is not authorized to perform: {action} on resource: {shown} {reason}"


#: Layers whose explicit deny AWS's message names as theirs ("explicit deny in a service control
#: policy": IAM User Guide, "Troubleshoot access denied error messages"); the layer an expectation names.
_NAMED_BY_DENY = frozenset({SCP, RCP, ENDPOINT})


def _layer(decision: Decision) -> str:
    if decision.decision == EXPLICIT_DENY and decision.layer not in _NAMED_BY_DENY:
        return "explicit-deny"
    return decision.layer


def generic_denied(service: str, principal_arn: str, action: str, resource: str,
                   decision: Decision, request_id: str, json_protocol: bool) -> AwsError:
    """IAM-style denial: ``AccessDeniedException`` (JSON services) or ``AccessDenied`` (query)."""
    message = not_authorized(principal_arn, action, resource, denial_reason(decision, action))
    code, status = ("AccessDeniedException", 400) if json_protocol else ("AccessDenied", 403)
    return AwsError(code, message, status, _layer(decision), service, request_id)


def sts_assume_role_denied(principal_arn: str, resource: str, decision: Decision, request_id: str,
                           action: str = "sts:AssumeRole") -> AwsError:
    """STS's 403 ``AccessDenied`` for AssumeRole: ``User: <arn> is not authorized to perform:
    sts:AssumeRole on resource: <role arn>``, with no clause naming the policy type (AWS's answer
    as returned in aws/karpenter-provider-aws#4680, Netflix/security_monkey#77 and others);
    ``action`` is sts:TagSession or sts:SetSourceIdentity when the trust policy refuses those."""
    message = f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource}"
    return AwsError("AccessDenied", message, 403, _layer(decision), "sts", request_id)


def s3_denied(principal_arn: str, action: str, resource: str, decision: Decision,
              request_id: str) -> AwsError:
    """S3's 403 ``AccessDenied`` with the quoted resource ARN (S3 User Guide); an anonymous
    request is answered plain "Access Denied", as S3 names no caller it cannot authenticate."""
    if principal_arn == ANONYMOUS:
        return AwsError("AccessDenied", "Access Denied", 403, _layer(decision), "s3", request_id)
    reason = denial_reason(decision, action)
    if decision.layer == "block-public-access":
        reason = "because public policies are blocked by the RestrictPublicBuckets block public access setting"
    message = not_authorized(principal_arn, action, resource, reason, quote=True)
    return AwsError("AccessDenied", message, 403, _layer(decision), "s3", request_id)


def missing_authentication(service: str, request_id: str) -> AwsError:
    """An unsigned request to a service that needs one (AWS General Reference, "Signing AWS API
    requests"; e.g. KMS, DynamoDB, IAM, STS answer MissingAuthenticationToken / 403): only S3
    takes anonymous requests."""
    return AwsError("MissingAuthenticationToken", "Request is missing Authentication Token", 403,
                    "authentication", service, request_id)


def kms_message(principal_arn: str, action: str, key_arn: str, decision: Decision,
                by_ciphertext: bool) -> str:
    """KMS's denial text; a key-policy denial of a ciphertext operation hides the key ARN. A
    grant's refusal of kms:RetireGrant names no policy type: no policy decides it (KMS Developer
    Guide, "Retiring and revoking grants"; services/kms_retire_grant.py)."""
    if decision.layer == "grant" and decision.decision != EXPLICIT_DENY:
        return f"User: {principal_arn} is not authorized to perform: {action} on resource: {key_arn}"
    if by_ciphertext and deny_source(decision) == RESOURCE:
        return (f"User: {principal_arn} is not authorized to perform: {action} on the resource "
                f"associated with this ciphertext {_KMS_CIPHERTEXT_RESOURCE}")
    return not_authorized(principal_arn, action, key_arn, denial_reason(decision, action))


def kms_denied(principal_arn: str, action: str, key_arn: str, decision: Decision,
               request_id: str, by_ciphertext: bool, service: str = "kms") -> AwsError:
    """KMS ``AccessDeniedException`` (HTTP 400), or S3's 403 ``AccessDenied`` carrying it."""
    message = kms_message(principal_arn, action, key_arn, decision, by_ciphertext)
    if service == "s3":
        return AwsError("AccessDenied", message, 403, _layer(decision), service, request_id)
    return AwsError("AccessDeniedException", message, 400, _layer(decision), service, request_id)


def kms_key_state_error(key_arn: str, state: str, request_id: str,
                        service: str = "kms") -> AwsError | None:
    """``DisabledException`` / ``KMSInvalidStateException`` for a key that cannot be used."""
    if state == "Disabled":
        return AwsError("DisabledException", f"{key_arn} is disabled.", 400, "key-state",
                        service, request_id)
    if state == "PendingDeletion":
        return AwsError("KMSInvalidStateException", f"{key_arn} is pending deletion.", 400,
                        "key-state", service, request_id)
    if state in ("PendingImport", "Unavailable", "Creating", "Updating"):
        return AwsError("KMSInvalidStateException", f"{key_arn} is {state[0].lower()}{state[1:]}.",
                        400, "key-state", service, request_id)
    return None


def kms_key_usage_error(code: str, key_arn: str, key_usage: str, operation: str, request_id: str) -> AwsError:
    """A key whose usage or spec cannot serve the operation: ``InvalidKeyUsageException``
    "<key arn> key usage is SIGN_VERIFY which is not valid for Encrypt." (AWS's answer as quoted in
    jonathankeebler/jwt-kms#4), or ``UnsupportedOperationException`` for GetPublicKey of a
    symmetric key (KMS API Reference, "GetPublicKey"; the wording is ours, AWS's is undocumented)."""
    if code == "UnsupportedOperationException":
        message = f"{key_arn} key usage is {key_usage}: only an asymmetric KMS key has a public key."
    else:
        message = f"{key_arn} key usage is {key_usage} which is not valid for {operation}."
    return AwsError(code, message, 400, "key-usage", "kms", request_id)


def kms_not_pending_deletion_error(key_arn: str, request_id: str) -> AwsError:
    """CancelKeyDeletion on a key that is not pending deletion (AWS KMS Developer Guide, "Key
    states of AWS KMS keys": ``KMSInvalidStateException`` "<key arn> is not pending deletion.")."""
    return AwsError("KMSInvalidStateException", f"{key_arn} is not pending deletion.", 400, "key-state",
                    "kms", request_id)


def _ddb_wrapped(inner_code: str, inner_message: str, request_id: str) -> str:
    return (f"{_DDB_KMS_PREFIX}{inner_message} (Service: AWSKMS; Status Code: 400; "
            f"Error Code: {inner_code}; Request ID: {request_id}; Proxy: null)")


def dynamodb_kms_denied(decision: Decision, request_id: str) -> AwsError:
    """DynamoDB's answer when the caller may not use the table's KMS key."""
    message = _ddb_wrapped("AccessDeniedException", _DDB_KMS_ACCESS, request_id)
    return AwsError("AccessDeniedException", message, 400, _layer(decision), "dynamodb", request_id)


def dynamodb_kms_state_error(key_arn: str, state: str, request_id: str) -> AwsError | None:
    """DynamoDB's answer when the table's key is disabled or pending deletion.

    Not documented word for word by AWS; built like the documented access-denied
    wrapper around KMS's own key-state exception (see docs/embedded-departures.md).
    """
    inner = kms_key_state_error(key_arn, state, request_id)
    if inner is None:
        return None
    message = _ddb_wrapped(inner.code, f"{inner.code}: {inner.message}", request_id)
    return AwsError("AccessDeniedException", message, 400, "key-state", "dynamodb", request_id)

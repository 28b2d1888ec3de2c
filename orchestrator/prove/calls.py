"""The API call each expectation action makes, with the parameters AWS's API reference names.

kms:Decrypt and kms:ReEncrypt need a ciphertext (KMS API Reference, "Decrypt": CiphertextBlob):
the orchestrator's own identity makes one with the key's Encrypt (`Probes`) while the key is
usable, right after each state is applied, so that a later state in which the key is disabled
can still ask for a decryption and be answered DisabledException. A probe that cannot be made
is that expectation's error (`PreparationFailed`), never the run's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from orchestrator.errors import ProofError
from orchestrator.authz.gate.transport import Transport
from orchestrator.constants import MIN_SESSION_SECONDS
from orchestrator.model.scenario import KEY_MANAGEMENT_ACTIONS, DesiredState, Expectation
from orchestrator.prove.asymmetric_calls import Unprepared, admin_kms, asymmetric_params, is_asymmetric_call
from orchestrator.prove.key_management import management_call
from orchestrator.prove.organization import organization_ids, vpc_endpoint
from orchestrator.prove.s3_calls import restore, s3_operation, s3_params
from orchestrator.resources.context import RunContext
from orchestrator.resources.items import to_attribute_values

PLAINTEXT = b"orchestrate-probe"
#: Operations whose call needs a ciphertext made beforehand under the expectation's key.
NEEDS_CIPHERTEXT = frozenset({"Decrypt", "ReEncrypt"})
ContextKey = tuple[tuple[str, str], ...]


class PreparationFailed(ProofError):
    """What orchestrate does to prepare an expectation's call failed; the expectation's error."""


@dataclass(frozen=True)
class CallSpec:
    service: str  # "dynamodb"
    operation: str  # "GetItem"
    method: str  # "get_item"
    params: dict[str, Any]
    #: what the gate sees as aws:SourceIp / aws:SecureTransport (embedded backend and serve only)
    transport: Transport | None = None
    #: what undoes the call once allowed (an s3 write: `s3_calls.restore`), None when nothing does
    undo: Callable[[dict[str, Any]], None] | None = field(default=None, compare=False, repr=False)
    #: what checks an allowed answer for what it is worth, given the caller's client (a Sign's
    #: signature verifies offline: `asymmetric_calls`); raises VerificationFailed
    verify: Callable[[Any, dict[str, Any]], None] | None = field(default=None, compare=False, repr=False)
    #: what orchestrate makes just before the call (a key management probe's current policy or
    #: throwaway grant: `key_management`), returning the parameters it fills in
    setup: Callable[[], dict[str, Any]] | None = field(default=None, compare=False, repr=False)
    #: what removes what the setup made when the call was not allowed (the throwaway grant)
    cleanup: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    #: the grant the setup makes, as the gate reads it, for the prediction (kms:RetireGrant: the
    #: grant decides, and it is gone once the call is judged): `prediction.gate_verdict`
    grant: Any = field(default=None, compare=False, repr=False)


def _snake(operation: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")


def call_for(ctx: RunContext, desired: DesiredState, expectation: Expectation, probes: Probes) -> CallSpec:
    """The call; PreparationFailed when its ciphertext cannot be made."""
    service, operation = expectation.action.split(":")
    if service == "s3":
        return _s3_call(ctx, desired, expectation)
    if expectation.resource.startswith("alias:"):
        return _alias_call(ctx, desired, expectation, probes)
    if expectation.action in KEY_MANAGEMENT_ACTIONS:
        return _management_call(ctx, desired, expectation)
    if is_asymmetric_call(desired, expectation):
        return _asymmetric_call(ctx, desired, expectation, probes)
    kind, _, name = expectation.resource.partition(":")
    if expectation.action == "dynamodb:CreateTable":
        return _create_table_call(ctx, desired, expectation, name)
    if kind == "role":
        return CallSpec(service, operation, _snake(operation), _assume_role_params(ctx, name))
    params = _table_params(ctx, desired, expectation, operation, name) if kind == "table" else _key_params(ctx, operation, name, probes)
    if kind == "key" and operation == "CreateGrant":
        params = _create_grant_params(ctx, expectation.principal, name)
    if expectation.encryption_context is not None:
        params.update(_context_params(operation, name, expectation.encryption_context, probes))
    transport = expectation_transport(ctx, desired, expectation)
    return CallSpec(service, operation, _snake(operation), params, None if transport.empty else transport)


def expectation_transport(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> Transport:
    """What the expectation asks the gate to see: its source IP, secure transport, and the VPC
    endpoint it goes through (`vpc_endpoint`: the endpoint's id and VPC, its policy resolved as
    every policy of the scenario is; orchestrator/prove/organization.py)."""
    endpoint = None
    if expectation.vpc_endpoint is not None:
        ids = ctx.organization_ids or organization_ids(ctx.scenario, desired)
        endpoint = vpc_endpoint(desired, expectation, ids, ctx.resolve_policy)
    return Transport(expectation.source_ip, expectation.secure_transport, endpoint)


def alias_key(desired: DesiredState, alias: str) -> str | None:
    """The scenario key whose `aliases` hold `alias/NAME` for `alias:NAME`, else None."""
    wanted = "alias/" + alias.removeprefix("alias:")
    return next((name for name, key in desired.keys.items() if wanted in key.aliases), None)


def _alias_call(ctx: RunContext, desired: DesiredState, expectation: Expectation, probes: Probes) -> CallSpec:
    """`resource: alias:NAME`: the call on the key the alias names, made through the alias's
    physical name (`alias/` + the run's prefixed NAME, as the key reconciler creates it), so KMS
    sets kms:RequestAlias (KMS Developer Guide, "Using aliases to control access to KMS keys")."""
    name = alias_key(desired, expectation.resource)
    if name is None:
        raise PreparationFailed(f"could not prepare {expectation.action}: {expectation.resource} names no key's alias")
    spec = call_for(ctx, desired, expectation.model_copy(update={"resource": f"key:{name}"}), probes)
    alias = "alias/" + ctx.physical(expectation.resource.partition(":")[2])
    params = dict(spec.params)
    if spec.operation == "ReEncrypt":
        params["DestinationKeyId"] = alias
    else:
        params["KeyId"] = alias  # Decrypt too: KeyId may name the ciphertext's key by an alias
    return replace(spec, params=params)


def _management_call(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> CallSpec:
    """A key management call (`key_management`): its setup, its cleanup and the undo of an allowed one."""
    operation = expectation.action.partition(":")[2]
    made = management_call(ctx, desired, expectation)
    transport = expectation_transport(ctx, desired, expectation)
    return CallSpec("kms", operation, _snake(operation), made.params, None if transport.empty else transport,
                    made.undo, setup=made.setup, cleanup=made.cleanup, grant=made.grant)


def _s3_call(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> CallSpec:
    operation = s3_operation(expectation.action)
    transport = expectation_transport(ctx, desired, expectation)
    return CallSpec("s3", operation, _snake(operation), s3_params(ctx, operation, expectation.resource),
                    None if transport.empty else transport, restore(ctx, desired, operation, expectation.resource))


def _asymmetric_call(ctx: RunContext, desired: DesiredState, expectation: Expectation, probes: Probes) -> CallSpec:
    """Sign, Verify, GetPublicKey, GenerateMac, VerifyMac, and Encrypt/Decrypt with an asymmetric
    algorithm (`asymmetric_calls`), with the check of an allowed answer."""
    operation = expectation.action.partition(":")[2]
    try:
        params, verify = asymmetric_params(ctx, desired, expectation, probes.asymmetric)
    except Unprepared as error:
        raise PreparationFailed(f"could not prepare {expectation.action}: {error}") from None
    transport = expectation_transport(ctx, desired, expectation)
    return CallSpec("kms", operation, _snake(operation), params, None if transport.empty else transport, verify=verify)


def _context_params(operation: str, name: str, context: dict[str, str], probes: Probes) -> dict[str, Any]:
    """KMS API Reference, "Decrypt" / "ReEncrypt": the ciphertext must have been made with the
    same EncryptionContext, so the probe is made with it too."""
    if operation == "Decrypt":
        return {"CiphertextBlob": probes.ciphertext(name, operation, context), "EncryptionContext": dict(context)}
    if operation == "ReEncrypt":
        return {"CiphertextBlob": probes.ciphertext(name, operation, context),
                "SourceEncryptionContext": dict(context), "DestinationEncryptionContext": dict(context)}
    return {"EncryptionContext": dict(context)}


def _table_params(ctx: RunContext, desired: DesiredState, expectation: Expectation, operation: str, name: str) -> dict[str, Any]:
    # a table of another account than the caller's is named by its ARN (DynamoDB API Reference, TableName: "the
    # name of the table ... You can also provide the Amazon Resource Name (ARN) of the table")
    caller = ctx.account_id("roles", expectation.role) if expectation.role else ctx.account_id("users", expectation.principal)
    table = ctx.physical(name) if ctx.account_id("tables", name) == caller else ctx.arn(f"table:{name}")
    key = to_attribute_values(expectation.key or {})
    if operation == "GetItem" or operation == "DeleteItem":
        return {"TableName": table, "Key": key}
    if operation == "PutItem":
        return {"TableName": table, "Item": {**to_attribute_values(expectation.item or {}), **key}}
    if operation == "UpdateItem":
        return {"TableName": table, "Key": key, **_update_expression(expectation.item or {})}
    if operation == "Query":
        partition = desired.tables[name].partition_key.name
        return {"TableName": table, "KeyConditionExpression": "#pk = :pk",
                "ExpressionAttributeNames": {"#pk": partition}, "ExpressionAttributeValues": {":pk": key[partition]}}
    if operation == "Scan":
        return {"TableName": table, "Limit": 10}
    if operation == "BatchGetItem":  # DynamoDB API Reference, "BatchGetItem": RequestItems by table name or ARN
        return {"RequestItems": {table: {"Keys": [key]}}}
    return {"TableName": table}


def create_table_params(ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
    """CreateTable of a create_only table as it is declared (DynamoDB API Reference, "CreateTable":
    KeySchema, AttributeDefinitions, BillingMode, SSESpecification with KMSMasterKeyId)."""
    table = desired.tables[name]
    attributes = table.key_attributes()
    params: dict[str, Any] = {
        "TableName": ctx.physical(name),
        "KeySchema": [{"AttributeName": a.name, "KeyType": kind} for a, kind in zip(attributes, ("HASH", "RANGE"))],
        "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in attributes],
        "BillingMode": table.billing_mode,
    }
    if table.billing_mode == "PROVISIONED":
        params["ProvisionedThroughput"] = {"ReadCapacityUnits": table.read_capacity, "WriteCapacityUnits": table.write_capacity}
    if table.encryption == "aws-managed":
        params["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
    elif table.key_name() is not None:
        params["SSESpecification"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": ctx.arn(table.encryption)}
    if table.tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in table.tags.items()]
    return params


def _create_table_call(ctx: RunContext, desired: DesiredState, expectation: Expectation, name: str) -> CallSpec:
    """dynamodb:CreateTable of a `create_only` table, made by the principal: with a customer managed
    key DynamoDB calls kms:DescribeKey and kms:CreateGrant as the caller (KMS Developer Guide, "How
    Amazon DynamoDB uses AWS KMS"). What the principal made is deleted by orchestrate right after;
    a DeleteTable AWS refuses is the run's failure (`UndoFailed`), naming the table left."""
    from orchestrator.prove.key_management import UndoFailed

    params = create_table_params(ctx, desired, name)

    def undo(_answer: dict[str, Any]) -> None:
        try:
            ctx.backend.client("dynamodb").delete_table(TableName=params["TableName"])
        except Exception as error:
            response = getattr(error, "response", None)
            if not isinstance(response, dict) or "Error" not in response:
                raise
            refusal = f"{response['Error'].get('Code', 'Unknown')}: {response['Error'].get('Message', '')}"
            raise UndoFailed(f"orchestrate could not delete the table the principal created: its DeleteTable failed"
                             f" with {refusal}; left: table:{name} ({params['TableName']}), create_only") from None
    transport = expectation_transport(ctx, desired, expectation)
    return CallSpec("dynamodb", "CreateTable", "create_table", params, None if transport.empty else transport, undo)


def _update_expression(item: dict[str, Any]) -> dict[str, Any]:
    if not item:
        return {}
    names = {f"#a{i}": attribute for i, attribute in enumerate(item)}
    values = to_attribute_values({f":v{i}": value for i, value in enumerate(item.values())})
    return {"UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(item))),
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}


def _key_params(ctx: RunContext, operation: str, name: str, probes: Probes) -> dict[str, Any]:
    key_arn = ctx.arn(f"key:{name}")
    if operation == "Decrypt":
        return {"CiphertextBlob": probes.ciphertext(name, operation)}
    if operation == "ReEncrypt":
        return {"CiphertextBlob": probes.ciphertext(name, operation), "DestinationKeyId": key_arn}
    if operation == "Encrypt":
        return {"KeyId": key_arn, "Plaintext": PLAINTEXT}
    if operation == "GenerateDataKey":
        return {"KeyId": key_arn, "KeySpec": "AES_256"}
    return {"KeyId": key_arn}


def _create_grant_params(ctx: RunContext, principal: str, name: str) -> dict[str, Any]:
    """kms:CreateGrant: a grant of Decrypt to the calling principal itself, a role session's grant
    to its role (KMS API Reference, "CreateGrant"); orchestrate revokes it right after an allowed
    call (`assertions.undo_for`)."""
    grantee = ctx.arn(principal) if principal.startswith("role:") else ctx.arn(f"user:{principal}")
    return {"KeyId": ctx.arn(f"key:{name}"), "GranteePrincipal": grantee, "Operations": ["Decrypt"]}


#: AWS STS API Reference, "AssumeRole": 900 s is the shortest DurationSeconds AWS allows.
PROBE_SESSION_SECONDS = MIN_SESSION_SECONDS


def _assume_role_params(ctx: RunContext, name: str) -> dict[str, Any]:
    """sts:AssumeRole of the scenario role; an allowed call's credentials are dropped unread
    and expire after 15 minutes (they cannot be deleted)."""
    return {"RoleArn": ctx.arn(f"role:{name}"), "RoleSessionName": "orchestrate-probe",
            "DurationSeconds": PROBE_SESSION_SECONDS}


def probed_keys(expectations: Iterable[Expectation], desired: DesiredState | None = None) -> set[str]:
    """The keys whose ciphertexts these expectations decrypt (`kms:Decrypt` on `key:NAME`, or on
    `alias:NAME` of a key of ``desired``)."""
    found = set()
    for e in expectations:
        if e.action.partition(":")[2] not in NEEDS_CIPHERTEXT:
            continue
        if e.resource.startswith("key:"):
            found.add(e.resource.partition(":")[2])
        elif e.resource.startswith("alias:") and desired is not None:
            found.update(name for name in [alias_key(desired, e.resource)] if name is not None)
    return found


@dataclass
class Probes:
    """Ciphertexts made by the orchestrator's own identity, one per key and key ARN (a replaced
    key needs a new one: a ciphertext names the key it was made under)."""

    ctx: RunContext
    #: key name -> ciphertext; the desired world finds a ciphertext's key here
    blobs: dict[str, bytes] = field(default_factory=dict)
    made_under: dict[str, str] = field(default_factory=dict)
    #: key name -> why its last probe Encrypt failed (AWS's code and message)
    failures: dict[str, str] = field(default_factory=dict)
    #: (key name, encryption context) -> ciphertext made with that context, and its key ARN
    contextual: dict[tuple[str, ContextKey], bytes] = field(default_factory=dict)
    contextual_under: dict[tuple[str, ContextKey], str] = field(default_factory=dict)

    def prepare(self, desired: DesiredState, names: Iterable[str]) -> None:
        """Right after a state is applied: a ciphertext for each named key it enables, if there
        is none yet for that key as it now is. A failure is kept for the expectation to report."""
        for name in sorted(names):
            key = desired.keys.get(name)
            # an asymmetric key's Decrypt decrypts a ciphertext made at call time (asymmetric_calls)
            if key is not None and key.usable and key.spec == "SYMMETRIC_DEFAULT" and not self._current(name):
                self._encrypt(name)

    def ciphertext(self, name: str, operation: str = "Decrypt", context: dict[str, str] | None = None) -> bytes:
        """The key's ciphertext, made now if no earlier state could; PreparationFailed if not."""
        if context:
            return self._contextual(name, operation, context)
        if not self._current(name):
            self._encrypt(name)
        if not self._current(name):
            raise PreparationFailed(f"could not prepare kms:{operation}: orchestrate's probe Encrypt under key:{name}"
                                    f" failed with {self.failures.get(name, 'no answer')}")
        return self.blobs[name]

    def asymmetric(self, name: str, algorithm: str) -> bytes:
        """A ciphertext under an asymmetric key, made now by kms:Encrypt with ``algorithm`` (KMS API
        Reference, "Encrypt": an asymmetric key needs its EncryptionAlgorithm, and Decrypt the same
        one); PreparationFailed when AWS refuses it."""
        return self._probe(name, "Decrypt", f" with {algorithm}", EncryptionAlgorithm=algorithm)

    def _contextual(self, name: str, operation: str, context: dict[str, str]) -> bytes:
        """A ciphertext made now with ``context`` (KMS requires the same context to decrypt)."""
        slot, key_arn = (name, tuple(sorted(context.items()))), self.ctx.arn(f"key:{name}")
        if self.contextual_under.get(slot) != key_arn:
            blob = self._probe(name, operation, " with encryption_context", EncryptionContext=dict(context))
            self.contextual[slot], self.contextual_under[slot] = blob, key_arn
        return self.contextual[slot]

    def _probe(self, name: str, operation: str, how: str, **options: Any) -> bytes:
        """One probe Encrypt made now; AWS's refusal is PreparationFailed, no answer propagates."""
        key_arn = self.ctx.arn(f"key:{name}")
        try:
            return bytes(admin_kms(self.ctx, key_arn).encrypt(KeyId=key_arn, Plaintext=PLAINTEXT, **options)["CiphertextBlob"])
        except Exception as error:
            refusal = _refusal(error)
            if refusal is None:
                raise
            raise PreparationFailed(f"could not prepare kms:{operation}: orchestrate's probe Encrypt under key:{name}"
                                    f"{how} failed with {refusal}") from None

    def _current(self, name: str) -> bool:
        return name in self.blobs and self.made_under.get(name) == self.ctx.arn(f"key:{name}")

    def _encrypt(self, name: str) -> None:
        """One Encrypt; an AWS answer that refuses is kept, anything else (no answer) propagates."""
        key_arn = self.ctx.arn(f"key:{name}")
        try:
            blob = admin_kms(self.ctx, key_arn).encrypt(KeyId=key_arn, Plaintext=PLAINTEXT)["CiphertextBlob"]
        except Exception as error:
            refusal = _refusal(error)
            if refusal is None:
                raise
            self.failures[name] = refusal
            return
        self.blobs[name], self.made_under[name] = blob, key_arn
        self.failures.pop(name, None)


def _refusal(error: BaseException) -> str | None:
    """AWS's answer refusing a call, as "Code: Message"; None when AWS did not answer."""
    answer = getattr(error, "response", None)
    if not isinstance(answer, dict) or "Error" not in answer:
        return None
    return f"{answer['Error'].get('Code', 'Unknown')}: {answer['Error'].get('Message', '')}"

"""What the embedded backend adds to moto 5.2: IAM user permissions boundaries, which it lacks,
UpdateGroup's NewPath on its own (which --adopt uses to mark a group as the scenario's), and AWS
managed policies loaded one at a time when a scenario attaches them; and what it takes away:
moto's own bucket-policy and key-policy checks (`install_policy_checks_off`, for `orchestrate serve` too);
and what it drops of AssumeRole (PolicyArns, Tags, TransitiveTagKeys, SourceIdentity: `install_session_facts`);
and a way for an account of a fixed id to join an organization, with the attach and detach rules moto
does not keep (`install_organizations`).

moto implements PutRolePermissionsBoundary but not PutUserPermissionsBoundary,
DeleteUserPermissionsBoundary, nor PermissionsBoundary in GetUser. We answer the first two in
botocore's `before-call` event (after the gate has decided) by storing the ARN on moto's user,
and add it to GetUser's parsed answer in `after-call`. The authorization gate reads the same
attribute (`permissions_boundary_arn`). Only in-process: `orchestrate serve` lacks it.
"""

from __future__ import annotations

import json
import random
import re
import threading
from typing import Any, Mapping

from botocore.awsrequest import AWSResponse

from orchestrator import arns
from orchestrator.backends.moto_world import SESSION_POLICY_ARNS, SESSION_TAGS, SOURCE_IDENTITY, TRANSITIVE_TAG_KEYS
from orchestrator.constants import US_EAST_1

BOUNDARY_ATTRIBUTE = "permissions_boundary_arn"


class _NoBody:
    def stream(self, *_args: Any, **_kwargs: Any) -> Any:
        return iter(())


def _moto_user(account: str, name: str) -> Any:
    from moto.backends import get_backend

    backend = get_backend("iam")[account]["global"]
    return backend.users.get(name)


def _moto_group(account: str, name: str) -> Any:
    from moto.backends import get_backend

    return get_backend("iam")[account]["global"].groups.get(name)


def _ok() -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse("", 200, {}, _NoBody()), {"ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "orchestrate"}}


def _no_such_user(name: str) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {"Error": {"Code": "NoSuchEntity", "Message": f"The user with name {name} cannot be found."},
              "ResponseMetadata": {"HTTPStatusCode": 404}}
    return AWSResponse("", 404, {}, _NoBody()), parsed


def install(client: Any, account: str) -> None:
    """Register the user-boundary operations on an IAM client of the embedded backend."""
    params_seen: dict[str, Any] = {}

    def remember(params: dict[str, Any], **_: Any) -> None:
        params_seen.clear()
        params_seen.update(params)

    def put_or_delete(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        user = _moto_user(account, params_seen.get("UserName", ""))
        if user is None:
            return _no_such_user(params_seen.get("UserName", ""))
        value = params_seen.get("PermissionsBoundary") if model.name == "PutUserPermissionsBoundary" else None
        setattr(user, BOUNDARY_ATTRIBUTE, value)
        return _ok()

    def add_to_get_user(parsed: dict[str, Any], **_: Any) -> None:
        answer = parsed.get("User")
        if not answer:
            return
        user = _moto_user(account, answer.get("UserName", ""))
        arn = getattr(user, BOUNDARY_ATTRIBUTE, None)
        if arn:
            answer["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": arn}

    def move_group(parsed: dict[str, Any], **_: Any) -> None:
        """moto's UpdateGroup changes a path only along with a new name; AWS changes either."""
        group = _moto_group(account, params_seen.get("GroupName", ""))
        if group is not None and params_seen.get("NewPath") and not params_seen.get("NewGroupName"):
            group.path = params_seen["NewPath"]

    events = client.meta.events
    for operation in ("PutUserPermissionsBoundary", "DeleteUserPermissionsBoundary"):
        events.register(f"before-parameter-build.iam.{operation}", remember)
        events.register_last(f"before-call.iam.{operation}", put_or_delete)
    events.register("after-call.iam.GetUser", add_to_get_user)
    events.register("before-parameter-build.iam.UpdateGroup", remember)
    events.register("after-call.iam.UpdateGroup", move_group)


AWS_POLICY_PREFIX = arns.AWS_MANAGED_POLICY_PREFIX
ATTACHING = ("AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy", "PutUserPermissionsBoundary")


def ensure_managed_policy(account: str, arn: str) -> None:
    """Load one AWS managed policy into moto's IAM on demand.

    MOTO_IAM_LOAD_MANAGED_POLICIES loads all ~1,500 of them, twice, on every mock start; a
    scenario names two or three. Unknown names are left for moto to refuse (NoSuchEntity)."""
    from moto.backends import get_backend
    from moto.iam.models import AWSManagedPolicy

    backend = get_backend("iam")[account]["global"]
    if not arn.startswith(AWS_POLICY_PREFIX) or arn in backend.managed_policies:
        return
    from orchestrator.backends.moto_world import bundled_policy

    name = arn.rpartition("/")[2]
    data = bundled_policy(name)
    if data is not None and f"{AWS_POLICY_PREFIX}{data.get('Path', '/').lstrip('/')}{name}" == arn:
        policy = AWSManagedPolicy.from_data(name, account, US_EAST_1, data)
        backend.managed_policies[policy.arn] = policy


def install_managed_policies(client: Any, account: str) -> None:
    """Before an attach names an AWS managed policy, make sure moto knows it."""
    def load(params: dict[str, Any], model: Any, **_: Any) -> None:
        arn = params.get("PolicyArn") or params.get("PermissionsBoundary")
        if isinstance(arn, str):
            ensure_managed_policy(account, arn)

    for operation in ATTACHING:
        client.meta.events.register(f"before-parameter-build.iam.{operation}", load)


def served_policy_loader(world: Any) -> Any:
    """For moto's server behind the gate (`orchestrate serve`): the same on-demand loading of AWS
    managed policies, as a GateMiddleware `on_verdict` callback (it runs before moto answers)."""
    def load(call: Any, verdict: Any) -> None:
        if call.service == "iam" and call.operation in ATTACHING:
            arn = call.params.get("PolicyArn") or call.params.get("PermissionsBoundary")
            if isinstance(arn, str):
                ensure_managed_policy(world.account_for_access_key(call.access_key_id), arn)

    return load


_bucket_policy_off = threading.Lock()


def _gate_decides_bucket_policies(self: Any, action: str, resource: str) -> Any:
    """In place of moto's `FakeBucket.get_permission`: the gate has already decided the request, for
    its principal (an unsigned one as the anonymous principal) and conditions, so moto is told the
    bucket permits it (`PermissionResult.PERMITTED`). moto asks only to refuse: a DENIED answer is a
    bare 403, and for an unsigned object request anything short of PERMITTED sends it on to the
    object-ACL check, which would refuse a HeadObject the bucket policy's grant to "*" allowed."""
    from moto.iam.access_control import PermissionResult

    return PermissionResult.PERMITTED


def install_s3_bucket_policy_off() -> None:
    """Turn off moto 5.2's own bucket-policy check, so that the gate alone judges bucket policies.

    What moto does: after the gate has allowed a request, moto's S3 responses ask
    `moto.s3.models.FakeBucket.get_permission(action, resource)`, which evaluates the bucket's
    policy with `moto.iam.access_control.IAMPolicy(...).is_action_permitted(action, resource)`
    (no principal, no request context), and answer a bare 403 when it says DENIED: for every object
    operation (`S3Response._key_response`: GetObject, PutObject, HeadObject, DeleteObject... as
    `s3:<Method>Object`) and for each key of DeleteObjects (`_bucket_response_delete_keys`, as
    `s3:DeleteObject`). It ignores `Principal`/`NotPrincipal` and `Condition`, so any matching Deny
    denied everyone: a Deny naming only `user:intern` refused reader, and a Deny conditioned on
    `NotIpAddress` refused orchestrate's own seeding PutObject whatever the address.

    Why it is off: S3 applies a bucket-policy statement only to the principals it names and when
    its conditions hold (Amazon S3 User Guide, "Bucket policies for Amazon S3", "How Amazon S3
    authorizes a request"); the gate evaluates the bucket policy that way, with the identity,
    permissions boundary and key policies, before moto runs the request, in-process (botocore hook)
    and under `orchestrate serve` (WSGI). A request moto runs has been allowed by the gate.

    Only `get_permission` is replaced; the rest of moto's S3 stays (moto's IAM-based
    `_authenticate_and_authorize_s3_action` is off by default, INITIAL_NO_AUTH_ACTION_COUNT; the
    object-ACL check of unsigned requests is skipped: the gate decides unsigned requests as the
    anonymous principal; object ACLs are not modelled, docs/embedded-departures.md).
    Installed once per process, by the embedded backend and by `orchestrate serve`'s app."""
    from moto.s3.models import FakeBucket

    with _bucket_policy_off:
        if FakeBucket.get_permission is not _gate_decides_bucket_policies:
            FakeBucket.get_permission = _gate_decides_bucket_policies  # type: ignore[method-assign]


def _key_exists_only(self: Any, key_id: str, action: str) -> None:
    """moto's `_validate_key_policy` without its policy check: the key must still exist."""
    self.kms_backend.describe_key(self.kms_backend.get_key_id(key_id))


def install_kms_key_policy_check_off() -> None:
    """Turn off moto 5.2's own key-policy check, so that the gate alone judges key policies.

    What moto does: `moto.kms.responses.KmsResponse._validate_key_policy` (on DescribeKey) calls
    `moto.kms.policy_validator.validate_policy`, which refuses the call with a bare
    AccessDeniedException when any statement with `Effect: Deny` lists `kms:*`, `kms:Describe*` or
    `kms:DescribeKey` on `Resource: "*"`, whoever it names: a Deny with `NotPrincipal` that spares
    orchestrate and the key's administrators denied them too.

    Why it is off: a key-policy statement applies only to the principals it names and when its
    conditions hold (AWS KMS Developer Guide, "Key policies in AWS KMS"; IAM User Guide,
    "NotPrincipal"); the gate decides every KMS request that way before moto runs it, in-process and
    under `orchestrate serve`. Installed once per process, with the bucket-policy patch."""
    from moto.kms.responses import KmsResponse

    with _bucket_policy_off:
        if KmsResponse._validate_key_policy is not _key_exists_only:
            KmsResponse._validate_key_policy = _key_exists_only  # type: ignore[method-assign]


# What `install_session_facts` adds to moto's `AssumedRole` (attribute names in moto_world): AssumeRole's
# PolicyArns (ARNs), Tags (key -> value), TransitiveTagKeys and SourceIdentity.


def _caller_session(response: Any) -> Any | None:
    """The role session whose credentials signed an AssumeRole request (role chaining), if any."""
    from moto.sts.models import sts_backends

    access_key_id = response.get_access_key()
    for _account, per_account in list(sts_backends.items()):
        for backend in list(per_account.values()):
            found = backend.get_assumed_role_from_access_key(access_key_id)
            if found is not None:
                return found
    return None


def _record_session(response: Any, assumed: Any) -> None:
    """Store on moto's AssumedRole what moto 5.2 drops of the request; a chained session keeps the
    caller's transitive tags and source identity (IAM User Guide, "Chaining roles with session
    tags": transitive tags "persist for all role chaining"; "Monitor and control actions taken
    with assumed roles": the source identity "persists" across chained sessions)."""
    tags = {str(tag["Key"]): str(tag.get("Value", "")) for tag in response._get_param("Tags") or []}
    transitive = [str(key) for key in response._get_param("TransitiveTagKeys") or []]
    source_identity = response._get_param("SourceIdentity")
    caller = _caller_session(response)
    if caller is not None:
        inherited = getattr(caller, TRANSITIVE_TAG_KEYS, ())
        caller_tags = getattr(caller, SESSION_TAGS, {})
        tags.update({key: caller_tags[key] for key in inherited if key in caller_tags})
        transitive = list(dict.fromkeys([*inherited, *transitive]))
        source_identity = getattr(caller, SOURCE_IDENTITY, None) or source_identity
    setattr(assumed, SESSION_POLICY_ARNS, tuple(str(item.get("arn")) for item in response._get_param("PolicyArns") or []))
    setattr(assumed, SESSION_TAGS, tags)
    setattr(assumed, TRANSITIVE_TAG_KEYS, tuple(transitive))
    setattr(assumed, SOURCE_IDENTITY, source_identity)


def install_session_facts() -> None:
    """Keep what AssumeRole asks of a session. moto 5.2's `AssumedRole` stores the inline session
    policy (`policy`) and `external_id`, but `TokenResponse.assume_role` drops PolicyArns, Tags,
    TransitiveTagKeys and SourceIdentity (nor does GetCallerIdentity or anything else use them).
    The gate needs them to decide a session's requests as AWS does (IAM User Guide, "Session
    policies", "Passing session tags in AWS STS"): this wraps the response method and stores
    them on moto's object, where `MotoWorld` reads them. Class-level, so `orchestrate serve` has it
    too; installed once per process, with the policy-check patches."""
    from moto.sts.responses import TokenResponse

    with _bucket_policy_off:
        if getattr(TokenResponse.assume_role, "orchestrate", False):
            return
        original = TokenResponse.assume_role

        def assume_role(self: Any) -> Any:
            answer = original(self)
            assumed = getattr(answer, "result", {}).get("Credentials")
            if assumed is not None:
                _record_session(self, assumed)
            return answer

        assume_role.orchestrate = True  # type: ignore[attr-defined]
        TokenResponse.assume_role = assume_role  # type: ignore[method-assign]


def _invited_account(backend: Any, account_id: str) -> Any:
    """moto's record of an account that joined by invitation: a FakeAccount made without its
    constructor, which draws a random id and makes OrganizationAccountAccessRole in that account
    (AWS makes that role only in accounts the organization creates: Organizations User Guide,
    "Accessing member accounts in your organization"; an invited account has none unless its
    administrator makes it). Its name is its id: moto knows no account names outside Organizations."""
    from moto.core.utils import utcnow
    from moto.organizations import utils
    from moto.organizations.models import FakeAccount

    org = backend.org
    account = FakeAccount.__new__(FakeAccount)
    account.type, account.region, account.organization_id = "ACCOUNT", org.region, org.id
    account.master_account_id = org.master_account_id
    account.create_account_status_id = utils.make_random_create_account_status_id()
    account.id, account.name, account.email = account_id, account_id, f"{account_id}@example.com"
    account.create_time, account.status, account.state = utcnow(), "ACTIVE", "ACTIVE"
    account.joined_method, account.parent_id = "INVITED", org.root_id
    account.attached_policies, account.tags = [], {}
    return account


def _handshake_refused(reason: str, message: str) -> Exception:
    from moto.organizations.exceptions import OrganizationsClientError

    error = OrganizationsClientError("HandshakeConstraintViolationException", message)
    error.Reason = reason  # type: ignore[attr-defined]  # a member of the error's shape (moto serializes it)
    return error


def invite_account(backend: Any, target: Any) -> dict[str, Any]:
    """InviteAccountToOrganization, accepted at once on the invited account's behalf: the account
    joins under the root with FullAWSAccess and RCPFullAWSAccess attached (Organizations User
    Guide, "Inviting an AWS account to join your organization"; "SCP evaluation", "RCP evaluation":
    the AWS managed defaults are attached to every account). The answer is AWS's Handshake, in
    state ACCEPTED (on AWS it is OPEN until the account's AcceptHandshake)."""
    from moto.organizations import utils
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException, InvalidInputException
    from moto.organizations.models import organizations_backends

    if backend.org is None:
        raise AWSOrganizationsNotInUseException
    account_id = str((target or {}).get("Id", ""))
    if (target or {}).get("Type") != "ACCOUNT" or not re.fullmatch(r"[0-9]{12}", account_id):
        raise InvalidInputException("You specified an invalid value.")  # EMAIL targets: moto has no address book
    joined = dict.get(organizations_backends, account_id)
    if _member_of_any(organizations_backends, account_id) or any(
            getattr(found, "org", None) is not None for found in (joined or {}).values()):
        raise _handshake_refused("ALREADY_IN_AN_ORGANIZATION", "The account is already a member of an organization.")
    backend.accounts.append(_invited_account(backend, account_id))
    for policy_id in (utils.DEFAULT_SCP_POLICY_ID, utils.DEFAULT_RCP_POLICY_ID):
        backend.attach_policy(PolicyId=policy_id, TargetId=account_id)
    organizations_backends.master_accounts[account_id] = (backend.account_id, backend.partition)
    return _handshake(backend, account_id)


def _member_of_any(backends: Any, account_id: str) -> bool:
    """Whether ``account_id`` is a member of an organization that exists (moto's map of members to
    their management account outlives a reset of the management account's backend: see
    `_forgetting_members`)."""
    management, partition = backends.master_accounts.get(account_id, (None, None))
    per_account = dict.get(backends, management) if management else None
    backend = None if per_account is None else dict.get(per_account, partition)
    return backend is not None and any(found.id == account_id for found in getattr(backend, "accounts", ()))


def _forgetting_members(reset: Any) -> Any:
    """moto's OrganizationsBackend._reset, which also drops the members it maps to this backend's
    account from the BackendDict's ``master_accounts``: moto's reset empties each backend but not that
    map, so after a reset (a new test, a new embedded run) an account that was a member is still
    "in an organization" and CreateOrganization there fails AlreadyInOrganizationException."""
    def forgetting(self: Any) -> None:
        from moto.organizations.models import organizations_backends

        mine = (getattr(self, "account_id", None), getattr(self, "partition", None))
        for member, owner in list(organizations_backends.master_accounts.items()):
            if owner == mine:
                organizations_backends.master_accounts.pop(member, None)
        reset(self)

    forgetting.orchestrate = True  # type: ignore[attr-defined]
    return forgetting


def _handshake(backend: Any, account_id: str) -> dict[str, Any]:
    from moto.core.utils import unix_time

    org, handshake_id = backend.org, "h-" + "".join(random.choices("0123456789abcdefghijklmnopqrstuvwxyz", k=32))
    now = unix_time()
    return {"Handshake": {
        "Id": handshake_id,
        "Arn": arns.organizations_arn(org.master_account_id, f"handshake/{org.id}/invite/{handshake_id}",
                                      backend.partition),
        "Parties": [{"Id": org.id, "Type": "ORGANIZATION"}, {"Id": account_id, "Type": "ACCOUNT"}],
        "State": "ACCEPTED", "RequestedTimestamp": now, "ExpirationTimestamp": now + 15 * 24 * 3600,
        "Action": "INVITE",
        "Resources": [{"Value": org.id, "Type": "ORGANIZATION"}, {"Value": account_id, "Type": "ACCOUNT"}]}}


#: Organizations API Reference, "ConstraintViolationException", reason
#: MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED (the reference's description; AWS's message is not documented).
_TOO_FEW_POLICIES = ("You attempted to detach a policy from an entity that would cause the entity to have fewer "
                     "than the minimum number of policies of a certain type required.")
#: The policy types whose attachments the root must have enabled (moto attaches any).
_ENABLED_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY",
                  "AISERVICES_OPT_OUT_POLICY")


def _constraint(reason: str, message: str) -> Exception:
    from moto.organizations.exceptions import ConstraintViolationException

    error = ConstraintViolationException(message)
    error.Reason = reason  # type: ignore[attr-defined]
    return error


def _target(backend: Any, target_id: str) -> Any | None:
    return next((found for found in [*backend.ou, *backend.accounts] if found.id == target_id), None)


def check_attachment(backend: Any, params: Mapping[str, Any], detaching: bool) -> None:
    """What AWS refuses of AttachPolicy and DetachPolicy and moto 5.2 does not (Organizations API
    Reference, "AttachPolicy", "DetachPolicy"; Organizations User Guide, "SCP evaluation", "RCP
    evaluation"): a policy of a type not enabled on the root (PolicyTypeNotEnabledException);
    detaching the last SCP of a target ("Every root, OU, and account must have at least one SCP
    attached"), or RCPFullAWSAccess ("You cannot detach this policy"): ConstraintViolationException.
    Anything else (no such policy or target) is left to moto's own answer."""
    from moto.organizations import utils
    from moto.organizations.exceptions import PolicyTypeNotEnabledException

    policy = next((found for found in backend.policies if found.id == params.get("PolicyId")), None)
    root = next((unit for unit in backend.ou if unit.type == "ROOT"), None) if backend.org else None
    if policy is None or root is None:
        return
    enabled = {entry["Type"] for entry in root.policy_types if entry.get("Status") == "ENABLED"}
    if policy.type in _ENABLED_TYPES and policy.type not in enabled:
        raise PolicyTypeNotEnabledException
    target = _target(backend, str(params.get("TargetId", "")))
    if not detaching or target is None or policy not in target.attached_policies:
        return
    if policy.id == utils.DEFAULT_RCP_POLICY_ID:
        raise _constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", _TOO_FEW_POLICIES)
    if policy.type == "SERVICE_CONTROL_POLICY" and [p.type for p in target.attached_policies].count(policy.type) == 1:
        raise _constraint("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED", _TOO_FEW_POLICIES)


def _checked(answer: Any, detaching: bool) -> Any:
    def checked(self: Any) -> Any:
        check_attachment(self.organizations_backend, self.request_params, detaching)
        return answer(self)

    checked.orchestrate = True  # type: ignore[attr-defined]
    return checked


def install_organizations() -> None:
    """Let an account of a fixed id join an organization: InviteAccountToOrganization; and refuse
    the attachments AWS refuses (`check_attachment`), on the API only (moto's CreateOrganization
    attaches the defaults itself, before any type is enabled, as AWS does).

    Why: scenarios name their accounts by fixed ids, and moto 5.2's Organizations can place only the
    accounts it makes itself (CreateAccount draws a random id, as AWS does: no caller chooses one);
    it has no handshakes at all (InviteAccountToOrganization, AcceptHandshake and the other
    handshake operations answer "not yet implemented"). This adds InviteAccountToOrganization to
    moto's Organizations responses, with the invited account joining at once (`invite_account`):
    on embedded and under `orchestrate serve` alike (class-level), installed once per process with
    the other patches. RemoveAccountFromOrganization (moto's) takes it out again. And a reset of
    the management account's backend forgets its members (`_forgetting_members`)."""
    from moto.organizations.models import OrganizationsBackend
    from moto.organizations.responses import OrganizationsResponse

    def invite_account_to_organization(self: Any) -> str:
        return json.dumps(invite_account(self.organizations_backend, self._get_param("Target")))

    with _bucket_policy_off:
        if not hasattr(OrganizationsResponse, "invite_account_to_organization"):
            OrganizationsResponse.invite_account_to_organization = invite_account_to_organization  # type: ignore[attr-defined]
        if not getattr(OrganizationsBackend._reset, "orchestrate", False):
            OrganizationsBackend._reset = _forgetting_members(OrganizationsBackend._reset)  # type: ignore[method-assign]
        if not getattr(OrganizationsResponse.attach_policy, "orchestrate", False):
            OrganizationsResponse.attach_policy = _checked(OrganizationsResponse.attach_policy, False)  # type: ignore[method-assign]
            OrganizationsResponse.detach_policy = _checked(OrganizationsResponse.detach_policy, True)  # type: ignore[method-assign]


def install_policy_checks_off() -> None:
    """moto's own bucket-policy and key-policy checks off: the gate is the only judge of both;
    the session facts moto drops kept (`install_session_facts`); accounts invited into an
    organization (`install_organizations`)."""
    install_s3_bucket_policy_off()
    install_kms_key_policy_check_off()
    install_session_facts()
    install_organizations()

"""moto's in-process state as the gate's world (orchestrator/authz/world.py's Protocol).

A typed, read-only facade over moto's IAM, STS, KMS, DynamoDB and S3 backends. Nothing here caches
state: every call re-reads moto's backends, so state changed between two calls is always seen.
moto is imported lazily inside functions. The one thing kept is the text of AWS managed policies
found in moto's bundle (fixed data), by the :class:`BundledPolicies` its owner holds.
"""
from __future__ import annotations

import base64
import json
import os
from datetime import timezone
from typing import Any, Iterable, Iterator, Mapping

from orchestrator import arns
from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import (ACCOUNT, FULL_AWS_ACCESS, RCP, RCP_FULL_AWS_ACCESS, ROOT, SCP,
                                                    UNIT, Membership, OrgLevel)
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.world import (DEFAULT_ACCOUNT, BucketInfo, GrantInfo, Identity, KeyInfo, KeySecret,
                                      ObjectInfo, PolicyDoc, PublicAccessBlockInfo, RoleInfo, TableInfo, session_principal_tags)

__all__ = ["MotoWorld", "BundledPolicies", "bundled_policy"]

#: The partition moto keeps S3 Control's account-level settings under (s3control_backends).
_PARTITION = "aws"
#: Where moto_extensions.install_session_facts keeps what moto 5.2 drops of an AssumeRole request, on
#: moto's session object (read here, written there).
SESSION_POLICY_ARNS, SESSION_TAGS = "orchestrate_policy_arns", "orchestrate_session_tags"
TRANSITIVE_TAG_KEYS, SOURCE_IDENTITY = "orchestrate_transitive_tag_keys", "orchestrate_source_identity"
#: A session policy that allows nothing (a PolicyArns entry naming no policy).
_ALLOWS_NOTHING = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "*", "Resource": "*"}]}'


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _items(mapping: Any) -> list[tuple[Any, Any]]:
    """Snapshot of a dict's items without triggering moto's lazy backend creation."""
    return list(dict.items(mapping))


def _default_document(policy: Any) -> str:
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False):
            return str(version.document)
    versions = getattr(policy, "versions", [])
    return str(versions[-1].document) if versions else "{}"


def _tag_map(tags: Iterable[Mapping[str, str]] | None, key: str, value: str) -> dict[str, str]:
    return {tag[key]: tag[value] for tag in tags or () if key in tag}


class BundledPolicies:
    """AWS managed policies from moto's bundled copy, loaded into moto or not (moto instantiates
    them only with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``; the data ships either way). Each text
    is found once per name and kept by this object (fixed data: its owner decides how long)."""

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: dict[str, str | None] = {}

    def text(self, name: str) -> str | None:
        """Found without parsing all of the bundle (json.loads of it costs ~0.12 s, a tenth of a
        seed run): the search scans megabytes. Top-level entries are written `\n "Name":{`, which
        nothing nested in the bundle can match."""
        if name not in self._texts:
            self._texts[name] = _bundled_text(name)
        return self._texts[name]

    def policy(self, name: str) -> dict[str, Any] | None:
        """One policy (a fresh copy each call)."""
        text = self.text(name)
        return None if text is None else dict(json.loads(text))

    def document(self, arn: str) -> str | None:
        """The document of the AWS managed policy ``arn`` (``arn:aws:iam::aws:policy/NAME``)."""
        if not arn.startswith(arns.AWS_MANAGED_POLICY_PREFIX):
            return None
        data = self.policy(arn.rsplit("/", 1)[-1])
        return None if data is None else json.dumps(data.get("Document"))


def bundled_policy(name: str) -> dict[str, Any] | None:
    """One AWS managed policy from moto's bundle, with no memory kept (a one-off look-up)."""
    return BundledPolicies().policy(name)


def _bundled_text(name: str) -> str | None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data as bundle

    start = bundle.find(f'\n "{name}":{{')
    if start < 0:
        return None
    value, _ = json.JSONDecoder().raw_decode(bundle, bundle.index("{", start))
    return json.dumps(value)


class MotoWorld:
    """Typed, uncached view of moto's IAM, STS, KMS, DynamoDB, S3 and Organizations backends."""

    def __init__(self, bundled: BundledPolicies | None = None) -> None:
        self._bundled = bundled or BundledPolicies()
        #: moto's BackendDict per service, fetched once: each is a module-level object of moto's
        #: that lives as long as the process (a reset empties it in place), so holding it caches
        #: no state, only moto's import_module lookup (~7 a request under serve)
        self._backend_dicts: dict[str, Any] = {}

    # ---- accounts and backends -------------------------------------------------

    def _backends(self, service: str) -> Any:
        found = self._backend_dicts.get(service)
        if found is None:
            from moto.backends import get_backend

            found = self._backend_dicts[service] = get_backend(service)  # type: ignore[call-overload]
        return found

    def _iam_accounts(self) -> Iterator[tuple[str, Any]]:
        for account_id, per_account in _items(self._backends("iam")):
            backend = dict.get(per_account, _PARTITION)
            if backend is not None:
                yield account_id, backend

    def iam_backend(self, account: str) -> Any | None:
        for account_id, backend in self._iam_accounts():
            if account_id == account:
                return backend
        return None

    def account_for_access_key(self, access_key_id: str | None) -> str:
        """The account moto serves a request in (same order as moto's responses)."""
        if "MOTO_ACCOUNT_ID" in os.environ:
            return os.environ["MOTO_ACCOUNT_ID"]
        for account_id, backend in self._iam_accounts():
            if access_key_id and access_key_id in backend.access_keys:
                return str(account_id)
        return DEFAULT_ACCOUNT

    # ---- identities --------------------------------------------------------------

    def identity_for_access_key(self, access_key_id: str | None) -> Identity | None:
        """The IAM user or assumed-role session owning ``access_key_id``, if any."""
        if not access_key_id:
            return None
        for account_id, backend in self._iam_accounts():
            for user in list(backend.users.values()):
                if any(k.access_key_id == access_key_id for k in user.access_keys):
                    return self._user_identity(user, access_key_id)
            key = backend.access_keys.get(access_key_id)
            if key is not None and getattr(key, "role_arn", None):
                return self._session_identity(account_id, access_key_id)
        return None

    def secret_for_access_key(self, access_key_id: str) -> KeySecret | None:
        """The secret of an IAM user's access key, or of a role session's temporary credentials
        with their session token and expiry; None for a key moto does not hold (never made, or
        deleted). A user's key counts only while the user holds it: moto's DeleteUser leaves the
        user's keys in the backend's index (AWS refuses to delete a user who still has keys:
        IAM API Reference, "DeleteUser", DeleteConflict)."""
        for _account_id, backend in self._iam_accounts():
            key = dict.get(backend.access_keys, access_key_id)
            if key is None:
                continue
            if getattr(key, "role_arn", None):
                return self._session_secret(access_key_id)
            user = dict.get(backend.users, key.user_name) if key.user_name else None
            if user is None or not any(held.access_key_id == access_key_id for held in user.access_keys):
                return None
            return KeySecret(str(key.secret_access_key), active=key.status == "Active")
        return None

    def _session_secret(self, access_key_id: str) -> KeySecret | None:
        """A role session's credentials, as sts:AssumeRole answered them."""
        for _acct, per_account in _items(self._backends("sts")):
            backend = dict.get(per_account, _PARTITION)
            found = backend and backend.get_assumed_role_from_access_key(access_key_id)
            if found:
                expiration = found.expiration  # moto's utcnow(): naive UTC
                if expiration.tzinfo is None:
                    expiration = expiration.replace(tzinfo=timezone.utc)
                return KeySecret(str(found.secret_access_key), str(found.session_token), expiration)
        return None

    def identity_for_arn(self, principal_arn: str) -> Identity | None:
        """The IAM user, or the latest role session, with this ARN (to predict, without credentials)."""
        if arns.is_session(principal_arn):
            return self._session_for_arn(principal_arn)
        for _account_id, backend in self._iam_accounts():
            for user in list(backend.users.values()):
                if user.arn == principal_arn:
                    return self._user_identity(user, None)
        return None

    def _user_identity(self, user: Any, access_key_id: str | None) -> Identity:
        backend = self.iam_backend(user.account_id)
        tags = backend.tagger.list_tags_for_resource(user.arn)["Tags"] if backend else []
        principal = Principal(
            arn=user.arn,
            account=user.account_id,
            type="User",
            username=user.name,
            userid=user.id,
            tags=_tag_map(tags, "Key", "Value"),
        )
        return Identity(principal, user.account_id, user_name=user.name,
                        access_key_id=access_key_id)

    def _session_identity(self, account_id: str, access_key_id: str) -> Identity | None:
        for _acct, per_account in _items(self._backends("sts")):
            backend = dict.get(per_account, _PARTITION)
            found = backend and backend.get_assumed_role_from_access_key(access_key_id)
            if found:
                return self._session(found, account_id, access_key_id)
        return None

    def _session_for_arn(self, session_arn: str) -> Identity | None:
        for account_id, per_account in _items(self._backends("sts")):
            backend = dict.get(per_account, _PARTITION)
            for found in reversed(list(getattr(backend, "assumed_roles", []) or [])):
                if found.arn == session_arn:
                    return self._session(found, str(account_id), found.access_key_id)
        return None

    def _session(self, found: Any, account_id: str, access_key_id: str | None) -> Identity:
        """A role session: aws:userid is ROLEID:SESSION, aws:PrincipalArn the role ARN, and the
        role's tags are the session's principal tags (IAM User Guide, "AWS global condition
        context keys": aws:PrincipalTag "for a role session, the tags attached to the role")."""
        role = self.role(found.role_arn)
        tags = session_principal_tags(dict(role.tags) if role is not None else {}, getattr(found, SESSION_TAGS, {}))
        principal = Principal(arn=found.arn, account=account_id, type="AssumedRole",
                              userid=found.user_id, role_arn=found.role_arn, tags=tags,
                              source_identity=getattr(found, SOURCE_IDENTITY, None))
        return Identity(principal, account_id, role_arn=found.role_arn, access_key_id=access_key_id,
                        session_policies=self._session_policies(found, account_id))

    def _session_policies(self, found: Any, account_id: str) -> tuple[PolicyDoc, ...]:
        """AssumeRole's Policy (moto keeps it) and PolicyArns (moto_extensions.install_session_facts)."""
        docs = [PolicyDoc("session", f"session policy of {found.arn}", str(found.policy))] if found.policy else []
        for arn in getattr(found, SESSION_POLICY_ARNS, ()):
            document = self.managed_policy_document(account_id, arn)
            # A policy ARN that names no policy fails AssumeRole on AWS; here it allows nothing.
            docs.append(PolicyDoc("session", arn, document if document is not None else _ALLOWS_NOTHING))
        return tuple(docs)

    # ---- identity-based policies -------------------------------------------------

    def identity_policies(self, identity: Identity) -> list[PolicyDoc]:
        """Inline and attached policies of the user, its groups, or the session's role."""
        backend = self.iam_backend(identity.account)
        if backend is None:
            return []
        if identity.user_name is not None:
            return self._user_policies(backend, identity.user_name)
        if identity.role_arn is not None:
            role = self._role(backend, identity.role_arn)
            return [] if role is None else self._holder_policies(role, "role")
        return []

    def _user_policies(self, backend: Any, user_name: str) -> list[PolicyDoc]:
        user = backend.users.get(user_name)
        if user is None:
            return []
        docs = self._holder_policies(user, "user")
        for group in list(backend.groups.values()):
            if user in group.users:
                docs.extend(self._holder_policies(group, f"group {group.name}"))
        return docs

    @staticmethod
    def _holder_policies(holder: Any, label: str) -> list[PolicyDoc]:
        docs = [PolicyDoc("identity", f"{label} inline {name}", str(doc))
                for name, doc in dict(holder.policies).items()]
        docs.extend(PolicyDoc("identity", arn, _default_document(policy))
                    for arn, policy in dict(holder.managed_policies).items())
        return docs

    def role(self, role_arn: str) -> RoleInfo | None:
        """The role with this ARN (path included), in the account the ARN names."""
        account = arns.account_of(role_arn)
        backend = self.iam_backend(account)
        role = None if backend is None else self._role(backend, role_arn)
        if role is None:
            return None
        tags = _tag_map(getattr(role, "tags", None) or [], "Key", "Value")  # moto keeps a role's tags on the role
        return RoleInfo(role.name, role.arn, account, str(role.id), str(role.assume_role_policy_document or "{}"), tags)

    @staticmethod
    def _role(backend: Any, role_arn: str) -> Any | None:
        for role in list(backend.roles.values()):
            if role.arn == role_arn:
                return role
        return None

    def permissions_boundary(self, identity: Identity) -> PolicyDoc | None:
        """The identity's permissions boundary, when moto stores one.

        moto 5.2 stores boundaries on roles only (no PutUserPermissionsBoundary);
        a ``permissions_boundary_arn`` on a user is honoured if present.
        """
        backend = self.iam_backend(identity.account)
        if backend is None:
            return None
        holder: Any = None
        if identity.user_name is not None:
            holder = backend.users.get(identity.user_name)
        elif identity.role_arn is not None:
            holder = self._role(backend, identity.role_arn)
        arn = getattr(holder, "permissions_boundary_arn", None)
        if not arn:
            return None
        document = self.managed_policy_document(identity.account, arn)
        return None if document is None else PolicyDoc("boundary", arn, document)

    def managed_policy_document(self, account: str, arn: str) -> str | None:
        """Default version of a managed policy, falling back to moto's bundled AWS data."""
        backend = self.iam_backend(account)
        policy = backend.managed_policies.get(arn) if backend is not None else None
        if policy is not None:
            return _default_document(policy)
        return self._bundled.document(arn)

    # ---- KMS ---------------------------------------------------------------------

    def _kms_backend(self, account: str, region: str) -> Any | None:
        per_account = dict.get(self._backends("kms"), account)
        return None if per_account is None else dict.get(per_account, region)

    def kms_key(self, key_ref: str | None, region: str, account: str) -> KeyInfo | None:
        """A key by key id, key ARN, alias name or alias ARN (the ARN's account/region win)."""
        if not key_ref:
            return None
        region, account = _region_account(key_ref, region, account)
        backend = self._kms_backend(account, region)
        if backend is None:
            return None
        key = backend.keys.get(self._raw_key_id(backend, key_ref))
        return None if key is None else self._key_info(backend, key)

    def kms_grant_by_token(self, token: str | None, region: str, account: str) -> tuple[KeyInfo, GrantInfo] | None:
        """The key and grant a grant token names (RetireGrant's GrantToken), in the account and
        region; None when no grant of theirs has it."""
        backend = self._kms_backend(account, region) if token else None
        for key in [] if backend is None else list(backend.keys.values()):
            for grant in list(key.grants.values()):
                if getattr(grant, "token", None) == token:
                    return self._key_info(backend, key), self._grant_info(key, grant)
        return None

    @staticmethod
    def _raw_key_id(backend: Any, key_ref: str) -> str:
        arn = arns.parse_arn(key_ref)
        ref = arn.resource if arn is not None and arn.resource_type in ("alias", "key") else key_ref
        if arn is not None and arn.resource_type == "key":
            return arn.resource_id
        if ref.startswith("alias/"):
            for key in list(backend.keys.values()):
                if ref in key.aliases:
                    return str(key.id)
            return ""
        return ref

    def kms_key_from_ciphertext(self, blob: bytes | str | None, region: str,
                                account: str) -> KeyInfo | None:
        """The key a moto ciphertext blob was made under (moto embeds the 36-char key id)."""
        raw = self._blob_bytes(blob)
        if raw is None or len(raw) < 36:
            return None
        try:
            key_id = raw[:36].decode("utf-8")
        except UnicodeDecodeError:
            return None
        found = self.kms_key(key_id, region, account)
        if found is not None:
            return found
        # a ciphertext of another account's key (a key shared across accounts): key ids are unique
        for other, _ in _items(self._backends("kms")):
            if other != account:
                found = self.kms_key(key_id, region, str(other))
                if found is not None:
                    return found
        return None

    def signature_valid(self, key_ref: str | None, message: bytes | str | None, signature: bytes | str | None,
                        algorithm: str, region: str, account: str) -> bool | None:
        """Whether moto's key pair verifies ``signature`` of the RAW ``message`` (None: no such key,
        or no signature to check), for the gate's answer to Verify (moto 5.2 answers an invalid
        signature with SignatureValid false; AWS with KMSInvalidSignatureException)."""
        if not key_ref or not algorithm:
            return None
        region, account = _region_account(key_ref, region, account)
        backend = self._kms_backend(account, region)
        key = None if backend is None else backend.keys.get(self._raw_key_id(backend, key_ref))
        raw_message, raw_signature = self._blob_bytes(message), self._blob_bytes(signature)
        if key is None or key.key_usage != "SIGN_VERIFY" or not raw_message or not raw_signature:
            return None
        try:
            return bool(key.private_key.verify(raw_message, raw_signature, algorithm))
        except Exception:  # an algorithm moto refuses: moto answers it itself
            return None

    @staticmethod
    def _blob_bytes(blob: bytes | str | None) -> bytes | None:
        if blob is None:
            return None
        if isinstance(blob, (bytes, bytearray)):
            return bytes(blob)
        try:
            return base64.b64decode(blob)
        except (ValueError, TypeError):
            return None

    def _key_info(self, backend: Any, key: Any) -> KeyInfo:
        aliases = tuple(sorted(key.aliases))
        tags = backend.tagger.list_tags_for_resource(key.id).get("Tags", [])
        return KeyInfo(
            key_id=key.id, arn=key.arn, account=key.account_id, region=key.region,
            policy=str(key.policy or "{}"), state=str(key.key_state), enabled=bool(key.enabled),
            aws_managed=any(a.startswith("alias/aws/") for a in aliases), aliases=aliases,
            # moto keeps None for a CreateKey without KeySpec/KeyUsage; AWS defaults them
            key_spec=str(key.key_spec or "SYMMETRIC_DEFAULT"), key_usage=str(key.key_usage or "ENCRYPT_DECRYPT"),
            origin=str(key.origin),
            multi_region=bool(key.multi_region), tags=_tag_map(tags, "TagKey", "TagValue"),
            grants=tuple(self._grant_info(key, g) for g in list(key.grants.values())),
        )

    @staticmethod
    def _grant_info(key: Any, grant: Any) -> GrantInfo:
        constraints = grant.constraints or {}
        return GrantInfo(
            grant_id=str(grant.id), name=str(grant.name or ""),
            grantee_principal=str(grant.grantee_principal),
            operations=tuple(grant.operations or ()), key_arn=str(key.arn),
            encryption_context_equals=constraints.get("EncryptionContextEquals"),
            encryption_context_subset=constraints.get("EncryptionContextSubset"),
            retiring_principal=str(grant.retiring_principal) if getattr(grant, "retiring_principal", None) else None,
            token=str(getattr(grant, "token", "") or ""),
        )

    # ---- DynamoDB ----------------------------------------------------------------

    def table(self, name_or_arn: str | None, region: str, account: str) -> TableInfo | None:
        """A DynamoDB table by name or ARN."""
        if not name_or_arn:
            return None
        if (arn := arns.parse_arn(name_or_arn)) is not None:
            region, account, name_or_arn = arn.region, arn.account, arn.resource.split("/")[1]
        per_account = dict.get(self._backends("dynamodb"), account)
        backend = None if per_account is None else dict.get(per_account, region)
        table = None if backend is None else backend.tables.get(name_or_arn)
        return None if table is None else self._table_info(backend, table)

    @staticmethod
    def _table_info(backend: Any, table: Any) -> TableInfo:
        sse = table.sse_specification or {}
        key_ref = sse.get("KMSMasterKeyId") if _truthy(sse.get("Enabled")) else None
        policy = backend.resource_policies.get(table.table_arn)
        return TableInfo(
            name=table.name, arn=table.table_arn, account=table.account_id,
            region=table.region_name, hash_key=table.hash_key_attr,
            range_key=table.range_key_attr, kms_key_ref=key_ref,
            resource_policy=None if policy is None else str(policy.policy_doc),
            tags=_tag_map(table.tags, "Key", "Value"),
        )

    # ---- S3 ----------------------------------------------------------------------

    def _s3_backend_for(self, bucket: str) -> Any | None:
        backends = self._backends("s3")
        located = backends.bucket_accounts.get(bucket)
        if located is None:
            return None
        partition, account = located
        per_account = dict.get(backends, account)
        return None if per_account is None else dict.get(per_account, partition)

    def bucket(self, name: str | None) -> BucketInfo | None:
        """A bucket with its policy and default encryption rule."""
        backend = self._s3_backend_for(name) if name else None
        found = None if backend is None else backend.buckets.get(name)
        if found is None:
            return None
        rule = (found.encryption or {}).get("Rule") or {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        return BucketInfo(
            name=found.name, arn=found.arn, account=found.account_id,
            region=found.region_name,
            policy=None if found.policy is None else found.policy.decode("utf-8"),
            sse_algorithm=default.get("SSEAlgorithm"), kms_key_id=default.get("KMSMasterKeyID"),
            bucket_key_enabled=_truthy(rule.get("BucketKeyEnabled")),
            block_public_policy=_blocks(found, "block_public_policy"),
            restrict_public_buckets=_blocks(found, "restrict_public_buckets"),
            object_ownership=found.ownership_rule if isinstance(found.ownership_rule, str) else None,
        )

    def s3_object(self, bucket: str | None, key: str | None) -> ObjectInfo | None:
        """The current version of an object, with its SSE settings."""
        backend = self._s3_backend_for(bucket) if bucket else None
        found = backend.buckets.get(bucket) if backend is not None else None
        if found is None or not key or key not in found.keys:
            return None
        obj = found.keys[key]
        return ObjectInfo(
            bucket=str(bucket), key=key, arn=arns.object_arn(str(bucket), key),
            sse_algorithm=obj.encryption, kms_key_id=obj.kms_key_id,
            bucket_key_enabled=_truthy(obj.bucket_key_enabled),
        )

    # ---- Organizations --------------------------------------------------------------

    def membership(self, account: str | None) -> Membership | None:
        """``account``'s place in its organization as moto's Organizations backend holds it: the
        root, each unit and the account, each with the SCPs and RCPs attached there (a policy type
        not enabled on the root restricts nothing: _OFF), and whether it is the management account;
        None outside an organization (and so for every account of a world with none: nothing
        changes). Read anew each call, as everything here: measured at 0.5 µs without an
        organization and 18 µs for an account five levels deep among 22, against a gate decision's
        hundreds, so no cache to drop on Organizations' mutations (docs/embedded-departures.md)."""
        backends = self._backends("organizations") if account else None
        backend = None if backends is None else _Organizations.backend_of(backends, str(account))
        if backend is None:
            return None
        member = next((found for found in list(backend.accounts) if found.id == account), None)
        if member is None:
            return None
        chain = _Organizations.chain(backend, member)
        enabled = _Organizations.enabled(backend, chain[0] if chain[0].type == "ROOT" else None)
        levels = tuple(_Organizations.level(entity, enabled) for entity in chain)
        return Membership(str(backend.org.id), levels, management=account == backend.org.master_account_id)

    def account_public_access_block(self, account: str) -> PublicAccessBlockInfo | None:
        """The account-level Block Public Access (moto's S3 Control backend of the account's
        partition, where PutPublicAccessBlock with AccountId keeps it), None without one."""
        per_account = dict.get(self._backends("s3control"), account)
        backend = None if per_account is None else dict.get(per_account, _PARTITION)
        block = None if backend is None else backend.public_access_block
        if block is None:
            return None
        return PublicAccessBlockInfo(
            block_public_acls=bool(block.block_public_acls), ignore_public_acls=bool(block.ignore_public_acls),
            block_public_policy=bool(block.block_public_policy),
            restrict_public_buckets=bool(block.restrict_public_buckets))


#: Organizations policy types (Organizations API Reference, "EnablePolicyType") and their engine kinds.
_POLICY_TYPES = {"SERVICE_CONTROL_POLICY": SCP, "RESOURCE_CONTROL_POLICY": RCP}
#: What stands at every level for a policy type that is off: a type that is not enabled on the root
#: (or an organization of consolidated billing only) restricts nothing, as one Allow-everything does.
_OFF = {SCP: ("FullAWSAccess (SCPs not enabled)", FULL_AWS_ACCESS),
        RCP: ("RCPFullAWSAccess (RCPs not enabled)", RCP_FULL_AWS_ACCESS)}


class _Organizations:
    """The organization an account is in, as moto's Organizations backend holds it: reads only."""

    @staticmethod
    def backend_of(backends: Any, account: str) -> Any | None:
        """The backend of the management account of ``account``'s organization (moto keeps the
        organization there, and maps each member to it in ``master_accounts``), None outside one."""
        management, partition = dict.get(getattr(backends, "master_accounts", {}), account, (account, _PARTITION))
        per_account = dict.get(backends, management)
        backend = None if per_account is None else dict.get(per_account, partition)
        return backend if backend is not None and getattr(backend, "org", None) is not None else None

    @staticmethod
    def enabled(backend: Any, root: Any) -> frozenset[str]:
        """The engine kinds (scp, rcp) whose policy type is enabled on the root (Organizations User
        Guide, "Enabling a policy type": a type that is not enabled cannot be attached and has no
        effect), none for an organization of consolidated billing only ("Available features")."""
        if backend.org.feature_set != "ALL" or root is None:
            return frozenset()
        return frozenset(_POLICY_TYPES[entry["Type"]] for entry in getattr(root, "policy_types", ())
                         if entry.get("Status") == "ENABLED" and entry.get("Type") in _POLICY_TYPES)

    @staticmethod
    def chain(backend: Any, member: Any) -> list[Any]:
        """The root, each unit down to the account's parent, and the account (root first)."""
        units = {unit.id: unit for unit in list(backend.ou)}
        chain, parent, seen = [member], units.get(member.parent_id), set()
        while parent is not None and parent.id not in seen:
            seen.add(parent.id)
            chain.append(parent)
            parent = units.get(parent.parent_id)
        return chain[::-1]

    @staticmethod
    def level(entity: Any, enabled: frozenset[str]) -> OrgLevel:
        kind = ROOT if entity.type == "ROOT" else UNIT if entity.type == "ORGANIZATIONAL_UNIT" else ACCOUNT
        found: dict[str, list[PolicySource]] = {SCP: [], RCP: []}
        for policy in list(entity.attached_policies):
            engine_kind = _POLICY_TYPES.get(policy.type)
            if engine_kind in enabled:
                found[engine_kind].append(PolicySource(engine_kind, f"{policy.name} ({policy.id})", str(policy.content)))
        for off in (SCP, RCP):
            if off not in enabled:
                found[off] = [PolicySource(off, *_OFF[off])]
        return OrgLevel(kind, str(entity.name or entity.id), str(entity.id), tuple(found[SCP]), tuple(found[RCP]))


def _region_account(ref: str, region: str, account: str) -> tuple[str, str]:
    """An ARN's region and account win over the call's (a key named by its ARN in another account)."""
    arn = arns.parse_arn(ref)
    return (arn.region or region, arn.account or account) if arn is not None else (region, account)


def _blocks(bucket: Any, setting: str) -> bool:
    """A Block Public Access setting of the bucket (moto's PublicAccessBlock), True when on."""
    block = getattr(bucket, "public_access_block", None)
    return bool(getattr(block, setting, False)) if block is not None else False

"""The world as the scenario says it is, for the engine's predictions where moto's world is not at
hand: on an endpoint and on real AWS. The gate reads it through the same methods as its moto
Protocol (orchestrator.authz.world.World), so a prediction there is what the gate would decide if
the world matched the desired state; where AWS answers otherwise, the report shows a model gap.

Built from the resolved desired properties the reconcilers compute, with the ARNs learnt while
applying (`ctx.known`), and AWS managed policies from moto's bundled copy.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from orchestrator.arns import alias_arn, is_session
from orchestrator.authz.engine.organization import Membership
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.world import (BucketInfo, GrantInfo, Identity, KeyInfo, ObjectInfo, PolicyDoc,
                                      PublicAccessBlockInfo, RoleInfo, TableInfo, session_principal_tags)
from orchestrator.backends.moto_world import _ALLOWS_NOTHING, BundledPolicies
from orchestrator.model.scenario import DesiredState
from orchestrator.prove.organization import membership as organization_membership, organization_ids
from orchestrator.resources.context import RunContext
from orchestrator.resources.dynamodb_table import DynamoDBTable
from orchestrator.resources.iam_group import IamGroupAccess
from orchestrator.resources.iam_policy import IamPolicy
from orchestrator.resources.iam_role import IamRole, IamRoleAccess
from orchestrator.resources.iam_user import IamUser, IamUserAccess
from orchestrator.resources.kms_grant import KmsGrant
from orchestrator.resources.kms_key import KmsKey
from orchestrator.resources.s3_account_block import S3AccountPublicAccessBlock
from orchestrator.resources.s3_bucket import S3Bucket
from orchestrator.resources.s3_objects import seeded_body


class DesiredWorld:
    def __init__(self, ctx: RunContext, desired: DesiredState, ciphertexts: dict[str, bytes],
                 contextual: dict[tuple[str, Any], bytes] | None = None, sessions: Mapping[str, Any] | None = None) -> None:
        self.ctx = ctx
        #: Session ARN -> prove.sessions.SessionShape: what the expectations ask AssumeRole for.
        self.sessions = dict(sessions or {})
        self.desired = desired
        self.ciphertexts = ciphertexts
        self.contextual = contextual if contextual is not None else {}  # (key name, context) -> ciphertext
        self._access = {name: self.properties(IamUserAccess(), "users", name) for name in desired.users}
        self._role_access = {ctx.arn(f"role:{name}"): self.properties(IamRoleAccess(), "roles", name) for name in desired.roles}
        self._customer = {ctx.arn(f"policy:{name}"): found["document"] for name in desired.policies
                          if (found := self.properties(IamPolicy(), "policies", name)) is not None}
        # What the gate reads is computed once per world: the world is made after its state is
        # applied (runner.predictor) or for one analysis, and an access matrix asks it 10^5 times.
        self._memo: dict[tuple[str, Any], Any] = {}
        self._bundled = BundledPolicies()  # AWS managed policies' documents, found once per name

    def properties(self, reconciler: Any, section: str, name: str) -> dict[str, Any] | None:
        """What the gate reads of one entity: its reconciler's desired properties. None stands for
        an entity that is not there (orchestrator/analysis/observed.py reads them from the world)."""
        return reconciler.desired(self.ctx.for_entity(section, name), self.desired, name)  # type: ignore[no-any-return]

    def answers_version(self) -> tuple[int, int]:
        """Changes whenever an answer may: the world is fixed once made, but for the ciphertexts it
        traces to their keys, which the probes add as requests are made (they never change one).
        The gate caches its plans over a world that has this (authz/gate.py, _StaticMemo)."""
        return len(self.ciphertexts), len(self.contextual)

    def _once(self, slot: tuple[str, Any], make: Any) -> Any:
        if slot not in self._memo:
            self._memo[slot] = make()
        return self._memo[slot]

    # identities -------------------------------------------------------------------------
    def identity_for_arn(self, principal_arn: str) -> Identity | None:
        return self._once(("arn", principal_arn), lambda: self._identity_for_arn(principal_arn))  # type: ignore[no-any-return]

    def _identity_for_arn(self, principal_arn: str) -> Identity | None:
        if is_session(principal_arn):
            return self._session(principal_arn)
        for name in self.desired.users:
            if self.ctx.arn(f"user:{name}") == principal_arn:
                found = self.properties(IamUser(), "users", name)
                if found is None:
                    return None
                physical = self.ctx.physical(name)
                account = self.ctx.account_id("users", name)
                principal = Principal(principal_arn, account, "User", physical, None, dict(found["tags"]))
                return Identity(principal, account, user_name=name)
        return None

    def _session(self, session_arn: str) -> Identity | None:
        """A session of a declared role (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)."""
        role_name = session_arn.split("/")[1] if session_arn.count("/") >= 2 else ""
        for name in self.desired.roles:
            if self.ctx.physical(name) == role_name and (found := self.properties(IamRole(), "roles", name)) is not None:
                role_arn = self.ctx.arn(f"role:{name}")
                account = self.ctx.account_id("roles", name)
                shape = self.sessions.get(session_arn)
                tags = session_principal_tags(dict(found["tags"]), dict(shape.tags) if shape is not None else {})
                principal = Principal(session_arn, account, "AssumedRole", None, None, tags, role_arn=role_arn,
                                      source_identity=shape.source_identity if shape is not None else None)
                return Identity(principal, account, role_arn=role_arn, session_policies=self._session_policies(shape))
        return None

    def _session_policies(self, shape: Any) -> tuple[PolicyDoc, ...]:
        """The session policies a shape asks for (IAM User Guide, "Session policies")."""
        if shape is None:
            return ()
        docs = [PolicyDoc("session", "session policy", shape.policy)] if shape.policy is not None else []
        for arn in shape.policy_arns:
            document = self.managed_policy_document(self.ctx.account, arn)
            docs.append(PolicyDoc("session", arn, document if document is not None else _ALLOWS_NOTHING))
        return tuple(docs)

    def role(self, role_arn: str) -> RoleInfo | None:
        for name in self.desired.roles:
            if self.ctx.arn(f"role:{name}") == role_arn:
                found = self.properties(IamRole(), "roles", name)
                if found is None:
                    return None
                scoped = self.ctx.for_entity("roles", name)
                return RoleInfo(self.ctx.physical(name), role_arn, scoped.account, "", json.dumps(found["trust_policy"]),
                                dict(found["tags"]))
        return None

    def identity_for_access_key(self, access_key_id: str | None) -> Identity | None:
        return None

    def account_for_access_key(self, access_key_id: str | None) -> str:
        return self.ctx.account

    def identity_policies(self, identity: Identity) -> list[PolicyDoc]:
        return list(self._once(("identity", (identity.role_arn, identity.user_name)), lambda: self._identity_policies(identity)))

    def _identity_policies(self, identity: Identity) -> list[PolicyDoc]:
        if identity.role_arn is not None:
            return self._holder_documents(f"role {identity.role_arn}", self._role_access.get(identity.role_arn))
        access = self._access.get(identity.user_name or "")
        if access is None:
            return []
        documents = [PolicyDoc("identity", f"{identity.user_name}/inline/{name}", json.dumps(doc))
                     for name, doc in access["inline_policies"].items()]
        documents += self._managed(access["managed_policies"])
        for group in self.desired.groups:
            if self.ctx.physical(group) in access["groups"]:
                group_access = self.properties(IamGroupAccess(), "groups", group) or {"inline_policies": {}, "managed_policies": []}
                documents += [PolicyDoc("identity", f"group {group}/inline/{name}", json.dumps(doc))
                              for name, doc in group_access["inline_policies"].items()]
                documents += self._managed(group_access["managed_policies"])
        return documents

    def _holder_documents(self, label: str, access: dict[str, Any] | None) -> list[PolicyDoc]:
        if access is None:
            return []
        documents = [PolicyDoc("identity", f"{label}/inline/{name}", json.dumps(doc))
                     for name, doc in access["inline_policies"].items()]
        return documents + self._managed(access["managed_policies"])

    def _managed(self, arns: list[str]) -> list[PolicyDoc]:
        found = []
        for arn in arns:
            document = self.managed_policy_document(self.ctx.account, arn)
            if document is not None:
                found.append(PolicyDoc("identity", arn, document))
        return found

    def managed_policy_document(self, account: str, arn: str) -> str | None:
        if arn in self._customer:
            return json.dumps(self._customer[arn])
        return self._bundled.document(arn)

    def permissions_boundary(self, identity: Identity) -> PolicyDoc | None:
        access = (self._role_access.get(identity.role_arn) if identity.role_arn is not None
                  else self._access.get(identity.user_name or ""))
        arn = access["permissions_boundary"] if access else None
        document = self.managed_policy_document(self.ctx.account, arn) if arn else None
        return None if document is None or arn is None else PolicyDoc("boundary", arn, document)

    # keys and tables ----------------------------------------------------------------------
    def kms_key(self, key_ref: str | None, region: str, account: str) -> KeyInfo | None:
        for name in self.desired.keys:
            info = self._key_info(name)
            if info is None:
                continue
            aliases = {alias for alias in info.aliases} | {alias_arn(info.region, info.account, a) for a in info.aliases}
            if key_ref in (info.arn, info.key_id) or key_ref in aliases:
                return info
        return None

    def kms_key_from_ciphertext(self, blob: bytes | str | None, region: str, account: str, *_: Any) -> KeyInfo | None:
        for name, ciphertext in self.ciphertexts.items():
            if ciphertext == blob:
                return self._key_info(name)
        for (name, _context), ciphertext in self.contextual.items():
            if ciphertext == blob:
                return self._key_info(name)
        return None

    def _key_info(self, name: str) -> KeyInfo | None:
        return self._once(("key", name), lambda: self._make_key_info(name))  # type: ignore[no-any-return]

    def _make_key_info(self, name: str) -> KeyInfo | None:
        scoped = self.ctx.for_entity("keys", name)
        properties = self.properties(KmsKey(), "keys", name)
        if properties is None:
            return None
        arn = self.ctx.arn(f"key:{name}")
        state = _key_state(properties)
        return KeyInfo(arn.rpartition("/")[2], arn, scoped.account, self.ctx.region, json.dumps(properties["policy"]),
                       state, state == "Enabled", False, tuple(properties["aliases"]),
                       properties["spec"], properties["usage"], tags=dict(properties["tags"]), grants=self._grants(name, arn))

    def _grants(self, name: str, key_arn: str) -> tuple[GrantInfo, ...]:
        """The key's declared grants, as the gate reads moto's ("Grants in AWS KMS")."""
        declared = (self.properties(KmsGrant(), "keys", name) or {"grants": {}})["grants"]
        return tuple(GrantInfo(label, label, grant["grantee"], tuple(grant["operations"]), key_arn,
                               (grant["constraints"] or {}).get("encryption_context_equals"),
                               (grant["constraints"] or {}).get("encryption_context_subset"),
                               grant.get("retiring_principal"))
                     for label, grant in declared.items())

    def table(self, name_or_arn: str | None, region: str, account: str) -> TableInfo | None:
        return self._once(("table", name_or_arn), lambda: self._table(name_or_arn))  # type: ignore[no-any-return]

    def _table(self, name_or_arn: str | None) -> TableInfo | None:
        name = None if name_or_arn is None else self._tables_by_name_or_arn().get(name_or_arn)
        if name is None:
            return None
        table = self.desired.tables[name]
        properties = self.properties(DynamoDBTable(), "tables", name)
        if properties is None:
            return None
        scoped = self.ctx.for_entity("tables", name)
        policy, encryption = properties["policy"], properties["encryption"]
        return TableInfo(self.ctx.physical(name), self.ctx.arn(f"table:{name}"), scoped.account, self.ctx.region,
                         table.partition_key.name, table.sort_key.name if table.sort_key else None,
                         encryption["key"] if encryption["type"] == "customer-managed" else None,
                         None if policy is None else json.dumps(policy), dict(properties["tags"]))

    def _tables_by_name_or_arn(self) -> dict[str, str]:
        """Each declared table's ARN and physical name -> its scenario name, made once per world: a
        walk of every table per lookup made an import quadratic in its tables (issue 21). The first
        table in declaration order that answers to a string keeps it, as that walk found it."""
        def index() -> dict[str, str]:
            found: dict[str, str] = {}
            for name, table in self.desired.tables.items():
                if table.create_only:  # not there until its CreateTable expectation's principal makes it
                    continue
                found.setdefault(self.ctx.arn(f"table:{name}"), name)
                found.setdefault(self.ctx.physical(name), name)
            return found
        return self._once(("tables by name or ARN", None), index)  # type: ignore[no-any-return]

    # buckets and objects -------------------------------------------------------------------
    def bucket(self, name: str | None) -> BucketInfo | None:
        """A declared bucket by its physical name, as the gate reads moto's (authz/world.py)."""
        return self._once(("bucket", name), lambda: self._bucket(name))  # type: ignore[no-any-return]

    def _bucket(self, name: str | None) -> BucketInfo | None:
        found = self._bucket_name(name)
        if found is None:
            return None
        scoped = self.ctx.for_entity("buckets", found)
        properties = self.properties(S3Bucket(), "buckets", found)
        if properties is None:
            return None
        algorithm, key_id = _sse(properties["encryption"])
        policy = properties["policy"]
        block = properties.get("public_access_block") or {}
        return BucketInfo(self.ctx.bucket_name(found), self.ctx.arn(f"bucket:{found}"), scoped.account, self.ctx.region,
                          None if policy is None else json.dumps(policy), algorithm, key_id, properties["bucket_key"],
                          block_public_policy=bool(block.get("BlockPublicPolicy")),
                          restrict_public_buckets=bool(block.get("RestrictPublicBuckets")),
                          object_ownership=properties.get("object_ownership"))

    def s3_object(self, bucket: str | None, key: str | None) -> ObjectInfo | None:
        """A seeded object, under its bucket's declared encryption (s3_objects.py re-puts seeds when it changes)."""
        found = self._bucket_name(bucket)
        if found is None or not key or seeded_body(self.desired, found, key) is None:
            return None
        info = self.bucket(bucket)
        assert info is not None
        return ObjectInfo(info.name, key, f"{info.arn}/{key}", info.sse_algorithm, info.kms_key_id, info.bucket_key_enabled)

    def membership(self, account: str | None) -> Membership | None:
        """The account's place in the scenario's organization (prove/organization.py), its
        documents resolved as apply resolves them and held as JSON text, as moto's world holds
        them (the gate's memo hashes documents); None outside it or without one."""
        return self._once(("membership", account), lambda: self._membership(account))  # type: ignore[no-any-return]

    def _membership(self, account: str | None) -> Membership | None:
        if self.desired.organization is None or account is None:
            return None
        names = {self.ctx.account_named(name): name for name in ("home", *self.desired.accounts)}
        if account not in names:
            return None
        ids = self.ctx.organization_ids or organization_ids(self.ctx.scenario, self.desired)
        return organization_membership(self.desired, names[account], ids, account,
                                       lambda document: json.dumps(self.ctx.resolve_policy(document)))  # type: ignore[arg-type,return-value]

    def account_public_access_block(self, account: str) -> PublicAccessBlockInfo | None:
        """The declared account-level Block Public Access of the account with this id, if any."""
        return self._once(("account block", account), lambda: self._account_block(account))  # type: ignore[no-any-return]

    def _account_block(self, account: str) -> PublicAccessBlockInfo | None:
        for name in self.desired.account_public_access_block:
            if self.ctx.account_named(name) != account:
                continue
            properties = self.properties(S3AccountPublicAccessBlock(), S3AccountPublicAccessBlock.section, name)
            if properties is None:
                return None
            return PublicAccessBlockInfo(
                block_public_acls=bool(properties.get("BlockPublicAcls")),
                ignore_public_acls=bool(properties.get("IgnorePublicAcls")),
                block_public_policy=bool(properties.get("BlockPublicPolicy")),
                restrict_public_buckets=bool(properties.get("RestrictPublicBuckets")))
        return None

    def _bucket_name(self, physical: str | None) -> str | None:
        """The scenario name of the declared bucket with this physical name (the first declared, if
        two share it), from an index made once per world, as _tables_by_name_or_arn."""
        def index() -> dict[str, str]:
            found: dict[str, str] = {}
            for name in self.desired.buckets:
                found.setdefault(self.ctx.bucket_name(name), name)
            return found
        return self._once(("buckets by physical name", None), index).get(physical)  # type: ignore[no-any-return]


def _key_state(properties: dict[str, Any]) -> str:
    """The KeyState of a key's properties (KMS Developer Guide, "Key states of AWS KMS keys"), as
    model.resources.Key.state names the declared one."""
    if properties["pending_deletion"]:
        return "PendingDeletion"
    return "Enabled" if properties["enabled"] else "Disabled"


def _sse(encryption: dict[str, str | None]) -> tuple[str, str | None]:
    """(SSEAlgorithm, KMSMasterKeyID) of a bucket's declared default encryption."""
    if encryption["type"] == "aws-owned":
        return "AES256", None
    return "aws:kms", encryption["key"]

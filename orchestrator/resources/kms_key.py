"""KMS customer managed keys: description, key policy, aliases, enabled state, rotation, tags,
deletion as a state.

AWS KMS API Reference: CreateKey, PutKeyPolicy, CreateAlias/DeleteAlias, EnableKey/DisableKey,
EnableKeyRotation/DisableKeyRotation, TagResource/UntagResource, ScheduleKeyDeletion,
CancelKeyDeletion. Keys have no name: a key is found through its ownership alias
(`RunContext.ownership_alias`, `alias/orchestrate/SCENARIO/RUN/NAME`): DescribeKey by the alias, then
its tags, which must be ours (an alias moved out of band to another key finds nothing). Only when
the alias finds nothing is the account scanned (ListKeys and every key's tags), and not even then
when preflight has seen nothing of this scenario and run in the account (`FRESH_WORLD`): a first
apply costs the same in an account of 2,000 keys as in an empty one. A key whose creation began
and whose alias is not known to name it (a run killed between CreateKey and CreateAlias) is in
the local journal (key_journal.py), and the scan looks for it even then. The ownership alias is
orchestrate's own, like the ownership tags: plan and drift do not show it, apply writes it again
(`claim`) on a key found without it, and takes it over from a key that is not ours, as Terraform
puts back a managed alias that was moved.

A key pending deletion counts as gone (destroy scheduled it), unless a state scheduled it
(`pending_deletion: true`): then it is still the scenario's key, and a later state may cancel the
deletion. Such a key carries the tag `orchestrate:pending-deletion`, written just before
ScheduleKeyDeletion and removed just after CancelKeyDeletion (KMS Developer Guide, "Key states
of AWS KMS keys": TagResource and UntagResource fail on a key pending deletion, so the mark
cannot be written later). A live key always wins over a marked one.
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator.model.scenario import DesiredState
from orchestrator.model.normalise import normalise_policy, policy_json
from orchestrator.resources.base import Observed, error_code, retag, tag_dict, tag_list, user_tags
from orchestrator.resources import key_journal
from orchestrator.resources.context import FRESH_WORLD, TAG_NAME, RunContext
from orchestrator.resources.lockout import guard_policy
from orchestrator.resources.propagation import until_propagated

GONE_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})
#: Marks a key that a state (not destroy) scheduled for deletion; see the module docstring.
TAG_PENDING = "orchestrate:pending-deletion"
#: ctx.cache entries: name -> key id of the keys found or made; names known to have no key; the
#: scan's having run; name -> the key id the ownership alias is known to name.
FOUND, ABSENT, SCANNED, ALIASED = "kms_keys", "kms_absent", "kms_scanned", "kms_aliased"


def scheduled_by_state(tags: dict[str, str], metadata: dict[str, Any]) -> bool:
    """A key pending deletion because a state said `pending_deletion: true`."""
    return metadata["KeyState"] == "PendingDeletion" and TAG_PENDING in tags


class KmsKey:
    kind: ClassVar[str] = "kms_key"
    section: ClassVar[str] = "keys"
    permissions: ClassVar[tuple[str, ...]] = (
        "kms:CreateKey", "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ListKeys",
        "kms:ListAliases", "kms:CreateAlias", "kms:DeleteAlias", "kms:EnableKey", "kms:DisableKey",
        "kms:GetKeyRotationStatus", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
        "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
        "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    )
    replace_on: ClassVar[frozenset[str]] = frozenset({"spec", "usage"})
    write_only: ClassVar[frozenset[str]] = frozenset({"deletion_window_days", "lockout"})
    #: Scenario references to this kind (`key:NAME`) resolve to ARNs known only once it exists.
    reference: ClassVar[str | None] = "key"

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.keys)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        key = desired.keys[name]
        policy = ctx.resolve_policy(key.policy.model_dump(mode="json", by_alias=True, exclude_none=True))
        return {
            "description": key.description,
            "spec": key.spec,
            "usage": key.usage,
            # A key pending deletion is not enabled; `enabled` applies once deletion is cancelled.
            "enabled": key.usable,
            "pending_deletion": key.pending_deletion,
            "rotation": key.rotation,
            "tags": dict(key.tags),
            "aliases": sorted(self.alias_name(ctx, alias) for alias in key.aliases),
            "policy": normalise_policy(guard_policy(ctx, name, policy, key.lockout)),
            "deletion_window_days": key.deletion_window_days,
            "lockout": key.lockout,
        }

    @staticmethod
    def alias_name(ctx: RunContext, alias: str) -> str:
        return f"alias/{ctx.physical(alias.removeprefix('alias/'))}"

    def conflicts(self, ctx: RunContext, desired: DesiredState, name: str) -> list[str]:
        """Preflight: each alias of the key that already names a key this scenario does not own.

        Alias names are unique per account and Region (KMS Developer Guide, "Aliases in AWS KMS"):
        CreateAlias would fail with AlreadyExistsException. --adopt takes the alias over
        (it is moved to the scenario's key)."""
        if ctx.adopt:
            return []
        targets = self._alias_targets(ctx)
        wanted = sorted(self.alias_name(ctx, alias) for alias in desired.keys[name].aliases)
        return [f"{alias} exists and points at key {targets[alias]}, which this scenario does not own"
                for alias in wanted if alias in targets and not self._ours(ctx, targets[alias])]

    def _ours(self, ctx: RunContext, key_id: str) -> bool:
        """A key of this scenario and run that counts as existing (not one destroy scheduled);
        read once per key for the rest of preflight."""
        verdicts = ctx.cache.setdefault("preflight", {}).setdefault("kms_ours", {})
        if key_id not in verdicts:
            kms = ctx.backend.client("kms")
            tags = self._tags(kms, key_id)
            verdicts[key_id] = (TAG_NAME in tags and ctx.owns(tags)
                                and self._counts(tags, kms.describe_key(KeyId=key_id)["KeyMetadata"]))
        return bool(verdicts[key_id])

    @staticmethod
    def _counts(tags: dict[str, str], metadata: dict[str, Any]) -> bool:
        return metadata["KeyState"] not in GONE_STATES or scheduled_by_state(tags, metadata)

    @staticmethod
    def _alias_targets(ctx: RunContext) -> dict[str, str]:
        """Every alias of the account and Region and the key id it names (one ListAliases scan,
        kept for the rest of preflight only: apply changes aliases)."""
        scratch = ctx.cache.setdefault("preflight", {})
        if "kms_aliases" not in scratch:
            kms = ctx.backend.client("kms")
            scratch["kms_aliases"] = {alias["AliasName"]: alias["TargetKeyId"]
                                      for page in kms.get_paginator("list_aliases").paginate()
                                      for alias in page["Aliases"] if alias.get("TargetKeyId")}
        return scratch["kms_aliases"]

    def find(self, ctx: RunContext, name: str) -> str | None:
        """The id of the key this scenario and run know as `name`: the live one, else one that a
        state scheduled for deletion; keys that destroy scheduled are gone. Through the ownership
        alias first; the scan of the account only when that finds nothing, unless preflight has
        found the account fresh (see the module docstring)."""
        found: dict[str, str] = ctx.cache.setdefault(FOUND, {})
        absent: set[str] = ctx.cache.setdefault(ABSENT, set())
        if name in found or name in absent or SCANNED in ctx.cache:
            return found.get(name)
        key_id = self._through_alias(ctx, name)
        if key_id is None and (not (ctx.home_context or ctx).cache.get(FRESH_WORLD) or name in key_journal.pending(ctx)):
            self._scan(ctx)
            if name not in found:  # a run killed before CreateKey answered: no key, nothing to find
                key_journal.done(ctx, name)
            return found.get(name)
        if key_id is None:
            absent.add(name)
        else:
            found[name] = key_id
        return key_id

    def _through_alias(self, ctx: RunContext, name: str) -> str | None:
        """DescribeKey by the ownership alias; the key it names if it is ours, named `name`, and
        counts (the first read of this run uses what this read)."""
        kms = ctx.backend.client("kms")
        try:
            metadata = kms.describe_key(KeyId=ctx.ownership_alias(name))["KeyMetadata"]
        except Exception as error:
            if error_code(error) in ("NotFoundException", "AccessDeniedException"):
                return None
            raise
        tags = self._tags(kms, metadata["KeyId"])
        if tags.get(TAG_NAME) != name or not ctx.owns(tags) or not self._counts(tags, metadata):
            return None
        ctx.cache[("kms_key", name)] = (tags, metadata)
        ctx.cache.setdefault(ALIASED, {})[name] = metadata["KeyId"]
        return str(metadata["KeyId"])

    def _scan(self, ctx: RunContext) -> None:
        """One scan of the account's keys per run: ListKeys, the tags of each, the state of ours."""
        kms = ctx.backend.client("kms")
        live: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {}
        scheduled: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {}
        for page in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 1000}):
            for entry in page["Keys"]:
                tags = self._tags(kms, entry["KeyId"])
                if TAG_NAME not in tags or not ctx.owns(tags):
                    continue
                metadata = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                if metadata["KeyState"] not in GONE_STATES:
                    live[tags[TAG_NAME]] = (entry["KeyId"], tags, metadata)
                elif scheduled_by_state(tags, metadata):
                    scheduled[tags[TAG_NAME]] = (entry["KeyId"], tags, metadata)
        found = {**scheduled, **live}  # a live key wins, whatever ListKeys' order
        # the first read of this run uses what the scan just read
        ctx.cache.update({("kms_key", name): (tags, metadata) for name, (_, tags, metadata) in found.items()})
        ctx.cache.setdefault(FOUND, {}).update({name: key_id for name, (key_id, _, _) in found.items()})
        ctx.cache[SCANNED] = True

    def _tags_and_metadata(self, ctx: RunContext, name: str, key_id: str) -> tuple[dict[str, str], dict[str, Any]]:
        scanned = ctx.cache.pop(("kms_key", name), None)
        if scanned is not None:
            return scanned
        kms = ctx.backend.client("kms")
        return self._tags(kms, key_id), kms.describe_key(KeyId=key_id)["KeyMetadata"]

    @staticmethod
    def _tags(kms: Any, key_id: str) -> dict[str, str]:
        try:
            return tag_dict(kms.list_resource_tags(KeyId=key_id).get("Tags"), "TagKey", "TagValue")
        except Exception as error:  # AWS managed keys and foreign keys may refuse
            if error_code(error) in ("AccessDeniedException", "NotFoundException"):
                return {}
            raise

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        key_id = self.find(ctx, name)
        if key_id is None:
            return None
        kms = ctx.backend.client("kms")
        tags, metadata = self._tags_and_metadata(ctx, name, key_id)
        if metadata["KeyState"] in GONE_STATES and not scheduled_by_state(tags, metadata):
            return None
        ctx.known[f"key:{name}"] = metadata["Arn"]
        properties = {
            "description": metadata.get("Description", ""),
            "spec": metadata.get("KeySpec", "SYMMETRIC_DEFAULT"),
            "usage": metadata.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "enabled": metadata["KeyState"] == "Enabled",
            "pending_deletion": metadata["KeyState"] == "PendingDeletion",
            "rotation": self._rotation(kms, key_id, metadata),
            "tags": user_tags(tags),
            "aliases": self._aliases(kms, key_id),
            "policy": normalise_policy(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]),
        }
        own = ctx.ownership_alias(name)
        marked = own in properties["aliases"]
        if marked:  # orchestrate's own, as the ownership tags: not the scenario's to plan or drift
            properties["aliases"].remove(own)
            ctx.cache.setdefault(ALIASED, {})[name] = key_id
        else:
            ctx.cache.setdefault(ALIASED, {}).pop(name, None)
        # a key found without its ownership alias (by the scan) has it written again by apply
        return Observed(properties, owned=True, physical_id=metadata["Arn"],
                        adopted=not marked and metadata["KeyState"] not in GONE_STATES)

    def claim(self, ctx: RunContext, name: str) -> None:
        """Apply's repair of the ownership mark on a key found without it (`Observed.adopted`):
        the ownership alias, taken over if it names another key (the scan found ours)."""
        key_id = ctx.cache.get(FOUND, {}).get(name)
        if key_id is not None:
            self._mark(ctx, name, key_id)

    def _mark(self, ctx: RunContext, name: str, key_id: str) -> None:
        """CreateAlias of the ownership alias; one that names another key (moved out of band, or
        left on a key that destroy or a replacement scheduled) is moved to this one: the alias
        is this scenario's by its name, the key it named is not adopted.

        A key policy sent as written (`lockout: allow`) may deny orchestrate kms:CreateAlias: the
        key then goes without the alias, and is found by the scan."""
        kms = ctx.backend.client("kms")
        alias = ctx.ownership_alias(name)
        try:
            try:
                kms.create_alias(AliasName=alias, TargetKeyId=key_id)
            except Exception as error:
                if error_code(error) != "AlreadyExistsException":
                    raise
                kms.delete_alias(AliasName=alias)
                kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        except Exception as error:
            if error_code(error) != "AccessDeniedException":
                raise
            return  # still in the journal: the next run scans for it
        ctx.cache.setdefault(ALIASED, {})[name] = key_id
        key_journal.done(ctx, name)

    @staticmethod
    def _rotation(kms: Any, key_id: str, metadata: dict[str, Any]) -> bool:
        if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            return False
        return bool(kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"])

    @staticmethod
    def _aliases(kms: Any, key_id: str) -> list[str]:
        names = []
        for page in kms.get_paginator("list_aliases").paginate(KeyId=key_id):
            names += [alias["AliasName"] for alias in page["Aliases"]]
        return sorted(names)

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        kms = ctx.backend.client("kms")
        tags = {**after["tags"], **ctx.ownership_tags(name)}
        key_journal.begin(ctx, name)  # until the alias names it, the scan looks for it
        metadata = until_propagated(ctx, lambda: kms.create_key(
            Policy=policy_json(after["policy"]),
            Description=after["description"],
            KeySpec=after["spec"],
            KeyUsage=after["usage"],
            Tags=tag_list(tags, "TagKey", "TagValue"),
            BypassPolicyLockoutSafetyCheck=after["lockout"] == "allow",
        ))["KeyMetadata"]
        ctx.known[f"key:{name}"] = metadata["Arn"]
        ctx.cache.setdefault(FOUND, {})[name] = metadata["KeyId"]
        ctx.cache.setdefault(ABSENT, set()).discard(name)
        # at once: a run killed before this call leaves a key that only the scan finds (key_journal)
        self._mark(ctx, name, metadata["KeyId"])
        before = {"aliases": [], "rotation": False, "enabled": True}
        self._converge(ctx, metadata["KeyId"], before, self._until_scheduled(before, after))
        if after["pending_deletion"]:
            self._schedule_deletion(ctx, metadata["KeyId"], after["deletion_window_days"])

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Cancelling comes first (nothing else can change on a key pending deletion but its
        policy and aliases' removal) and scheduling last; a cancelled key is Disabled."""
        kms = ctx.backend.client("kms")
        key_id = ctx.known[f"key:{name}"].rpartition("/")[2]
        if before.get("pending_deletion") and not after["pending_deletion"]:
            self._cancel_deletion(ctx, key_id)
            before = {**before, "pending_deletion": False, "enabled": False}
        if before["policy"] != after["policy"]:
            until_propagated(ctx, lambda: kms.put_key_policy(
                KeyId=key_id, PolicyName="default", Policy=policy_json(after["policy"]),
                BypassPolicyLockoutSafetyCheck=after["lockout"] == "allow",
            ))
        if before["description"] != after["description"]:
            kms.update_key_description(KeyId=key_id, Description=after["description"])
        retag(before["tags"], after["tags"], lambda keys: kms.untag_resource(KeyId=key_id, TagKeys=keys),
              lambda tags: kms.tag_resource(KeyId=key_id, Tags=tag_list(tags, "TagKey", "TagValue")))
        self._converge(ctx, key_id, before, self._until_scheduled(before, after))
        if after["pending_deletion"] and not before.get("pending_deletion"):
            self._schedule_deletion(ctx, key_id, after["deletion_window_days"])

    @staticmethod
    def _until_scheduled(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """What to converge to before ScheduleKeyDeletion: a key about to be scheduled keeps its
        enabled state (scheduling takes it out of use; disabling first would be one call more)."""
        if after["pending_deletion"] and not before.get("pending_deletion"):
            return {**after, "enabled": before["enabled"]}
        return after

    @staticmethod
    def _schedule_deletion(ctx: RunContext, key_id: str, window: int) -> None:
        """The mark, then ScheduleKeyDeletion: the key stays the scenario's while pending. A
        failure in between leaves a live key, whose next plan schedules it again."""
        kms = ctx.backend.client("kms")
        kms.tag_resource(KeyId=key_id, Tags=[{"TagKey": TAG_PENDING, "TagValue": "true"}])
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=window)

    @staticmethod
    def _cancel_deletion(ctx: RunContext, key_id: str) -> None:
        """CancelKeyDeletion (the key is then Disabled), then the mark goes: a failure in between
        leaves a live key with a stale mark, which only matters to destroy, which removes it."""
        kms = ctx.backend.client("kms")
        kms.cancel_key_deletion(KeyId=key_id)
        kms.untag_resource(KeyId=key_id, TagKeys=[TAG_PENDING])

    def _converge(self, ctx: RunContext, key_id: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        """Enabled state, rotation and aliases, each changed only when it differs.

        KMS refuses rotation changes on a disabled key (DisabledException), so a key that is and
        stays disabled is enabled for the change and disabled again.
        """
        kms = ctx.backend.client("kms")
        rotate = after["rotation"] != before["rotation"]
        enabled_now = before["enabled"]
        if (after["enabled"] or rotate) and not enabled_now:
            kms.enable_key(KeyId=key_id)
            enabled_now = True
        if rotate:
            (kms.enable_key_rotation if after["rotation"] else kms.disable_key_rotation)(KeyId=key_id)
        for alias in sorted(set(before["aliases"]) - set(after["aliases"])):
            kms.delete_alias(AliasName=alias)
        for alias in sorted(set(after["aliases"]) - set(before["aliases"])):
            self._create_alias(ctx, alias, key_id)
        if not after["enabled"] and enabled_now:
            kms.disable_key(KeyId=key_id)

    @staticmethod
    def _create_alias(ctx: RunContext, alias: str, key_id: str) -> None:
        """CreateAlias; under --adopt an alias that names another key is taken over: deleted from
        that key and created on ours. (UpdateAlias would do it in one call, but needs
        kms:UpdateAlias in both keys' policies; the lockout guard grants orchestrate the key side
        of CreateAlias and DeleteAlias only.)"""
        kms = ctx.backend.client("kms")
        try:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        except Exception as error:
            if not ctx.adopt or error_code(error) != "AlreadyExistsException":
                raise
            kms.delete_alias(AliasName=alias)
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        """Aliases go first; the key is scheduled for deletion with the scenario's window (default 7 days)
        without the mark, so that it counts as gone. A key that a state scheduled is cancelled,
        unmarked and scheduled again (its waiting period starts again): the mark can only be
        removed from a key that is not pending deletion."""
        kms = ctx.backend.client("kms")
        key_id = ctx.known[f"key:{name}"].rpartition("/")[2]
        for alias in before["aliases"]:
            kms.delete_alias(AliasName=alias)
        if ctx.cache.get(ALIASED, {}).pop(name, None) == key_id:  # last, as it is what finds the key
            kms.delete_alias(AliasName=ctx.ownership_alias(name))
        if before.get("pending_deletion"):
            self._cancel_deletion(ctx, key_id)
        elif TAG_PENDING in self._tags(kms, key_id):  # a stale mark, left by a failed cancel
            kms.untag_resource(KeyId=key_id, TagKeys=[TAG_PENDING])
        window = (desired or {}).get("deletion_window_days", 7)
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=window)
        key_journal.done(ctx, name)
        ctx.known.pop(f"key:{name}", None)
        ctx.cache.get(FOUND, {}).pop(name, None)
        ctx.cache.setdefault(ABSENT, set()).add(name)

"""The account-level S3 Block Public Access: one setting per account, for every bucket in it.

Amazon S3 API Reference (S3 Control): PutPublicAccessBlock / GetPublicAccessBlock /
DeletePublicAccessBlock with AccountId; IAM actions s3:PutAccountPublicAccessBlock (put and
delete) and s3:GetAccountPublicAccessBlock (Service Authorization Reference, "Actions, resources,
and condition keys for Amazon S3"). S3 User Guide, "Blocking public access to your Amazon S3
storage": "Amazon S3 applies the most restrictive combination of the bucket-level and
account-level settings" (the gate: authz/services/s3.py, effective_block).

The scenario names the setting by account (`account_public_access_block: {home: {...}, NAME:
{...}}`). An account has one setting and it cannot be tagged, so there is no ownership mark: the
scenario that declares it manages it (an existing setting is updated to the declared one, and
destroy deletes it). Registered before the buckets: a public bucket policy the setting refuses is
refused when the bucket is reconciled, with S3's own AccessDenied.
"""

from __future__ import annotations

from typing import Any, ClassVar

from orchestrator import arns
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.base import Observed, error_code
from orchestrator.resources.context import ACCOUNT_BLOCK_SECTION, RunContext
from orchestrator.resources.s3_bucket import BLOCK_SETTINGS, NO_PUBLIC_ACCESS_BLOCK, _block_settings, _truthy


class S3AccountPublicAccessBlock:
    kind: ClassVar[str] = "s3_account_public_access_block"
    section: ClassVar[str] = ACCOUNT_BLOCK_SECTION
    permissions: ClassVar[tuple[str, ...]] = ("s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock")
    replace_on: ClassVar[frozenset[str]] = frozenset()
    write_only: ClassVar[frozenset[str]] = frozenset()

    def names(self, desired: DesiredState) -> list[str]:
        return list(desired.account_public_access_block)

    def desired(self, ctx: RunContext, desired: DesiredState, name: str) -> dict[str, Any]:
        return dict(_block_settings(desired.account_public_access_block[name]) or {})

    def read(self, ctx: RunContext, name: str, desired: dict[str, Any] | None = None) -> Observed | None:
        found = read_account_block(ctx)
        if found is None:
            return None
        return Observed(found, owned=True, physical_id=arns.root_arn(ctx.account))

    def create(self, ctx: RunContext, name: str, after: dict[str, Any]) -> None:
        ctx.backend.client("s3control").put_public_access_block(
            AccountId=ctx.account, PublicAccessBlockConfiguration=dict(after))

    def update(self, ctx: RunContext, name: str, before: dict[str, Any], after: dict[str, Any]) -> None:
        if before != after:
            self.create(ctx, name, after)

    def delete(self, ctx: RunContext, name: str, before: dict[str, Any], desired: dict[str, Any] | None) -> None:
        ctx.backend.client("s3control").delete_public_access_block(AccountId=ctx.account)


def read_account_block(ctx: RunContext) -> dict[str, bool] | None:
    """GetPublicAccessBlock of the context's account: the four settings, or None without one."""
    try:
        found = ctx.backend.client("s3control").get_public_access_block(
            AccountId=ctx.account)["PublicAccessBlockConfiguration"]
    except Exception as error:
        if error_code(error) != NO_PUBLIC_ACCESS_BLOCK:
            raise
        return None
    return {s3_name: _truthy(found.get(s3_name, False)) for s3_name in BLOCK_SETTINGS.values()}

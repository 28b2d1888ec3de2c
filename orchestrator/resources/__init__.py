"""The registry of resource kinds, in dependency order (destroy walks it backwards).

The organization comes first: its SCPs bind orchestrate's own calls in member accounts as they
would on AWS, and the ids it observes resolve the `organization`/`ou:` references of every later policy.

Users, then roles (whose trust policies name users), exist before key policies name them (AWS rejects a key policy naming an unknown
principal); keys exist before their grants (which name users) and the tables they encrypt and the policies that name them; users',
groups' and roles' own policies come last, once everything they may name exists. An account's
Block Public Access comes before the buckets it governs (a public bucket policy it blocks is
refused as the bucket is reconciled, as S3 refuses it). Buckets come
after keys (their encryption names one) and before their seed objects, which are written under
the bucket's encryption and policy as they are then.
"""

from __future__ import annotations

from orchestrator.resources.base import Observed, Reconciler
from orchestrator.resources.dynamodb_table import DynamoDBTable
from orchestrator.resources.iam_group import IamGroup, IamGroupAccess
from orchestrator.resources.iam_policy import IamPolicy
from orchestrator.resources.iam_role import IamRole, IamRoleAccess
from orchestrator.resources.iam_user import IamUser, IamUserAccess
from orchestrator.resources.kms_grant import KmsGrant
from orchestrator.resources.kms_key import KmsKey
from orchestrator.resources.organization import OrganizationReconciler
from orchestrator.resources.s3_account_block import S3AccountPublicAccessBlock
from orchestrator.resources.s3_bucket import S3Bucket
from orchestrator.resources.s3_objects import S3Objects

REGISTRY: tuple[Reconciler, ...] = (
    OrganizationReconciler(),
    IamGroup(),
    IamUser(),
    IamRole(),
    KmsKey(),
    KmsGrant(),
    DynamoDBTable(),
    S3AccountPublicAccessBlock(),
    S3Bucket(),
    S3Objects(),
    IamPolicy(),
    IamGroupAccess(),
    IamUserAccess(),
    IamRoleAccess(),
)

__all__ = ["REGISTRY", "Observed", "Reconciler"]

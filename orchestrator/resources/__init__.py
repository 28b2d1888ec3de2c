"""The registry of resource kinds, in dependency order (destroy walks it backwards).

Users exist before key policies name them (AWS rejects a key policy naming an unknown
principal); keys exist before their grants (which name users) and the tables they encrypt and the policies that name them; users'
and groups' own policies come last, once everything they may name exists.
"""

from __future__ import annotations

from orchestrator.resources.base import Observed, Reconciler
from orchestrator.resources.dynamodb_table import DynamoDBTable
from orchestrator.resources.iam_group import IamGroup, IamGroupAccess
from orchestrator.resources.iam_policy import IamPolicy
from orchestrator.resources.iam_user import IamUser, IamUserAccess
from orchestrator.resources.kms_grant import KmsGrant
from orchestrator.resources.kms_key import KmsKey

REGISTRY: tuple[Reconciler, ...] = (
    IamGroup(),
    IamUser(),
    KmsKey(),
    KmsGrant(),
    DynamoDBTable(),
    IamPolicy(),
    IamGroupAccess(),
    IamUserAccess(),
)

__all__ = ["REGISTRY", "Observed", "Reconciler"]

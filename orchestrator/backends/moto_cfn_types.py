"""CloudFormation resource types moto 5.2 skips, as moto's CloudFormation models: a class that
subclasses CloudFormationModel is a type moto's parser knows (moto_cloudformation.install clears
its caches). Created and deleted with the stack; an update of any is not modelled.

- AWS::IAM::Group: GroupName, Path, ManagedPolicyArns, Policies; Ref is the name, GetAtt Arn.
- AWS::S3::BucketPolicy: Bucket, PolicyDocument.
- AWS::Organizations::OrganizationalUnit (Name, ParentId, Tags; Ref is its id) and
  AWS::Organizations::Policy (Name, Description, Type, Content, TargetIds, Tags; Ref is its id), in
  the organization the stack's account manages (CloudFormation Template Reference, each type's page:
  "This operation can be called only from the organization's management account"); moto answers
  AWSOrganizationsNotInUseException where there is none, as AWS would.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.common_models import CloudFormationModel


def define() -> tuple[type[CloudFormationModel], ...]:
    return StackGroup, StackBucketPolicy, StackOrganizationalUnit, StackOrganizationsPolicy


def _organizations(account: str) -> Any:
    from moto.organizations.models import organizations_backends

    return organizations_backends[account]["aws"]


def _iam(account: str, region: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account][get_partition(region)]


def _s3(account: str, region: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account][get_partition(region)]


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


class _StackResource:
    """What both types share: an update keeps the resource (not modelled), and the stack's
    deletion deletes it by its physical id. A mixin: moto's parser finds the types among
    CloudFormationModel's direct subclasses."""

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Any:
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.physical_resource_id, {}, account_id, region_name)  # type: ignore[attr-defined]

    def is_created(self) -> bool:
        return True


class StackGroup(_StackResource, CloudFormationModel):
    def __init__(self, group: Any) -> None:
        self.group = group

    @property
    def physical_resource_id(self) -> str:
        return str(self.group.name)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "GroupName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::Group"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return str(self.group.arn)
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **_: Any,
    ) -> StackGroup:
        from orchestrator.backends.moto_extensions import ensure_managed_policy

        properties = cloudformation_json.get("Properties", {})
        backend = _iam(account_id, region_name)
        group = backend.create_group(resource_name, properties.get("Path", "/"))
        for arn in properties.get("ManagedPolicyArns", []):
            ensure_managed_policy(account_id, arn)
            backend.attach_group_policy(arn, group.name)
        for policy in properties.get("Policies", []):
            backend.put_group_policy(group.name, policy["PolicyName"], _text(policy["PolicyDocument"]))
        return cls(group)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        backend = _iam(account_id, region_name)
        group = backend.get_group(resource_name)
        for user in list(group.users):
            backend.remove_user_from_group(resource_name, user.name)
        for arn in list(group.managed_policies):
            backend.detach_group_policy(arn, resource_name)
        for name in list(group.policies):
            backend.delete_group_policy(resource_name, name)
        backend.delete_group(resource_name)



class StackBucketPolicy(_StackResource, CloudFormationModel):
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **_: Any,
    ) -> StackBucketPolicy:
        properties = cloudformation_json["Properties"]
        bucket = properties["Bucket"]
        _s3(account_id, region_name).put_bucket_policy(bucket, _text(properties["PolicyDocument"]).encode())
        return cls(bucket)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        from moto.s3.exceptions import MissingBucket

        try:
            _s3(account_id, region_name).delete_bucket_policy(resource_name)
        except MissingBucket:
            pass  # deleted first: its policy went with it


class StackOrganizationalUnit(_StackResource, CloudFormationModel):
    def __init__(self, unit_id: str) -> None:
        self.unit_id = unit_id

    @property
    def physical_resource_id(self) -> str:
        return self.unit_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Organizations::OrganizationalUnit"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.unit_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **_: Any,
    ) -> StackOrganizationalUnit:
        properties = cloudformation_json["Properties"]
        made = _organizations(account_id).create_organizational_unit(
            Name=properties["Name"], ParentId=properties["ParentId"], Tags=properties.get("Tags", []))
        return cls(made["OrganizationalUnit"]["Id"])

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        _organizations(account_id).delete_organizational_unit(OrganizationalUnitId=resource_name)


class StackOrganizationsPolicy(_StackResource, CloudFormationModel):
    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id

    @property
    def physical_resource_id(self) -> str:
        return self.policy_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Organizations::Policy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.policy_id

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **_: Any,
    ) -> StackOrganizationsPolicy:
        properties = cloudformation_json["Properties"]
        backend = _organizations(account_id)
        made = backend.create_policy(Name=properties["Name"], Description=properties.get("Description", ""),
                                     Type=properties["Type"], Content=_text(properties["Content"]),
                                     Tags=properties.get("Tags", []))
        policy_id = made["Policy"]["PolicySummary"]["Id"]
        for target in properties.get("TargetIds", []):
            backend.attach_policy(PolicyId=policy_id, TargetId=target)
        return cls(policy_id)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        backend = _organizations(account_id)
        for target in backend.list_targets_for_policy(PolicyId=resource_name)["Targets"]:
            backend.detach_policy(PolicyId=resource_name, TargetId=target["TargetId"])
        backend.delete_policy(PolicyId=resource_name)

"""Generated scenarios for the scale benchmark: N users, M tables, K expectations.

One customer managed key encrypts every table; every user has DynamoDB full access. In the first
state the key policy names only the admin (every user's read is denied); the second grants all
users kms:Decrypt (every read allowed). Expectations cycle over users and tables.
"""
from __future__ import annotations

from typing import Any


def scenario(users: int, tables: int, expectations: int) -> dict[str, Any]:
    names = [f"u{i:03d}" for i in range(users)]
    table_names = [f"t{j:03d}" for j in range(tables)]
    admin = {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": "user:admin"}, "Action": "kms:*", "Resource": "*"}
    grant = {"Effect": "Allow", "Principal": {"AWS": [f"user:{n}" for n in names]}, "Action": "kms:Decrypt", "Resource": "*"}
    per_state = expectations // 2
    def expect(index: int, outcome: str) -> dict[str, Any]:
        return {"as": names[index % users], "action": "dynamodb:GetItem", "resource": f"table:{table_names[index % tables]}",
                "key": {"id": "k1"}, "expect": outcome}
    return {
        "name": f"scale-{users}-{tables}-{expectations}",
        "users": {"admin": {"managed_policies": ["AdministratorAccess"]}, **{n: {"managed_policies": ["AmazonDynamoDBFullAccess"]} for n in names}},
        "keys": {"data": {"policy": {"Version": "2012-10-17", "Statement": [admin]}}},
        "tables": {t: {"partition_key": {"name": "id"}, "encryption": "key:data", "items": [{"id": "k1", "v": 1}]} for t in table_names},
        "states": [
            {"name": "denied", "expectations": [expect(i, "denied") for i in range(per_state)]},
            {"name": "allowed", "patch": {"keys": {"data": {"policy": {"Statement": {"Everyone": grant}}}}},
             "expectations": [expect(i, "allowed") for i in range(expectations - per_state)]},
        ],
    }

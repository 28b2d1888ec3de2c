"""Throughput of the authorization engine (decisions per second, in-process).

Run ``python -m bench.engine``.  Two workloads:

* ``typical`` — one identity policy plus a KMS key policy whose statement
  carries a ``kms:ViaService`` condition (the common data-layer request);
* ``worst`` — 50 identity statements with wildcards and conditions plus a key
  policy, where no statement short-cuts the scan.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from orchestrator.authz.decide import PolicyInputs, PolicySource, Principal, Request, service_engine

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
USER = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/tester", account=ACCOUNT, username="tester")

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "EnableIAM", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "AllowViaDynamo", "Effect": "Allow", "Principal": {"AWS": USER.arn},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": "dynamodb.us-east-1.amazonaws.com"}}},
    ],
}
IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ReadOrders", "Effect": "Allow",
                   "Action": ["dynamodb:GetItem", "dynamodb:Query"],
                   "Resource": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"}],
}


def _worst_identity() -> str:
    statements = []
    for i in range(50):
        statements.append({
            "Sid": f"S{i}", "Effect": "Allow" if i % 5 else "Deny",
            "Action": [f"dynamodb:*Item{i}", f"kms:Re*{i}", "s3:Get*"],
            "Resource": [f"arn:aws:dynamodb:*:{ACCOUNT}:table/t{i}-*", f"arn:aws:kms:*:{ACCOUNT}:key/*{i}"],
            "Condition": {"StringLike": {"aws:PrincipalTag/team": f"team-{i}*"},
                          "IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}},
        })
    statements.append({"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
                       "Condition": {"ForAllValues:StringLike": {"kms:EncryptionContextKeys": "aws:dynamodb:*"}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _typical() -> Callable[[], Any]:
    inputs = PolicyInputs(identity=[PolicySource("identity", "tester/inline/read-orders", IDENTITY)],
                          resource_policy=PolicySource("key", f"key-policy:{KEY_ARN}", KEY_POLICY))
    request = Request(USER, "kms:Decrypt", KEY_ARN,
                      {"kms:ViaService": ["dynamodb.us-east-1.amazonaws.com"],
                       "kms:EncryptionContext:aws:dynamodb:tableName": ["orders"]})
    engine = service_engine()  # one engine a run, as the gate holds one
    return lambda: engine.evaluate(request, inputs)


def _worst() -> Callable[[], Any]:
    inputs = PolicyInputs(identity=[PolicySource("identity", "tester/inline/big", _worst_identity())],
                          resource_policy=PolicySource("key", f"key-policy:{KEY_ARN}", json.dumps(KEY_POLICY)))
    principal = Principal(arn=USER.arn, account=ACCOUNT, tags={"team": "team-7x"})
    request = Request(principal, "kms:Decrypt", KEY_ARN,
                      {"aws:SourceIp": ["10.1.2.3"],
                       "kms:EncryptionContextKeys": ["aws:dynamodb:tableName", "aws:dynamodb:subscriberId"]})
    engine = service_engine()  # one engine a run, as the gate holds one
    return lambda: engine.evaluate(request, inputs)


def _rate(decide: Callable[[], Any], seconds: float) -> float:
    decide()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            decide()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure(seconds: float = 1.0) -> dict[str, float]:
    """Decisions per second for the typical and the worst-case workload."""
    return {"typical": _rate(_typical(), seconds), "worst": _rate(_worst(), seconds)}


def main() -> None:
    for name, rate in measure().items():
        print(f"{name}: {rate:,.0f} decisions/s")


if __name__ == "__main__":
    main()

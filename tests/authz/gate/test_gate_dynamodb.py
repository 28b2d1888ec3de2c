"""DynamoDB behind the gate: the table action, then the table's CMK as the caller.

AWS KMS Developer Guide, "How Amazon DynamoDB uses AWS KMS" — "Key policy for a
customer managed key" and "DynamoDB encryption context"; IAM User Guide,
"Troubleshoot access denied error messages"; table resource policies: DynamoDB
Developer Guide, "Using resource-based policies for DynamoDB" (see the section below).
"""
from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError
from gate_scenario import ACCOUNT, REGION, TABLE, TESTER_ARN, Scenario, key_policy, statement, user_session

KEY = {"pk": {"S": "order-1"}}
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
KMS_DENIED = re.compile(
    r"KMS key access denied error: com\.amazonaws\.services\.kms\.model\.AWSKMSException: "
    r"The ciphertext refers to a customer master key that does not exist, does not exist in this "
    r"region, or you are not allowed to access\. \(Service: AWSKMS; Status Code: 400; "
    r"Error Code: AccessDeniedException; Request ID: (?P<rid>[0-9a-f-]{36}); Proxy: null\)"
)


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response
    return error["Error"]["Code"], error["Error"]["Message"], error["ResponseMetadata"]["HTTPStatusCode"]


def test_tester_denied_getitem_without_kms_decrypt(scenario: Scenario) -> None:
    """DynamoDB's own wording when the caller may not use the table's key (aws/aws-cdk#10010)."""
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)
    code, message, status = _error(excinfo)
    assert (code, status) == ("AccessDeniedException", 400)
    match = KMS_DENIED.fullmatch(message)
    assert match is not None, message
    assert match["rid"] == excinfo.value.response["ResponseMetadata"]["RequestId"]
    verdict = scenario.handler.verdicts[-1]
    assert verdict.error is not None and verdict.error.layer == "key-policy"
    assert [s.action for s, _ in verdict.steps] == ["dynamodb:GetItem", "kms:Decrypt"]


def test_key_policy_grant_allows_tester(scenario: Scenario) -> None:
    """After the key policy names tester with kms:Decrypt, the read is allowed."""
    scenario.client("orchestrator", "kms").put_key_policy(
        KeyId=scenario.key_id, PolicyName="default",
        Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    item = scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]
    assert item["total"] == {"N": "42"}


def test_admin_named_in_key_policy_reads(scenario: Scenario) -> None:
    item = scenario.client("admin", "dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]
    assert item["pk"] == {"S": "order-1"}


def test_explicit_deny_in_inline_policy_beats_key_policy(scenario: Scenario) -> None:
    """IAM User Guide, "Policy evaluation logic": an explicit deny overrides any allow."""
    orchestrator = scenario.client("orchestrator", "kms")
    orchestrator.put_key_policy(KeyId=scenario.key_id, PolicyName="default",
                                Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    deny = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": scenario.key_arn}]}
    scenario.client("orchestrator", "iam").put_user_policy(
        UserName="tester", PolicyName="NoDecrypt", PolicyDocument=json.dumps(deny))
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)
    assert _error(excinfo)[0] == "AccessDeniedException"
    assert KMS_DENIED.fullmatch(_error(excinfo)[1])
    assert scenario.handler.verdicts[-1].error.layer == "explicit-deny"  # type: ignore[union-attr]


def test_table_action_denied_with_identity_wording(scenario: Scenario) -> None:
    """A user without DynamoDB permissions: IAM's identity-based wording, word for word."""
    iam = scenario.client("orchestrator", "iam")
    iam.detach_user_policy(UserName="tester", PolicyArn="arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess")
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)
    assert _error(excinfo) == (
        "AccessDeniedException",
        f"User: {TESTER_ARN} is not authorized to perform: dynamodb:GetItem on resource: {TABLE_ARN} "
        "because no identity-based policy allows the dynamodb:GetItem action",
        400,
    )


@pytest.mark.parametrize("state_change", ["disable_key", "schedule_key_deletion"])
def test_unusable_key_makes_table_unreadable_for_everyone(scenario: Scenario, state_change: str) -> None:
    """KMS "Key states": DynamoDB cannot decrypt the table key; key states apply to every caller."""
    kms = scenario.client("orchestrator", "kms")
    if state_change == "disable_key":
        kms.disable_key(KeyId=scenario.key_id)
        inner = f"DisabledException: {scenario.key_arn} is disabled."
    else:
        kms.schedule_key_deletion(KeyId=scenario.key_id, PendingWindowInDays=7)
        inner = f"KMSInvalidStateException: {scenario.key_arn} is pending deletion."
    for who in ("orchestrator", "admin"):
        with pytest.raises(ClientError) as excinfo:
            scenario.client(who, "dynamodb").get_item(TableName=TABLE, Key=KEY)
        code, message, status = _error(excinfo)
        assert (code, status) == ("AccessDeniedException", 400)
        assert message.startswith(f"KMS key access denied error: com.amazonaws.services.kms.model.{inner} ")


def test_via_service_condition_allows_only_through_dynamodb(scenario: Scenario) -> None:
    """kms:ViaService (AWS KMS "Condition keys"): allowed via DynamoDB, denied directly."""
    via = statement("TesterViaDynamoDB", TESTER_ARN, ["kms:Decrypt"],
                    {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}})
    kms = scenario.client("orchestrator", "kms")
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(via))
    assert scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]
    blob = kms.encrypt(KeyId=scenario.key_id, Plaintext=b"secret")["CiphertextBlob"]
    with pytest.raises(ClientError) as excinfo:
        scenario.client("tester", "kms").decrypt(CiphertextBlob=blob)
    assert _error(excinfo) == (
        "AccessDeniedException",
        f"User: {TESTER_ARN} is not authorized to perform: kms:Decrypt on the resource associated "
        "with this ciphertext because the resource does not exist in this Region, no resource-based "
        "policies allow access, or a resource-based policy explicitly denies access",
        400,
    )


def test_encryption_context_condition_on_table_name(scenario: Scenario) -> None:
    """DynamoDB's encryption context (aws:dynamodb:tableName) is visible to key-policy conditions."""
    other = statement("OtherTableOnly", TESTER_ARN, ["kms:Decrypt"],
                      {"StringEquals": {"kms:EncryptionContext:aws:dynamodb:tableName": "invoices",
                                        "kms:EncryptionContext:aws:dynamodb:subscriberId": ACCOUNT}})
    kms = scenario.client("orchestrator", "kms")
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(other))
    with pytest.raises(ClientError):
        scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)
    mine = json.loads(json.dumps(other).replace("invoices", TABLE))
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(mine))
    assert scenario.client("tester", "dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]


def test_denied_write_never_reaches_moto(scenario: Scenario) -> None:
    """The gate answers in before-call, so moto's before-send stubber never sees the request."""
    with pytest.raises(ClientError):
        scenario.client("tester", "dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": "sneaky"}})
    found = scenario.client("orchestrator", "dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": "sneaky"}})
    assert "Item" not in found


DATA_CALLS = {
    "query": {"TableName": TABLE, "KeyConditionExpression": "#p = :v",
              "ExpressionAttributeNames": {"#p": "pk"}, "ExpressionAttributeValues": {":v": {"S": "order-1"}}},
    "scan": {"TableName": TABLE},
    "batch_get_item": {"RequestItems": {TABLE: {"Keys": [KEY]}}},
    "transact_get_items": {"TransactItems": [{"Get": {"TableName": TABLE, "Key": KEY}}]},
    "update_item": {"TableName": TABLE, "Key": KEY, "UpdateExpression": "SET #t = :t",
                    "ExpressionAttributeNames": {"#t": "total"}, "ExpressionAttributeValues": {":t": {"N": "1"}}},
    "batch_write_item": {"RequestItems": {TABLE: [{"PutRequest": {"Item": {"pk": {"S": "order-9"}}}}]}},
}


@pytest.mark.parametrize("method", sorted(DATA_CALLS))
def test_every_data_call_needs_the_key(scenario: Scenario, method: str) -> None:
    """Reads and writes alike make DynamoDB decrypt the table key (aws/aws-cdk#10010: PutItem)."""
    tester = scenario.client("tester", "dynamodb")
    with pytest.raises(ClientError) as excinfo:
        getattr(tester, method)(**DATA_CALLS[method])
    assert KMS_DENIED.fullmatch(_error(excinfo)[1])
    scenario.client("orchestrator", "kms").put_key_policy(
        KeyId=scenario.key_id, PolicyName="default",
        Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    getattr(tester, method)(**DATA_CALLS[method])


def test_query_leading_keys_condition(scenario: Scenario) -> None:
    """dynamodb:LeadingKeys from the partition-key equality of KeyConditionExpression."""
    scenario.client("orchestrator", "kms").put_key_policy(
        KeyId=scenario.key_id, PolicyName="default",
        Policy=key_policy(statement("TesterDecrypt", TESTER_ARN, ["kms:Decrypt"])))
    only_mine = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Action": "dynamodb:Query", "Resource": TABLE_ARN,
        "Condition": {"ForAnyValue:StringNotEquals": {"dynamodb:LeadingKeys": ["order-1"]}}}]}
    scenario.client("orchestrator", "iam").put_user_policy(
        UserName="tester", PolicyName="OwnKeys", PolicyDocument=json.dumps(only_mine))
    tester = scenario.client("tester", "dynamodb")
    assert tester.query(**DATA_CALLS["query"])["Count"] == 1
    other = dict(DATA_CALLS["query"], ExpressionAttributeValues={":v": {"S": "order-2"}})
    with pytest.raises(ClientError) as excinfo:
        tester.query(**other)
    assert _error(excinfo)[1].endswith("with an explicit deny in an identity-based policy")


def test_create_table_with_cmk_needs_describe_key_and_create_grant(scenario: Scenario) -> None:
    """"Key policy for a customer managed key": DescribeKey and CreateGrant via DynamoDB."""
    tester = scenario.client("tester", "dynamodb")
    spec = {"TableName": "invoices", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": scenario.key_arn}}
    with pytest.raises(ClientError) as excinfo:
        tester.create_table(**spec)
    assert KMS_DENIED.fullmatch(_error(excinfo)[1])
    assert scenario.handler.verdicts[-1].steps[-1][0].action == "kms:DescribeKey"
    describe = statement("TesterDescribe", TESTER_ARN, ["kms:DescribeKey"])
    grant = statement("TesterGrant", TESTER_ARN, ["kms:CreateGrant"],
                      {"Bool": {"kms:GrantIsForAWSResource": "true"}})
    kms = scenario.client("orchestrator", "kms")
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(describe))
    with pytest.raises(ClientError):
        tester.create_table(**spec)
    assert scenario.handler.verdicts[-1].steps[-1][0].action == "kms:CreateGrant"
    kms.put_key_policy(KeyId=scenario.key_id, PolicyName="default", Policy=key_policy(describe, grant))
    assert tester.create_table(**spec)["TableDescription"]["TableName"] == "invoices"


def test_aws_managed_key_needs_no_kms_step(scenario: Scenario) -> None:
    """The aws/dynamodb key's fixed policy allows account principals through DynamoDB."""
    ddb = scenario.client("orchestrator", "dynamodb")
    ddb.create_table(TableName="managed", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS"})
    scenario.client("tester", "dynamodb").put_item(TableName="managed", Item={"pk": {"S": "x"}})
    assert [s.action for s, _ in scenario.handler.verdicts[-1].steps] == ["dynamodb:PutItem"]


# ---- table resource policies ----------------------------------------------------------------
# DynamoDB Developer Guide, "Authorization with IAM identity-based policies and DynamoDB
# resource-based policies": "If the IAM principal is from the same account as the resource owner,
# a resource-based policy is sufficient"; IAM User Guide, "Policy evaluation logic": a statement
# naming the account delegates to the account's identity-based policies, and an explicit deny in
# any policy wins. "DynamoDB resource-based policy examples": a statement's Resource must match
# the ARN of the table (or its index) the policy is attached to.

PLAIN = "plain"
PLAIN_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{PLAIN}"
READER_ARN = f"arn:aws:iam::{ACCOUNT}:user/reader"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
SAME_ACCOUNT = "rbac-auth-iam-id-based-policies-DDB: same account, a resource-based policy is sufficient"
DELEGATES = "IAM 'AWS JSON policy elements: Principal': naming the account delegates to its IAM policies"
DENY_WINS = "IAM 'Policy evaluation logic': an explicit deny in any policy overrides any allow"
OWN_ARN = "rbac-examples: the policy takes effect only if the Resource ARN matches the table it is attached to"


def table_statement(effect: str, principal: object, actions: object, resource: object = PLAIN_ARN) -> dict:
    return {"Effect": effect, "Principal": principal, "Action": actions, "Resource": resource}


def implicit(who: str, action: str = "dynamodb:GetItem", resource: str = PLAIN_ARN) -> str:
    return (f"User: {who} is not authorized to perform: {action} on resource: {resource} "
            f"because no identity-based policy allows the {action} action")


def explicit(who: str, action: str = "dynamodb:GetItem", resource: str = PLAIN_ARN) -> str:
    return (f"User: {who} is not authorized to perform: {action} on resource: {resource} "
            "with an explicit deny in a resource-based policy")


TABLE_POLICY_CASES = [
    pytest.param("reader", [], implicit(READER_ARN), id="no-policy-no-identity-denied"),
    pytest.param("reader", [table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:GetItem")], None,
                 id=f"names-reader-allows[{SAME_ACCOUNT}]"),
    pytest.param("reader", [table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:*", "*")], None,
                 id="resource-star-allows"),
    # "*" restricted by a trusted key: not public for Block Public Access ("rbac-bpa-rbp")
    pytest.param("reader", [table_statement("Allow", "*", "dynamodb:GetItem")
                            | {"Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}}], None,
                 id="principal-star-of-the-account-allows"),
    pytest.param("reader", [table_statement("Allow", "*", "dynamodb:GetItem")
                            | {"Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}],
                 implicit(READER_ARN), id="principal-star-of-another-account-denied"),
    pytest.param("reader", [table_statement("Allow", {"AWS": ROOT_ARN}, "dynamodb:GetItem")], implicit(READER_ARN),
                 id=f"names-account-only-denied[{DELEGATES}]"),
    pytest.param("reader", [table_statement("Allow", {"AWS": ACCOUNT}, "dynamodb:GetItem")], implicit(READER_ARN),
                 id="names-account-id-only-denied"),
    pytest.param("tester", [table_statement("Allow", {"AWS": ROOT_ARN}, "dynamodb:GetItem")], None,
                 id="names-account-and-identity-allows"),
    pytest.param("reader", [table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:GetItem",
                                            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other")],
                 implicit(READER_ARN), id=f"another-table-arn-denied[{OWN_ARN}]"),
    pytest.param("reader", [table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:Query")], implicit(READER_ARN),
                 id="other-action-denied"),
    pytest.param("tester", [table_statement("Deny", {"AWS": TESTER_ARN}, "dynamodb:GetItem")], explicit(TESTER_ARN),
                 id=f"deny-beats-dynamodb-full-access[{DENY_WINS}]"),
    pytest.param("reader", [table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:GetItem"),
                            table_statement("Deny", "*", "dynamodb:GetItem")], explicit(READER_ARN),
                 id="deny-beats-allow-in-the-same-policy"),
]


@pytest.fixture
def plain(scenario: Scenario) -> Scenario:
    """An aws-owned-encrypted table (no KMS step) and a user `reader` without any policy."""
    # Scenario.client(who) looks the session up by name
    scenario.reader = user_session(scenario.client("orchestrator", "iam"), "reader")  # type: ignore[attr-defined]
    ddb = scenario.client("orchestrator", "dynamodb")
    ddb.create_table(TableName=PLAIN, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "owner", "AttributeType": "S"}],
                     GlobalSecondaryIndexes=[{"IndexName": "by_owner",
                                              "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    ddb.put_item(TableName=PLAIN, Item={"pk": {"S": "order-1"}, "owner": {"S": "ann"}})
    return scenario


def put_table_policy(scenario: Scenario, *statements: dict, table_arn: str = PLAIN_ARN) -> None:
    scenario.client("orchestrator", "dynamodb").put_resource_policy(
        ResourceArn=table_arn, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


@pytest.mark.parametrize(("who", "statements", "denied"), TABLE_POLICY_CASES)
def test_table_policy_decides_getitem(plain: Scenario, who: str, statements: list, denied: str | None) -> None:
    if statements:
        put_table_policy(plain, *statements)
    client = plain.client(who, "dynamodb")
    if denied is None:
        assert client.get_item(TableName=PLAIN, Key=KEY)["Item"]["owner"] == {"S": "ann"}
        return
    with pytest.raises(ClientError) as excinfo:
        client.get_item(TableName=PLAIN, Key=KEY)
    assert _error(excinfo) == ("AccessDeniedException", denied, 400)
    layer = plain.handler.verdicts[-1].error.layer  # type: ignore[union-attr]
    assert layer == ("explicit-deny" if "explicit deny" in denied else "identity-policy")


def test_table_policy_does_not_stand_in_for_the_key_policy(plain: Scenario) -> None:
    """"How Amazon DynamoDB uses AWS KMS": a CMK table makes DynamoDB call kms:Decrypt as the caller,
    so a table policy naming reader passes the table step and the key policy still decides."""
    put_table_policy(plain, table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:GetItem", TABLE_ARN),
                     table_arn=TABLE_ARN)
    reader = plain.client("reader", "dynamodb")
    with pytest.raises(ClientError) as excinfo:
        reader.get_item(TableName=TABLE, Key=KEY)
    assert KMS_DENIED.fullmatch(_error(excinfo)[1])
    verdict = plain.handler.verdicts[-1]
    assert [(s.action, d.allowed) for s, d in verdict.steps] == [("dynamodb:GetItem", True), ("kms:Decrypt", False)]
    assert verdict.error.layer == "key-policy"  # type: ignore[union-attr]
    plain.client("orchestrator", "kms").put_key_policy(
        KeyId=plain.key_id, PolicyName="default",
        Policy=key_policy(statement("ReaderDecrypt", READER_ARN, ["kms:Decrypt"])))
    assert reader.get_item(TableName=TABLE, Key=KEY)["Item"]["total"] == {"N": "42"}


def test_index_query_needs_the_index_arn_in_resource(plain: Scenario) -> None:
    """PutResourcePolicy: "You can control index permissions using the base table's policy ... provide
    both the table and index ARNs in the Resource field"; the table ARN alone does not match an index."""
    query = {"TableName": PLAIN, "IndexName": "by_owner", "KeyConditionExpression": "#o = :o",
             "ExpressionAttributeNames": {"#o": "owner"}, "ExpressionAttributeValues": {":o": {"S": "ann"}}}
    put_table_policy(plain, table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:Query"))
    reader = plain.client("reader", "dynamodb")
    with pytest.raises(ClientError) as excinfo:
        reader.query(**query)
    index_arn = f"{PLAIN_ARN}/index/by_owner"
    assert _error(excinfo)[1] == implicit(READER_ARN, "dynamodb:Query", index_arn)
    put_table_policy(plain, table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:Query",
                                            [PLAIN_ARN, f"{PLAIN_ARN}/index/*"]))
    assert reader.query(**query)["Count"] == 1


def test_deleted_table_policy_no_longer_grants(plain: Scenario) -> None:
    """DeleteResourcePolicy: the gate re-reads moto's state on every call."""
    put_table_policy(plain, table_statement("Allow", {"AWS": READER_ARN}, "dynamodb:GetItem"))
    reader = plain.client("reader", "dynamodb")
    assert reader.get_item(TableName=PLAIN, Key=KEY)["Item"]
    plain.client("orchestrator", "dynamodb").delete_resource_policy(ResourceArn=PLAIN_ARN)
    with pytest.raises(ClientError) as excinfo:
        reader.get_item(TableName=PLAIN, Key=KEY)
    assert _error(excinfo)[1] == implicit(READER_ARN)

"""The policy engine: pure policy logic (no moto, no boto3, no botocore)."""

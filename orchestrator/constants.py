"""Values more than one room needs, said once. A value with an owner lives with its owner (an
ARN's form in orchestrator/arns.py, a name's rule in model/names.py); these have none of their
own. Nothing here imports anything, so the pure engine may use it too."""

from __future__ import annotations

#: The account moto and offline analysis stand in for (the AWS documentation's example account).
DEFAULT_ACCOUNT = "123456789012"
#: Where AWS's global services (IAM) live, and the one S3 region a bucket is created in without a
#: LocationConstraint (S3 API Reference, CreateBucket).
US_EAST_1 = "us-east-1"
#: The region a scenario, the gate and an import assume when none is given.
DEFAULT_REGION = US_EAST_1

#: Every tag orchestrate writes starts so, and a user's own tags may not.
TAG_PREFIX = "orchestrate:"
TAG_SCENARIO = f"{TAG_PREFIX}scenario"
TAG_RUN = f"{TAG_PREFIX}run"
TAG_NAME = f"{TAG_PREFIX}name"
#: On a principal orchestrate made to replay a guarantee's witness (prove/witness_replay.py).
TAG_WITNESS = f"{TAG_PREFIX}witness"

#: The access key id of orchestrate's own administrator behind the gate (embedded and endpoint).
ADMIN_KEY_ID = "AKIAORCHESTRATEADMIN0"
#: AssumeRole's shortest session (STS API Reference, AssumeRole: DurationSeconds, 900 at least).
MIN_SESSION_SECONDS = 900
#: A role's default and least MaxSessionDuration, and the longest a chained session may ask for
#: (IAM API Reference, CreateRole: MaxSessionDuration 3600 to 43200; IAM User Guide, "Role chaining").
ROLE_SESSION_SECONDS = 3600
MAX_SESSION_SECONDS = 43200

"""Real AWS through the standard credential chain, guarded by the expected account id."""

from __future__ import annotations

from typing import Any

from orchestrator.backends.base import Backend, BackendError, Credentials
from orchestrator.backends.failures import Timeouts


class AwsBackend(Backend):
    kind = "aws"
    eventually_consistent = True
    # botocore's own read timeout (60 s) and the standard retry mode's default of 3 attempts
    # (AWS SDKs and Tools Reference Guide, "Retry behavior"): AWS throttles bursts of IAM and KMS
    # control-plane calls, which standard mode retries with backoff. Connecting to a regional
    # endpoint takes milliseconds, so 10 s (not botocore's 60) is ample.
    default_timeouts = Timeouts(connect=10.0, read=60.0, attempts=3)

    def __init__(self, region: str, profile: str | None = None, timeout: float | None = None) -> None:
        super().__init__(region, timeout)
        self.profile = profile

    @property
    def world(self) -> str | None:
        return f"AWS account {self.account_id}"

    def _session_kwargs(self) -> dict[str, Any]:
        return {"profile_name": self.profile} if self.profile else {}

    def _credential_kwargs(self, credentials: Credentials | None) -> dict[str, Any]:
        if credentials is None:
            return {}
        return {
            "aws_access_key_id": credentials.access_key_id,
            "aws_secret_access_key": credentials.secret_access_key,
            "aws_session_token": credentials.session_token,
        }

    def identity(self) -> dict[str, str]:
        try:
            return super().identity()
        except BackendError:
            raise
        except Exception as error:
            raise BackendError(f"cannot establish the AWS identity: {error}") from None

    def guard(self, expected_account: str | None) -> None:
        """Refuse to act unless the caller's account is the one the scenario (or --account) names."""
        actual = self.account_id
        if expected_account is None:
            raise BackendError(
                f"refusing to act on real AWS without an account guard: the credentials are for account {actual};"
                " set `account:` in the scenario or pass --account"
            )
        if actual != expected_account:
            raise BackendError(
                f"refusing to act: the credentials are for account {actual}, the scenario expects account {expected_account}"
            )

"""Real AWS through the standard credential chain, guarded by the expected account id.

A scenario's other accounts (`accounts:`) are reached with their own credentials: a named
profile each (`--profile-for NAME=PROFILE`; AWS SDKs and Tools Reference Guide, "Shared config
and credentials files"), each guarded like the home account by GetCallerIdentity (AWS STS API
Reference, "GetCallerIdentity"), which needs no permission and so cannot be denied.
"""

from __future__ import annotations

from typing import Any

from orchestrator.backends.base import Backend, BackendError, Credentials
from orchestrator.backends.failures import Timeouts, describe_aws_error


class AwsBackend(Backend):
    kind = "aws"
    eventually_consistent = True
    # botocore's own read timeout (60 s) and the standard retry mode's default of 3 attempts
    # (AWS SDKs and Tools Reference Guide, "Retry behavior"): AWS throttles bursts of IAM and KMS
    # control-plane calls, which standard mode retries with backoff. Connecting to a regional
    # endpoint takes milliseconds, so 10 s (not botocore's 60) is ample.
    default_timeouts = Timeouts(connect=10.0, read=60.0, attempts=3)

    def __init__(self, region: str, profile: str | None = None, timeout: float | None = None,
                 profiles_for: dict[str, str] | None = None, accounts: dict[str, str] | None = None) -> None:
        """`profiles_for`: account NAME -> AWS profile (--profile-for); `accounts`: the scenario's
        `accounts:` (NAME -> 12-digit id)."""
        super().__init__(region, timeout)
        self.profile = profile
        self.profiles_for = dict(profiles_for or {})
        self.accounts = dict(accounts or {})
        self._account_sessions: dict[str, Any] = {}
        self._identities: dict[str, dict[str, str]] = {}

    @property
    def world(self) -> str | None:
        return f"AWS account {self.account_id}"

    def _session_kwargs(self) -> dict[str, Any]:
        return {"profile_name": self.profile} if self.profile else {}

    def _session_for(self, account: str | None) -> Any:
        """The home account's session, or the one of the profile given for another account."""
        return self._session() if account is None else self._profile_session(self._account_name(account))

    def _place(self, client: Any, account: str) -> None:
        """Nothing to do: on real AWS the credentials (the profile's session) choose the account."""

    def _account_name(self, account: str) -> str:
        """The scenario's name for an account id that has a profile."""
        for name, declared in self.accounts.items():
            if declared == account and name in self.profiles_for:
                return name
        named = next((name for name, declared in self.accounts.items() if declared == account), None)
        option = f"--profile-for {named}=PROFILE" if named else "--profile-for NAME=PROFILE"
        raise BackendError(f"no credentials for account {account} on real AWS: pass {option}")

    def _profile_session(self, name: str) -> Any:
        """One boto3 session per profile (cached): its loader parses each service model once."""
        if name not in self._account_sessions:
            import boto3
            from botocore.exceptions import ProfileNotFound

            profile = self.profiles_for[name]
            try:
                self._account_sessions[name] = boto3.session.Session(profile_name=profile)
            except ProfileNotFound:
                raise BackendError(f"the AWS profile {profile!r} (--profile-for {name}) is not configured"
                                   " in the AWS config or credentials file") from None
        return self._account_sessions[name]

    def identity_in(self, account: str) -> dict[str, str]:
        """GetCallerIdentity with the credentials of the profile given for `account` (one attempt)."""
        if account not in self._identities:
            name = self._account_name(account)
            probe = self._new_client("sts", None, self.timeouts.single(), account)
            try:
                answer = probe.get_caller_identity()
            except Exception as error:
                explained = self.failure(error)
                raise BackendError(f"cannot establish the AWS identity of profile {self.profiles_for[name]!r}"
                                   f" (--profile-for {name}): {explained or describe_aws_error(error)}") from None
            self._identities[account] = {"Account": answer["Account"], "Arn": answer["Arn"], "UserId": answer["UserId"]}
        return self._identities[account]

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
        self.guard_accounts()

    def guard_accounts(self) -> None:
        """Refuse to act unless each profile given with --profile-for is for the account it names."""
        for name, profile in self.profiles_for.items():
            declared = self.accounts.get(name)
            if declared is None:
                raise BackendError(f"--profile-for {name}: the scenario declares no account {name!r} under `accounts:`")
            actual = self.identity_in(declared)["Account"]
            if actual != declared:
                raise BackendError(
                    f"refusing to act: the credentials of profile {profile} (--profile-for {name}) are for account"
                    f" {actual}, the scenario's account {name} is {declared}"
                )

"""The embedded default: moto in-process, nothing to configure, no network.

moto does not enforce KMS key policies, conditions, key states or the DynamoDB-to-KMS
dependency; the authorization gate (orchestrator.authz) decides every request before moto runs
it: scenario principals' and the orchestrator's own, whose identity the gate takes to be an
administrator (its IAM policies allow everything) still bound by key policies.
"""

from __future__ import annotations

import os
from typing import Any

from orchestrator import arns
from orchestrator.backends.base import Backend, Credentials
from orchestrator.constants import ADMIN_KEY_ID, DEFAULT_ACCOUNT

# moto answers for any key; these name the orchestrator's own (administrator) identity.
ADMIN = Credentials(ADMIN_KEY_ID, "orchestrate-embedded-admin-secret")
#: The UserId GetCallerIdentity answers for an administrator that is not a root (AWS's example key id).
_ADMIN_USER_ID = "AKIAIOSFODNN7EXAMPLE"


class EmbeddedBackend(Backend):
    kind = "embedded"

    def __init__(self, region: str, account: str | None = None, gate: bool = True,
                 admin_arn: str | None = None) -> None:
        """`admin_arn`: the orchestrator's identity as GetCallerIdentity would name it (default
        moto's answer, `arn:aws:sts::ACCOUNT:user/moto`); an account root's ARN runs orchestrate
        as that root, as LocalStack's default credentials and root access keys do."""
        super().__init__(region)
        self._account = account or DEFAULT_ACCOUNT
        self._admin_arn = admin_arn or arns.sts_arn(self._account, "user/moto")
        # AWS managed policies are loaded one by one when attached (moto_extensions), not all
        # ~1,500 of them on every start as MOTO_IAM_LOAD_MANAGED_POLICIES would. MOTO_ACCOUNT_ID
        # would pin every request to one account: the orchestrator's clients name their account
        # with moto's `x-moto-account-id` header instead, and scenario principals' keys are
        # served in the account that holds them.
        self._saved_env = {name: os.environ.get(name) for name in ("MOTO_ACCOUNT_ID",)}
        os.environ.pop("MOTO_ACCOUNT_ID", None)
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        from orchestrator.backends import moto_extensions

        moto_extensions.install_policy_checks_off()  # the gate alone judges bucket and key policies
        self.gate: Any = None
        self._placing: str | None = None
        self._gate_handle: Any = None
        if gate:
            self._start_gate()

    def _start_gate(self) -> None:
        """Gate every boto3 client made while this backend lives, ours and the caller's own,
        as moto's mock patches every client: scenario principals meet AWS's allow and deny."""
        from orchestrator.authz.gate.core import Gate
        from orchestrator.backends.moto_world import MotoWorld
        from orchestrator.authz.gate.hooks import install_global_gate

        self.gate = Gate(self.region, MotoWorld(), admin_arn=self._admin_arn)
        self._gate_handle = install_global_gate(self.gate)

    def identity(self) -> dict[str, str]:
        """The orchestrator's identity without a client and a call (a seed run's start-up is
        benchmarked): moto's GetCallerIdentity answer for the administrator keys, or `admin_arn`
        (the identity the gate decides those keys' calls as)."""
        user_id = self._account if self._admin_arn.endswith(":root") else _ADMIN_USER_ID
        return {"Account": self._account, "Arn": self._admin_arn, "UserId": user_id}

    def identity_in(self, account: str) -> dict[str, str]:
        """The orchestrator's identity in another account: the same ARN, in that account."""
        return {"Account": account, "Arn": arns.with_account(self._admin_arn, account),
                "UserId": account if self._admin_arn.endswith(":root") else _ADMIN_USER_ID}

    def client(self, service: str, credentials: Credentials | None = None, account: str | None = None) -> Any:
        """The orchestrator's clients always name their account (see __init__)."""
        if credentials is None and account is None:
            account = self._account
        return super().client(service, credentials, account)

    def _new_client(self, service: str, credentials: Credentials | None, timeouts: Any, account: str | None = None) -> Any:
        self._placing = account
        try:
            return super()._new_client(service, credentials, timeouts, account)
        finally:
            self._placing = None

    def _home_account(self) -> str | None:
        return None  # every client of the orchestrator's names its account, the home one too

    def _credential_kwargs(self, credentials: Credentials | None) -> dict[str, Any]:
        chosen = credentials or ADMIN
        return {"aws_access_key_id": chosen.access_key_id, "aws_secret_access_key": chosen.secret_access_key,
                "aws_session_token": chosen.session_token}

    def _prepare(self, client: Any, credentials: Credentials | None) -> None:
        super()._prepare(client, credentials)
        if client.meta.service_model.service_name == "cloudformation":
            from orchestrator.backends import moto_cloudformation

            moto_cloudformation.install()
        if client.meta.service_model.service_name == "iam":
            from orchestrator.backends import moto_extensions

            account = self._placing or self._account
            moto_extensions.install(client, account)
            moto_extensions.install_managed_policies(client, account)

    def close(self) -> None:
        super().close()
        if self._gate_handle is not None:
            self._gate_handle.uninstall()
            self._gate_handle = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

"""The embedded default: moto in-process, nothing to configure, no network.

moto does not enforce KMS key policies, conditions, key states or the DynamoDB-to-KMS
dependency; the authorization gate (orchestrator.authz) decides requests made with scenario
principals' credentials before moto runs them.
"""

from __future__ import annotations

import os
from typing import Any

from orchestrator.backends.base import Backend, Credentials

DEFAULT_ACCOUNT = "123456789012"
# moto answers for any key; these name the orchestrator's own (administrator) identity.
ADMIN = Credentials("AKIAORCHESTRATEADMIN0", "orchestrate-embedded-admin-secret")


class EmbeddedBackend(Backend):
    kind = "embedded"

    def __init__(self, region: str, account: str | None = None, gate: bool = True) -> None:
        super().__init__(region)
        self._account = account or DEFAULT_ACCOUNT
        self._saved_env = {name: os.environ.get(name) for name in ("MOTO_ACCOUNT_ID",)}
        # AWS managed policies are loaded one by one when attached (moto_extensions), not all
        # ~1,500 of them on every start as MOTO_IAM_LOAD_MANAGED_POLICIES would.
        os.environ["MOTO_ACCOUNT_ID"] = self._account
        from moto import mock_aws

        self._mock = mock_aws()
        self._mock.start()
        self.gate: Any = None
        self._gate_handle: Any = None
        if gate:
            self._start_gate()

    def _start_gate(self) -> None:
        """Gate every boto3 client made while this backend lives, ours and the caller's own,
        as moto's mock patches every client: scenario principals meet AWS's allow and deny."""
        from orchestrator.authz.gate import Gate
        from orchestrator.authz.hooks import install_global_gate

        self.gate = Gate(self.region)
        self._gate_handle = install_global_gate(self.gate)

    def identity(self) -> dict[str, str]:
        """What moto's sts:GetCallerIdentity answers for the administrator keys, without a client
        and a call (a seed run's start-up is benchmarked)."""
        return {"Account": self._account, "Arn": f"arn:aws:sts::{self._account}:user/moto", "UserId": "AKIAIOSFODNN7EXAMPLE"}

    def _credential_kwargs(self, credentials: Credentials | None) -> dict[str, Any]:
        chosen = credentials or ADMIN
        return {"aws_access_key_id": chosen.access_key_id, "aws_secret_access_key": chosen.secret_access_key}

    def _prepare(self, client: Any, credentials: Credentials | None) -> None:
        super()._prepare(client, credentials)
        if client.meta.service_model.service_name == "iam":
            from orchestrator.backends import moto_extensions

            moto_extensions.install(client, self._account)
            moto_extensions.install_managed_policies(client, self._account)

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

"""Any AWS-compatible endpoint: `orchestrate serve`, moto's own server, LocalStack."""

from __future__ import annotations

import os
from typing import Any

from orchestrator.backends.base import Backend, BackendError, Credentials

# Local endpoints accept any key; these name the orchestrator's own identity there.
DEFAULT_ADMIN = Credentials("AKIAORCHESTRATEADMIN0", "orchestrate-endpoint-admin-secret")


class EndpointBackend(Backend):
    kind = "endpoint"

    def __init__(self, region: str, endpoint_url: str, timeout: float | None = None) -> None:
        super().__init__(region, timeout)
        self.endpoint_url = endpoint_url
        self.endpoint_label = endpoint_url
        key = os.environ.get("AWS_ACCESS_KEY_ID")
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
        self._admin = Credentials(key, secret) if key and secret else DEFAULT_ADMIN

    def _credential_kwargs(self, credentials: Credentials | None) -> dict[str, Any]:
        chosen = credentials or self._admin
        return {
            "aws_access_key_id": chosen.access_key_id,
            "aws_secret_access_key": chosen.secret_access_key,
            "aws_session_token": chosen.session_token,
        }

    @property
    def world(self) -> str | None:
        return f"the endpoint {self.endpoint_url.rstrip('/')}"

    def _client_kwargs(self) -> dict[str, Any]:
        return {"endpoint_url": self.endpoint_url}

    def identity(self) -> dict[str, str]:
        try:
            return super().identity()
        except BackendError:
            raise
        except Exception as error:  # a URL botocore refuses (ValueError), a TLS failure, ...
            raise BackendError(f"cannot reach {self.where()}: {error}") from None

"""Any AWS-compatible endpoint: `orchestrate serve`, moto's own server, LocalStack.

An endpoint answers at once unless it says otherwise: `orchestrate serve --propagation-delay
SECONDS` models AWS's propagation and names its delay in a header on every answer; when the
start-up GetCallerIdentity carries it with a value above 0, the endpoint is eventually
consistent, and each expectation settles as on real AWS (`apply --eventually-consistent` says
so for an endpoint that lags without saying)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orchestrator.backends.base import Backend, BackendError, Credentials

# Local endpoints accept any key; these name the orchestrator's own identity there.
#: The header of `orchestrate serve --propagation-delay`: orchestrator/authz/propagation.py's
#: PROPAGATION_HEADER, named again here so that a client does not import the gate's model.
PROPAGATION_HEADER = "x-orchestrate-propagation-delay"
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
        #: The propagation delay the endpoint announced (seconds), None when it said nothing.
        self.propagation_delay: float | None = None

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

    def _prepare(self, client: Any, credentials: Credentials | None) -> None:
        super()._prepare(client, credentials)
        if client.meta.service_model.service_name == "sts":
            client.meta.events.register("after-call.sts.GetCallerIdentity", self._heard_delay)
        if client.meta.service_model.service_name == "s3control":
            client.meta.events.register("before-sign.s3-control.*", _endpoint_host)

    def _heard_delay(self, http_response: Any = None, **_: Any) -> None:
        """GetCallerIdentity's answer names the endpoint's propagation delay: above 0, outcomes lag."""
        delay = announced_delay(getattr(http_response, "headers", None) or {})
        if delay is not None:
            self.propagation_delay = delay
            # only ever on: `--eventually-consistent` may have said so already
            self.eventually_consistent = self.eventually_consistent or delay > 0

    def identity(self) -> dict[str, str]:
        try:
            return super().identity()
        except BackendError:
            raise
        except Exception as error:  # a URL botocore refuses (ValueError), a TLS failure, ...
            raise BackendError(f"cannot reach {self.where()}: {error}") from None


def announced_delay(headers: Any) -> float | None:
    """The seconds the propagation header names (None: absent or not a number)."""
    value = headers.get(PROPAGATION_HEADER) if hasattr(headers, "get") else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _endpoint_host(request: Any, **_: Any) -> None:
    """S3 Control's endpoint rules put the account id in front of the host (`ACCOUNT.s3-control...`,
    S3 Control API Reference, "PutPublicAccessBlock"), the endpoint's too: against one endpoint the
    request goes to the endpoint's own host (the account travels in `x-amz-account-id`), signed so."""
    parts = urlsplit(request.url)
    prefix, _, rest = parts.netloc.partition(".")
    if rest and len(prefix) == 12 and prefix.isdigit():
        request.url = urlunsplit(parts._replace(netloc=rest))

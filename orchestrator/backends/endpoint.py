"""Any AWS-compatible endpoint: `orchestrate serve`, moto's own server, LocalStack.

An endpoint answers at once unless it says otherwise: `orchestrate serve --propagation-delay
SECONDS` models AWS's propagation and names its delay in a header on every answer; when the
start-up GetCallerIdentity carries it with a value above 0, the endpoint is eventually
consistent, and each expectation settles as on real AWS (`apply --eventually-consistent` says
so for an endpoint that lags without saying).

Before a run, `enforcement_problem` asks whether the endpoint enforces IAM at all: moto's own
server and LocalStack allow every call by default, and against them every expectation of a
denial fails for a reason that is not the scenario's."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orchestrator.backends.base import Backend, BackendError, Credentials
from orchestrator.constants import ADMIN_KEY_ID

# Local endpoints accept any key; these name the orchestrator's own identity there.
#: The header of `orchestrate serve --propagation-delay`: orchestrator/authz/propagation.py's
#: PROPAGATION_HEADER, named again here so that a client does not import the gate's model.
PROPAGATION_HEADER = "x-orchestrate-propagation-delay"
DEFAULT_ADMIN = Credentials(ADMIN_KEY_ID, "orchestrate-endpoint-admin-secret")


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
        from orchestrator.authz.gate.transport import transport_signer

        super()._prepare(client, credentials)
        # An expectation's transport headers (source_ip, vpc_endpoint: prove/assertions.py) are
        # honoured by `orchestrate serve` only with a proof made with orchestrate's own key pair,
        # whichever principal's client carries them (authz/gate/transport_proof.py); added once
        # the request is signed, as it binds the request's Authorization header.
        client.meta.events.register_last("before-send", transport_signer(self._admin.access_key_id,
                                                                          self._admin.secret_access_key))
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


#: The harmless read the check makes as a principal with no permissions (DynamoDB API Reference,
#: "ListTables": it needs dynamodb:ListTables on "*", which no policy gives this user).
CHECK_ACTION = "dynamodb:ListTables"
CHECK_USER_PREFIX = "orchestrate-enforcement-check-"
#: The check's users live under their own IAM path, so that one ListUsers finds them.
CHECK_PATH = "/orchestrate-enforcement-check/"
#: A check user older than this was left by a check that was killed (SIGKILL): the next check deletes it.
CHECK_LEFT_AFTER = timedelta(minutes=5)


def _this_host() -> str:
    """Six hex digits naming this machine (its host name and boot), in each check user's name: a
    check on the same machine knows from the process id beside it whether the check is running."""
    import hashlib
    import socket

    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            boot = file.read().strip()
    except OSError:
        boot = ""
    return hashlib.sha256(f"{socket.gethostname()} {boot}".encode()).hexdigest()[:6]


def _check_user() -> str:
    """`orchestrate-enforcement-check-HOST-PID-TOKEN` (at most 53 characters; IAM takes 64)."""
    return f"{CHECK_USER_PREFIX}{_this_host()}-{os.getpid()}-{secrets.token_hex(4)}"


def _left_by_a_dead_check(name: str) -> bool:
    """The user was made by a check on this machine whose process is gone (killed: SIGKILL runs
    no cleanup). Another machine's, or an unreadable name, is left to CHECK_LEFT_AFTER."""
    host, _, rest = name[len(CHECK_USER_PREFIX):].partition("-")
    pid, _, _ = rest.partition("-")
    if host != _this_host() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, another user's
        return False
    return False


def enforcement_problem(backend: EndpointBackend) -> str | None:
    """Whether the endpoint enforces IAM: a throwaway IAM user with no policy and its access key
    call ListTables; AWS denies it (an implicit deny: IAM User Guide, "Policy evaluation logic"),
    an endpoint that enforces nothing answers it. The user and its key are deleted afterwards
    whatever happens; the key's secret is never shown. None when the call was refused (or the
    check could not be made: then the run itself says what is wrong), else what to do."""
    iam = backend.client("iam")
    user = _check_user()
    made: list[Callable[[], object]] = []
    try:
        _sweep(iam)
        iam.create_user(UserName=user, Path=CHECK_PATH)
        made.append(lambda: _delete_user(iam, user))  # its keys too: a stop may cut CreateAccessKey's answer
        key = iam.create_access_key(UserName=user)["AccessKey"]
        credentials = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        made.append(lambda: backend.forget_principal(credentials))
        made.append(lambda: iam.delete_access_key(UserName=user, AccessKeyId=credentials.access_key_id))
        backend.client("dynamodb", credentials).list_tables(Limit=1)
    except Exception as error:
        if getattr(error, "response", None) is None:
            raise  # not the endpoint's answer (unreachable, a bug): the run's own handling says it
        return None
    finally:
        _undo(made)
    return (f"{backend.world} enforces no IAM: an IAM user with no policy at all was allowed {CHECK_ACTION}, so"
            " every expectation of a denial would fail, and no allowed one would prove anything. Run against"
            " `orchestrate serve` (it decides every call as AWS does: identity and resource policies, key"
            " policies, grants, boundaries). moto's own server authorizes only when started with"
            " INITIAL_NO_AUTH_ACTION_COUNT set, and then by identity policies alone; LocalStack only with"
            " ENFORCE_IAM=1. --no-enforcement-check skips this check.")


def _sweep(iam: Any) -> None:
    """Delete the check users (and keys) that a killed check left, as the run's own keys are swept
    by the next run (prove/principals.py): at once when its process on this machine is gone, else
    once CHECK_LEFT_AFTER old (one only minutes old may be another machine's running check)."""
    now = datetime.now(timezone.utc)
    for left in iam.list_users(PathPrefix=CHECK_PATH).get("Users", []):
        created, name = left.get("CreateDate"), left["UserName"]
        if not name.startswith(CHECK_USER_PREFIX):
            continue
        if not _left_by_a_dead_check(name) and created is not None and now - created < CHECK_LEFT_AFTER:
            continue
        _undo([lambda name=name: _delete_user(iam, name)])


def _delete_user(iam: Any, name: str) -> None:
    """A check user and whatever access keys it has (its key's id may be unknown: a stop while
    CreateAccessKey was answered, a killed check's)."""
    for key in iam.list_access_keys(UserName=name).get("AccessKeyMetadata", []):
        iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName=name)


def _undo(made: list[Callable[[], object]]) -> None:
    """The check's cleanup, newest first. A stop that arrives meanwhile (SIGTERM raises once) does
    not cut it short: the interrupted step is done again, the rest follows, then the stop goes on;
    a step the endpoint refuses does not keep the others from being done."""
    interrupted: BaseException | None = None
    for step in reversed(made):
        for _ in range(2):
            try:
                step()
                break
            except Exception:  # the endpoint refused (already gone): the next step still runs
                break
            except BaseException as error:
                interrupted = interrupted or error
    if interrupted is not None:
        raise interrupted

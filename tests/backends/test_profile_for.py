"""`--profile-for NAME=PROFILE`: on real AWS each of a scenario's other accounts acts with its own
profile's credentials, guarded like the home account by GetCallerIdentity (AWS STS API Reference).

moto stands in for AWS: it answers GetCallerIdentity for unknown keys with account 123456789012,
and for the keys of an IAM user it holds with that user's account, so a profile can be made to
belong to another account by writing such keys into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import orchestrator.backends
from orchestrator.backends import BackendError
from orchestrator.backends.aws import AwsBackend
from orchestrator.cli import main
from orchestrator.matrix.worker import Target, run_one

HOME, PARTNER = "123456789012", "210987654321"
HOME_KEY, HOME_SECRET = "AKIAHOMEDUMMY0000001", "home-dummy-secret-never-printed"
PARTNER_KEY, PARTNER_SECRET = "AKIAPARTNERDUMMY0001", "partner-dummy-secret-never-printed"

SCENARIO = f"""\
name: two-accounts
account: "{HOME}"
accounts:
  partner: "{PARTNER}"
users:
  local: {{}}
  visitor:
    account: partner
states:
  - name: only
"""


def _config(home: tuple[str, str], partner: tuple[str, str]) -> str:
    return "".join(f"[profile {name}]\nregion = us-east-1\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"
                   for name, (key, secret) in (("homep", home), ("partnerp", partner)))


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Profiles `homep` and `partnerp` with dummy keys, and no other credentials anywhere."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config"
    path.write_text(_config((HOME_KEY, HOME_SECRET), (PARTNER_KEY, PARTNER_SECRET)))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> str:
    path = tmp_path / "two-accounts.yaml"
    path.write_text(SCENARIO)
    return str(path)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def no_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusals come before any backend is opened (so before any call)."""
    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("a backend was opened")

    monkeypatch.setattr(orchestrator.backends, "open_backend", refuse)


def _iam(account: str) -> Any:
    """moto's IAM in `account`, named by moto's x-moto-account-id header."""
    client = boto3.client("iam", region_name="us-east-1", aws_access_key_id=HOME_KEY, aws_secret_access_key="x")
    client.meta.events.register_first("before-call.*.*",
                                      lambda params, **_: params.setdefault("headers", {}).update(
                                          {"x-moto-account-id": account}))
    return client


def _users(account: str) -> list[str]:
    return sorted(user["UserName"] for user in _iam(account).list_users()["Users"])


def _partner_keys_in(config: Path, account: str) -> None:
    """Make profile partnerp belong to `account`: the keys of an IAM user moto holds there."""
    iam = _iam(account)
    iam.create_user(UserName="operator")
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    config.write_text(_config((HOME_KEY, HOME_SECRET), (key["AccessKeyId"], key["SecretAccessKey"])))


def _aws(*extra: str) -> list[str]:
    return ["--target", "aws", "--profile", "homep", *extra, "--no-color"]


def _no_secrets(text: str) -> None:
    assert HOME_SECRET not in text and PARTNER_SECRET not in text


@pytest.mark.parametrize("value", ["partner", "=partnerp", "partner=", " = ", "="])
def test_a_malformed_profile_for_is_a_usage_error(value: str, scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, "--target", "aws", f"--profile-for={value}"]) == 2
    assert f"argument --profile-for: expected NAME=PROFILE (an account of the scenario's `accounts:` and an AWS" \
           f" profile), got {value!r}" in capsys.readouterr().err


def test_one_account_given_two_profiles_is_a_usage_error(scenario: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, "--target", "aws", "--profile-for", "partner=a", "--profile-for", "partner=b"]) == 2
    assert "argument --profile-for: account 'partner' given twice ('a' and 'b')" in capsys.readouterr().err


@pytest.mark.parametrize("where", [[], ["--endpoint-url", "http://127.0.0.1:1"]])
def test_profile_for_is_refused_off_real_aws(where: list[str], scenario: str, no_backend: None,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, *where, "--profile-for", "partner=partnerp"]) == 2
    assert "--profile-for applies to --target aws" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["apply", "plan", "drift", "destroy", "run"])
def test_an_account_with_entities_needs_a_profile(command: str, scenario: str, no_backend: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, scenario, *_aws()]) == (1 if command in ("plan", "drift") else 2)  # their 2: changes
    assert capsys.readouterr().err.strip() == (
        f"{scenario}: on real AWS each other account needs its own credentials, and the scenario has entities in"
        f" its account 'partner' ({PARTNER}): pass --profile-for partner=PROFILE")


def test_a_profile_for_an_undeclared_account_is_refused(scenario: str, no_backend: None,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, *_aws("--profile-for", "partner=partnerp", "--profile-for", "vendor=v")]) == 2
    assert capsys.readouterr().err.strip() == (
        "--profile-for vendor: the scenario declares no account 'vendor' under `accounts:` (declared: partner)")


def test_home_takes_profile_not_profile_for(scenario: str, no_backend: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, *_aws("--profile-for", "home=homep")]) == 2
    assert "--profile-for home: the scenario's own account takes the credentials of --profile" in capsys.readouterr().err


def test_a_profile_of_another_account_is_refused_before_anything_is_applied(
        scenario: str, config: Path, aws: None, opened: list[AwsBackend], capsys: pytest.CaptureFixture[str]) -> None:
    # partnerp's dummy keys are unknown to moto: they answer for 123456789012, not the declared partner
    assert main(["apply", scenario, *_aws("--profile-for", "partner=partnerp")]) == 3
    out, err = capsys.readouterr()
    assert err.strip() == (f"refusing to act: the credentials of profile partnerp (--profile-for partner) are for"
                           f" account {HOME}, the scenario's account partner is {PARTNER}")
    _no_secrets(out + err)
    assert [backend.log.mutating() for backend in opened] == [[]]
    assert opened[0].log.calls == [("sts", "GetCallerIdentity", "orchestrator")] * 2
    assert _users(HOME) == [] and _users(PARTNER) == []


def test_a_profile_that_is_not_configured_is_named(scenario: str, config: Path, aws: None,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply", scenario, *_aws("--profile-for", "partner=nosuch")]) == 3
    assert capsys.readouterr().err.strip() == (
        "the AWS profile 'nosuch' (--profile-for partner) is not configured in the AWS config or credentials file")
    assert _users(HOME) == [] and _users(PARTNER) == []


def test_each_account_acts_with_its_own_profile(scenario: str, config: Path, aws: None, opened: list[AwsBackend],
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _partner_keys_in(config, PARTNER)
    assert main(["apply", scenario, *_aws("--profile-for", "partner=partnerp")]) == 0
    out, err = capsys.readouterr()
    _no_secrets(out + err)
    assert _users(HOME) == ["local"]
    assert _users(PARTNER) == ["operator", "visitor"]
    backend = opened[0]
    assert backend._session_for(None).profile_name == "homep"
    assert backend._session_for(PARTNER).profile_name == "partnerp"
    assert backend._session_for(PARTNER) is backend._session_for(PARTNER), "one session per profile"
    assert backend.identity_in(PARTNER)["Arn"] == f"arn:aws:iam::{PARTNER}:user/operator"
    assert main(["destroy", scenario, *_aws("--profile-for", "partner=partnerp")]) == 0
    assert _users(HOME) == [] and _users(PARTNER) == ["operator"]


def test_a_declared_account_without_entities_needs_no_profile(tmp_path: Path, config: Path, aws: None) -> None:
    path = tmp_path / "unused.yaml"
    path.write_text(SCENARIO.replace("  visitor:\n    account: partner\n", "  visitor: {}\n"))
    assert main(["apply", str(path), *_aws()]) == 0
    assert _users(HOME) == ["local", "visitor"]


def test_place_adds_no_moto_header(config: Path, aws: None) -> None:
    _partner_keys_in(config, PARTNER)
    backend = AwsBackend("us-east-1", "homep", profiles_for={"partner": "partnerp"}, accounts={"partner": PARTNER})
    backend.guard(HOME)
    sent: list[dict[str, Any]] = []
    client = backend.client("iam", account=PARTNER)
    client.meta.events.register("before-send.*.*", lambda request, **_: sent.append(dict(request.headers)))
    assert [user["UserName"] for user in client.list_users()["Users"]] == ["operator"]
    assert sent and all("x-moto-account-id" not in headers for headers in sent)


def test_an_aws_error_is_reported_with_its_code_and_message(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def get_caller_identity(self) -> dict[str, str]:
            raise ClientError({"Error": {"Code": "InvalidClientTokenId",
                                         "Message": "The security token included in the request is invalid."}},
                              "GetCallerIdentity")

    backend = AwsBackend("us-east-1", "homep", profiles_for={"partner": "partnerp"}, accounts={"partner": PARTNER})
    monkeypatch.setattr(backend, "_new_client", lambda *_: Refusing())
    with pytest.raises(BackendError) as raised:
        backend.guard_accounts()
    assert str(raised.value) == ("cannot establish the AWS identity of profile 'partnerp' (--profile-for partner):"
                                 " AWS error InvalidClientTokenId from GetCallerIdentity: The security token included"
                                 " in the request is invalid.")


def test_matrix_refuses_like_the_commands(scenario: str, no_backend: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", scenario, "--profile-for", "partner=partnerp"]) == 2
    assert "--profile-for applies to --target aws" in capsys.readouterr().err
    assert main(["matrix", scenario, "--target", "aws", "--profile", "homep"]) == 2
    assert "pass --profile-for partner=PROFILE" in capsys.readouterr().err


def test_matrix_runs_each_account_with_its_profile(scenario: str, config: Path, aws: None) -> None:
    _partner_keys_in(config, PARTNER)
    outcome = run_one(scenario, Target("aws", profile="homep", profiles_for=(("partner", "partnerp"),)))
    assert outcome["error"] is None
    assert _users(PARTNER) == ["operator"], "the run destroyed what it made in the partner account"

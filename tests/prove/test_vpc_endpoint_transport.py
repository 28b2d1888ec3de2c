"""An expectation's `vpc_endpoint` on embedded (issue 23, item 3): the request carries the endpoint
as it carries `source_ip` (authz/gate/transport.py headers), and the gate hands it to the engine,
which makes the endpoint policy one more layer and sets aws:SourceVpce/aws:SourceVpc, not
aws:SourceIp (IAM User Guide, "AWS global condition context keys"; S3 User Guide, "Restricting
access to a specific VPC endpoint")."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from orchestrator.authz.engine.inputs import PolicySource
from orchestrator.authz.engine.organization import VPC_ENDPOINT, VpcEndpoint
from orchestrator.authz.gate.transport import Transport, pop_transport, transport_headers
from orchestrator.cli import main
from orchestrator.loader import load_scenario
from orchestrator.model.organization import OrganizationIds

SCENARIO = Path(__file__).resolve().parents[1] / "resources" / "data" / "vpce-bucket.yaml"
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]}


def test_the_endpoint_survives_the_headers() -> None:
    endpoint = VpcEndpoint("vpce-0123456789abcdef0", "vpc-0123456789abcdef0", PolicySource(VPC_ENDPOINT, "e", POLICY))
    headers = dict(transport_headers(Transport(vpc_endpoint=endpoint)))
    found = pop_transport(headers)
    assert headers == {}
    assert found.vpc_endpoint is not None and not found.empty
    assert (found.vpc_endpoint.id, found.vpc_endpoint.vpc) == (endpoint.id, endpoint.vpc)
    assert json.loads(found.vpc_endpoint.source().document) == POLICY


def test_an_endpoint_without_a_policy_has_the_default_and_a_bad_id_is_no_endpoint() -> None:
    found = pop_transport(dict(transport_headers(Transport(vpc_endpoint=VpcEndpoint("vpce-0123456789abcdef0")))))
    assert found.vpc_endpoint is not None and found.vpc_endpoint.policy is None
    assert pop_transport({"X-Orchestrate-Source-Vpce": "not-an-id"}).vpc_endpoint is None


def test_a_malformed_policy_header_allows_nothing() -> None:
    found = pop_transport({"x-orchestrate-source-vpce": "vpce-0123456789abcdef0", "x-orchestrate-vpce-policy": "%%%"})
    assert found.vpc_endpoint is not None and json.loads(found.vpc_endpoint.source().document)["Statement"] == []


def test_the_scenarios_literal_endpoint_id_is_the_embedded_one() -> None:
    loaded = load_scenario(SCENARIO)
    text = json.dumps(loaded.desired[0].buckets["vpce-docs"].policy.model_dump(mode="json", by_alias=True))
    assert OrganizationIds.embedded(loaded.scenario.name).endpoint("s3-endpoint") in text


def test_the_read_is_denied_without_the_endpoint_and_allowed_through_it(capsys: pytest.CaptureFixture[str]) -> None:
    """The same GetObject: denied by the bucket policy without `vpc_endpoint:`, allowed with it; a
    listing through the endpoint is denied by the endpoint policy (layer vpc-endpoint)."""
    assert main(["apply", str(SCENARIO)]) == 0
    out = capsys.readouterr().out
    assert "3 passed, 0 failed" in out
    assert "decided by: vpc-endpoint" in out


ON_AWS = """\
name: vpce-on-aws
account: "123456789012"
region: us-east-1
vpc_endpoints:
  s3-endpoint: {service: s3, vpc: main}
users:
  reader:
    inline_policies:
      read: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: ["s3:GetObject", "s3:ListBucket"], Resource: "*"}]}
buckets:
  docs:
    objects:
      - {key: report.txt, body: "quarterly report"}
states:
  - name: only
    expectations:
      - {as: reader, action: s3:GetObject, resource: object:docs/report.txt, expect: allowed}
      - {as: reader, action: s3:GetObject, resource: object:docs/report.txt, vpc_endpoint: s3-endpoint, expect: allowed}
      - {as: reader, action: s3:ListBucket, resource: bucket:docs, vpc_endpoint: s3-endpoint, expect: denied}
"""


@pytest.fixture
def on_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto under mock_aws stands in for real AWS (as in tests/backends/test_profile_for.py)."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAVPCETESTDUMMY001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-secret-never-printed")
    path = tmp_path / "vpce-on-aws.yaml"
    path.write_text(ON_AWS)
    with mock_aws():
        yield str(path)


def test_skipped_on_real_aws_with_the_reason_and_the_run_goes_on(on_aws: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Real AWS goes through an endpoint only from inside its VPC: such an expectation is not called
    but skipped, with the reason; the others are proved, and a skip fails nothing (exit 0)."""
    junit = tmp_path / "junit.xml"
    assert main(["apply", on_aws, "--target", "aws", "--no-color", "--junit", str(junit)]) == 0
    out = capsys.readouterr().out
    assert "PASS reader s3:GetObject object:docs/report.txt: expected allowed, actual allowed" in out
    assert "SKIP reader s3:ListBucket bucket:docs: expected denied, not called" in out
    assert ("skipped: through VPC endpoint s3-endpoint (in main): on real AWS a request goes through a VPC endpoint"
            " only from inside its VPC, and orchestrate cannot choose it") in out
    assert out.rstrip().endswith("1 passed, 0 failed, 2 skipped")
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "0", "2")
    skips = [case.find("skipped") for case in suite.iter("testcase") if case.find("skipped") is not None]
    assert len(skips) == 2 and all("only from inside its VPC" in (s.get("message") or "") for s in skips)


def test_skipped_in_the_json_report(on_aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", on_aws, "--target", "aws", "--output", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    assert report["summary"] == {"expectations": 3, "passed": 1, "failed": 0, "errored": 0, "skipped": 2, "model_gaps": 0}
    verdicts = report["states"][0]["expectations"]
    assert [(v["actual"], v["skipped"], v["passed"]) for v in verdicts] == [
        ("allowed", False, True), ("skipped", True, False), ("skipped", True, False)]


def test_source_ip_is_still_refused_on_real_aws_before_the_backend_opens(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection decides aws:SourceIp: refused, located (commands/common.py refuse_chosen_transport)."""
    def no_backend(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the backend was opened")

    monkeypatch.setattr("orchestrator.backends.open_backend", no_backend)
    path = tmp_path / "source-ip.yaml"
    path.write_text(ON_AWS.replace("vpc_endpoint: s3-endpoint, expect: allowed", "source_ip: 10.0.0.1, expect: allowed"))
    assert main(["apply", str(path), "--target", "aws"]) == 2
    err = capsys.readouterr().err
    assert "source_ip can be chosen only on the embedded backend" in err
    assert "(at states[0].expectations[1].source_ip)" in err

"""An expectation's `vpc_endpoint` on embedded (issue 23, item 3): the request carries the endpoint
as it carries `source_ip` (authz/gate/transport.py headers), and the gate hands it to the engine,
which makes the endpoint policy one more layer and sets aws:SourceVpce/aws:SourceVpc, not
aws:SourceIp (IAM User Guide, "AWS global condition context keys"; S3 User Guide, "Restricting
access to a specific VPC endpoint")."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def test_refused_on_real_aws_before_the_backend_opens(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Real AWS goes through an endpoint only from inside its VPC: refused, located, like source_ip."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    def no_backend(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the backend was opened")

    monkeypatch.setattr("orchestrator.backends.open_backend", no_backend)
    assert main(["apply", str(SCENARIO), "--target", "aws"]) == 2
    err = capsys.readouterr().err
    assert "vpc_endpoint can be chosen only on the embedded backend" in err
    assert "(at states[0].expectations[1].vpc_endpoint)" in err

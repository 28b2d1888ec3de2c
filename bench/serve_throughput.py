"""`orchestrate serve` throughput against plain moto server, with 8 clients (issue 14, item 7).

Both servers are the same moto, the same werkzeug threaded server and the same request handler
(moto/moto_server/threaded_moto_server.py: `make_server(..., threaded=True,
request_handler=MotoRequestHandler)`, which orchestrator/backends/serve.py also uses), each in its
own child process, so the difference is the gate (orchestrator/authz/wsgi.py).

The workload is the seed's data plane as the proofs use it: DynamoDB GetItem on a table encrypted
with a customer managed key, kms:Encrypt and kms:Decrypt with that key, and iam:GetUser, signed
with an IAM user's access keys whose identity policy and the key policy allow all of it. Every
response must succeed: a denial is cheaper than an answer and would flatter the gate.

The 8 clients are 8 processes (one thread each), not 8 threads of one process: botocore signs and
parses in Python, and one process's GIL would cap the clients below what the server can answer,
hiding the gate's cost. On this 2-core machine the clients and the server share the cores, as a
CI runner's would; the figure is the ratio, which both servers pay alike.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

CLIENTS = 8
DURATION_S = 3.0
RUNS = 3
TARGET = 0.15
REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "bench-serve-throughput"
USER = "bench-serve-client"
ADMIN_KEY, ADMIN_SECRET = "AKIABENCHSERVEADMIN0", "bench"

#: Plain moto server as serve runs moto: same server, threading model and request handler.
PLAIN_MOTO = """
from moto.moto_server.werkzeug_app import MotoRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
server = make_server("127.0.0.1", 0, DomainDispatcherApplication(create_backend_app), threaded=True,
                     request_handler=MotoRequestHandler)
print(f"plain moto: listening on http://127.0.0.1:{server.server_port}", flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def plain_moto(stderr: Any) -> Iterator[str]:
    """Plain moto server as a child process on a free loopback port; its URL."""
    from orchestrator.backends.serve import listening

    with listening([sys.executable, "-c", PLAIN_MOTO], stderr) as url:
        yield url


@contextlib.contextmanager
def gated(root: Path, stderr: Any) -> Iterator[str]:
    """`orchestrate serve` (orchestrator.backends.serve.spawned); its URL."""
    from orchestrator.backends.serve import spawned

    # the workload's admin key, taken by serve as orchestrate's own (any other unknown key is refused)
    with spawned(stderr, "--admin-key", f"{ADMIN_KEY}:{ADMIN_SECRET}", cwd=str(root)) as url:
        yield url


def _client(service: str, url: str, key: str, secret: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(service, endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))


def set_up(url: str) -> dict[str, str]:
    """Untimed: a key whose policy allows the user, a table encrypted with it, an item, and the
    user with access keys and an identity policy allowing the workload. The workload's inputs."""
    admin = {"url": url, "key": ADMIN_KEY, "secret": ADMIN_SECRET}
    iam = _client("iam", **admin)
    user_arn = iam.create_user(UserName=USER)["User"]["Arn"]
    access = iam.create_access_key(UserName=USER)["AccessKey"]
    kms = _client("kms", **admin)
    key_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Account", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Client", "Effect": "Allow", "Principal": {"AWS": user_arn},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"], "Resource": "*"}]}
    key = kms.create_key(Description="bench serve throughput", Policy=json.dumps(key_policy))["KeyMetadata"]
    dynamodb = _client("dynamodb", **admin)
    dynamodb.create_table(TableName=TABLE, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST",
                          SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]})
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "one"}, "value": {"S": "secret"}})
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
    identity = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": table_arn},
        {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], "Resource": key["Arn"]},
        {"Effect": "Allow", "Action": "iam:GetUser", "Resource": user_arn}]}
    iam.put_user_policy(UserName=USER, PolicyName="bench", PolicyDocument=json.dumps(identity))
    return {"url": url, "key": access["AccessKeyId"], "secret": access["SecretAccessKey"], "key_id": key["Arn"]}


def _worker(inputs: dict[str, str], duration: float, ready: Any, results: Any) -> None:
    """One client: build its clients, wait for the others, then loop over the mix for `duration`."""
    signed = {"url": inputs["url"], "key": inputs["key"], "secret": inputs["secret"]}
    dynamodb, kms, iam = (_client(service, **signed) for service in ("dynamodb", "kms", "iam"))
    blob = kms.encrypt(KeyId=inputs["key_id"], Plaintext=b"bench")["CiphertextBlob"]
    calls = (lambda: dynamodb.get_item(TableName=TABLE, Key={"id": {"S": "one"}}),
             lambda: kms.encrypt(KeyId=inputs["key_id"], Plaintext=b"bench"),
             lambda: kms.decrypt(CiphertextBlob=blob),
             lambda: iam.get_user(UserName=USER))
    done = failed = 0
    first_error = ""
    ready.wait()
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        try:
            calls[done % len(calls)]()
            done += 1
        except Exception as error:  # noqa: BLE001 - any failure is counted and reported, not hidden
            failed += 1
            first_error = first_error or f"{type(error).__name__}: {error}"
            done += 1
    results.put({"done": done, "failed": failed, "error": first_error})


def drive(inputs: dict[str, str], clients: int = CLIENTS, duration: float = DURATION_S) -> dict[str, Any]:
    """`clients` processes against one server for `duration` seconds: requests per second."""
    context = multiprocessing.get_context("fork")
    ready, results = context.Barrier(clients + 1), context.Queue()
    workers = [context.Process(target=_worker, args=(inputs, duration, ready, results)) for _ in range(clients)]
    for worker in workers:
        worker.start()
    ready.wait(timeout=120)
    counts = [results.get(timeout=duration + 120) for _ in workers]
    for worker in workers:
        worker.join()
    done, failed = sum(c["done"] for c in counts), sum(c["failed"] for c in counts)
    return {"requests": done, "failed": failed, "rps": done / duration,
            "errors": sorted({c["error"] for c in counts if c["error"]})}


def measure(root: Path, runs: int = RUNS, duration: float = DURATION_S, clients: int = CLIENTS) -> dict[str, Any]:
    """Alternating the two servers per run, the median requests/s of each and the gate's cost."""
    samples: dict[str, list[dict[str, Any]]] = {"gate": [], "moto": []}
    with tempfile.TemporaryFile("w") as log, gated(root, log) as gate_url, plain_moto(log) as moto_url:
        inputs = {"gate": set_up(gate_url), "moto": set_up(moto_url)}
        for _ in range(runs):
            for label in ("moto", "gate"):
                samples[label].append(drive(inputs[label], clients, duration))
    gate_rps = statistics.median(s["rps"] for s in samples["gate"])
    moto_rps = statistics.median(s["rps"] for s in samples["moto"])
    return {"clients": clients, "duration_s": duration, "runs": runs, "cpus": os.cpu_count(),
            "load": os.getloadavg()[0], "gate_rps": gate_rps, "moto_rps": moto_rps, "cost": 1 - gate_rps / moto_rps,
            "failed": {label: sum(s["failed"] for s in runs_) for label, runs_ in samples.items()},
            "errors": {label: sorted({e for s in runs_ for e in s["errors"]}) for label, runs_ in samples.items()},
            "samples": {label: [round(s["rps"], 1) for s in runs_] for label, runs_ in samples.items()}}


def rows(figure: dict[str, Any]) -> tuple[str, list[str]]:
    """The summary row (`| target | measured | met |`) and the section explaining the figure."""
    cost, met = figure["cost"], figure["cost"] <= TARGET
    row = (f"| serve: {figure['clients']} clients, the gate costs at most {TARGET:.0%} of plain moto server's throughput "
           f"| {cost:.0%} ({figure['gate_rps']:,.0f} vs {figure['moto_rps']:,.0f} req/s) | {'yes' if met else 'no'} |")
    verdict = "met" if met else f"missed by {cost - TARGET:.0%} points"
    section = [
        "## serve throughput against plain moto server",
        "",
        f"{figure['clients']} client processes for {figure['duration_s']:g} s each run, the two servers alternating, "
        f"median of {figure['runs']}: `orchestrate serve` answered {figure['gate_rps']:,.0f} req/s, plain moto server "
        f"{figure['moto_rps']:,.0f} req/s, so the gate costs {cost:.1%} (target at most {TARGET:.0%}: {verdict}).",
        "",
        "Both are the same moto behind the same werkzeug threaded server and request handler, each in its own "
        "process; the workload is the seed's data plane (DynamoDB GetItem on a table encrypted with a customer "
        "managed key, kms:Encrypt, kms:Decrypt, iam:GetUser) signed with an IAM user's keys that the identity "
        f"and key policies allow. Failed requests: gate {figure['failed']['gate']}, moto {figure['failed']['moto']} "
        "(every request must succeed: a denial is cheaper and would flatter the gate).",
        "",
        "The clients are processes, not threads: one process's GIL would cap botocore's signing below what the "
        f"server answers. On this {figure['cpus']}-core machine (load {figure['load']:.1f} at the end) the clients "
        "share the cores with the server, as on a CI runner; both servers pay that alike. Runs (req/s): "
        f"gate {figure['samples']['gate']}, moto {figure['samples']['moto']}.",
    ]
    return row, section


def main() -> None:
    """Only this figure: `python -m bench.serve_throughput`."""
    root = Path(__file__).resolve().parent.parent
    figure = measure(root)
    print(json.dumps(figure, indent=2))
    row, section = rows(figure)
    print(row, *section, sep="\n")


if __name__ == "__main__":
    main()

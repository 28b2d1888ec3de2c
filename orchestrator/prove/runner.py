"""apply's main job: for each policy state in order, reconcile to it, then prove each expectation
with a real call as its principal, beside the engine's prediction; report the access changes
between states. Access keys made for principals are deleted at the end, pass or fail.

Before anything is changed, preflight refuses every conflict at once. Expectations are isolated:
what orchestrate does to prepare a call (a principal's key, a probe ciphertext) that fails is
that expectation's error verdict. An expectation the backend cannot make as it describes (through
a VPC endpoint, on real AWS) is skipped with the reason, and the run goes on. A failure of the run
itself (a conflict, a reconcile that AWS
refused, an endpoint that stopped answering) ends it as `RunResult.error`, and the verdicts of
the states before stand and are reported."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from orchestrator.authz.engine.request import ANONYMOUS
from orchestrator.backends.failures import aws_error_code, describe_aws_error, is_aws_failure
from orchestrator.errors import BackendFailure, RunFailure
from orchestrator.reconcile.apply import apply_state
from orchestrator.reconcile.preflight import refuse_conflicts
from orchestrator.prove.assertions import (CallFailed, Outcome, Prediction, Settled, Verdict, deciding_layer, hook_transport,
                                           expected, perform, settle, undo_for)
from orchestrator.prove.asymmetric_calls import Unprepared, VerificationFailed, verify_offline
from orchestrator.prove.calls import CallSpec, PreparationFailed, Probes, call_for, probed_keys
from orchestrator.loader import LoadedScenario
from orchestrator.model.scenario import DesiredState, Expectation, Guarantee, Settle
from orchestrator.reconcile.plan import Plan
from orchestrator.prove.guarantees import GuaranteeResult, decide_guarantees
from orchestrator.prove.prediction import predict
from orchestrator.prove.principals import PrincipalKeys, scenario_users
from orchestrator.prove.sessions import Callers, RoleSessions, shape_of
from orchestrator.resources.context import RunContext


@dataclass
class StateResult:
    name: str
    plan: Plan
    verdicts: list[Verdict] = field(default_factory=list)
    #: How long its expectations took to settle: where outcomes can lag, the time spent observing
    #: (the pool's wall clock, bounded by its slowest expectation; serially, the sum); elsewhere
    #: the longest single observation.
    settle_seconds: float = 0.0
    #: The index of the expectation that took longest to settle, when the state waited at all.
    last_to_settle: int | None = None
    #: The state's guarantees, each decided after its expectations (prove/guarantees.py).
    guarantees: list[GuaranteeResult] = field(default_factory=list)


@dataclass
class RunResult:
    scenario: str
    backend: str
    states: list[StateResult] = field(default_factory=list)
    #: Why the run ended early (its str is the one line reports print); the states before it keep their verdicts.
    error: RunFailure | None = None
    #: How many expectations of a state were proved at once (1: one after another).
    parallel: int = 1
    #: The scenario file, which each verdict's line and column are in.
    file: str = ""

    @property
    def verdicts(self) -> list[Verdict]:
        return [v for state in self.states for v in state.verdicts]

    @property
    def guarantees(self) -> list[GuaranteeResult]:
        return [g for state in self.states for g in state.guarantees]

    @property
    def passed(self) -> bool:
        """No run error, every expectation passed or skipped, no guarantee decided against its `expect`."""
        return (self.error is None and all(v.passed or v.skipped for v in self.verdicts)
                and not any(g.failed for g in self.guarantees))


#: Hears each progress line of a run (`state NAME: reconciling`, a verdict), for the report's progress.
OnLine = Callable[[str], None]
#: Hears of each state as it finishes, with its seconds (orchestrator.report.progress).
OnState = Callable[[StateResult, float], None]
#: Hears, once preflight has refused nothing, of the (state name, desired state) apply is about to walk.
OnPreflight = Callable[[list[tuple[str, DesiredState]]], None]


def run_states(ctx: RunContext, loaded: LoadedScenario, last: int, progress: OnLine | None = None,
               on_state: OnState | None = None, parallel: int | None = None,
               after_preflight: OnPreflight | None = None) -> RunResult:
    """Preflight, then states 0..last in order. Infrastructure failures end the run as
    `result.error`; anything else (a bug, an interruption) propagates, keys still deleted.
    `parallel` (--parallel): how many expectations of a state are proved at once (`proof_workers`)."""
    result = RunResult(loaded.scenario.name, ctx.backend.kind, parallel=proof_workers(ctx, parallel), file=str(loaded.path))
    stage = "preflight"
    try:
        walked = [(loaded.scenario.states[i].name, loaded.desired[i]) for i in range(last + 1)]
        refuse_conflicts(ctx, walked)
        if after_preflight is not None:
            after_preflight(walked)
        with PrincipalKeys(ctx, scenario_users(loaded.desired)) as keys:
            callers = Callers(keys, RoleSessions(ctx, keys))
            probes = Probes(ctx)
            try:
                for index in range(last + 1):
                    stage = f"state {loaded.scenario.states[index].name}"
                    started = time.perf_counter()
                    run_state(ctx, loaded, index, last, callers, probes, result, progress)
                    if on_state:
                        on_state(result.states[-1], time.perf_counter() - started)
            finally:
                callers.sessions.forget_all()
    except Exception as error:
        message = describe_failure(ctx, error)
        if message is None:
            raise
        result.error = RunFailure("backend", message, None if stage == "preflight" else stage, aws_error_code(error))
    return result


def run_state(ctx: RunContext, loaded: LoadedScenario, index: int, last: int, keys: Callers, probes: Probes,
              result: RunResult, progress: OnLine | None = None) -> None:
    """Reconcile to one state, make the probe ciphertexts this and later states decrypt while
    its keys are as it leaves them, then prove each of its expectations."""
    state = loaded.scenario.states[index]
    desired = loaded.desired[index]
    if progress:
        progress(f"state {state.name}: reconciling")
    outcome = StateResult(state.name, apply_state(ctx, desired, state.name))
    result.states.append(outcome)  # its verdicts so far stand if a later call cannot be made
    probes.prepare(desired, probed_keys((e for later in loaded.scenario.states[index:last + 1] for e in later.expectations),
                                        desired))
    gate = predictor(ctx, desired, probes.blobs, probes.contextual, keys.shaped(state.expectations))
    settles = [e.settle or loaded.scenario.settle or Settle() for e in state.expectations]
    ready = (ready_to_observe(ctx, keys, desired, e, state.name, n, settles[n], probes) for n, e in enumerate(state.expectations))
    for verdict in prove(ctx, keys, state.name, ready, gate, result.parallel):
        verdict.description = state.expectations[verdict.index].description
        verdict.line, verdict.col = loaded.expectation_mark(index, verdict.index)
        outcome.verdicts.append(verdict)
        if progress:
            progress(f"state {state.name}: {verdict.principal} {verdict.action} {verdict.resource} -> {verdict.actual.word}")
    settled(ctx, outcome, result.parallel)
    prove_guarantees(ctx, desired, state.guarantees, outcome, progress, keys, probes)
    for number, found in enumerate(outcome.guarantees):
        found.line, found.col = loaded.guarantee_mark(index, number)


def prove_guarantees(ctx: RunContext, desired: DesiredState, guarantees: list[Guarantee], outcome: StateResult,
                     progress: OnLine | None = None, callers: Callers | None = None, probes: Probes | None = None) -> None:
    """Decide the state's guarantees (prove/guarantees.py), then replay each witness as a real call
    where the backend lets orchestrate make its principal (prove/witness_replay.py)."""
    from orchestrator.prove.witness_replay import replay_witness

    for found in decide_guarantees(ctx, desired, guarantees):
        if found.witness is not None:
            found.replay = replay_witness(ctx, desired, found.guarantee, found.witness, callers, probes)
        outcome.guarantees.append(found)
        if progress:
            progress(f"state {outcome.name}: guarantee on {found.guarantee.resource} -> {found.status}")


#: --parallel's default on an endpoint and on real AWS. Each worker observes at most every 0.25 s
#: (assertions.FIRST_WAIT) and waits for each answer, so 32 make at most ~128 requests a second,
#: against the defaults of KMS Developer Guide, "Request quotas"
#: (https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html), per account and
#: Region and shared with every other caller there: ~1% of the symmetric cryptographic operations'
#: shared 10,000/s, an eighth of the RSA and ECC ones' 1,000/s, under a tenth of DescribeKey's
#: 2,000/s; the grant operations (50/s) change the world and are proved alone (`batches`). The
#: principals' role sessions are made before the pool, one at a time; STS publishes no AssumeRole
#: quota, and a state of sts:AssumeRole expectations is the one case to watch. botocore's standard
#: retry mode backs off from any ThrottlingException that other traffic causes. Why not 8:
#: a state's confirmations (3 observations each, ~0.8 s) are paid N/workers times after the slowest
#: expectation settles; on `serve --propagation-delay 5` 200 expectations took 3.2x the time of
#: one with 8 workers, 1.6x with 32 (bench/settle.py).
DEFAULT_PARALLEL = 32


def proof_workers(ctx: RunContext, requested: int | None) -> int:
    """How many expectations of a state are proved at once. The embedded backend stays serial:
    its moto runs in this process, patched into botocore with the gate's hook, and neither moto's
    in-memory backends nor the gate's reading of them between a decision and moto's answer take
    a lock; nor is there anything to win, with no network and no propagation to wait for."""
    if ctx.backend.kind == "embedded":
        return 1
    return max(1, requested or DEFAULT_PARALLEL)


@dataclass
class Ready:
    """An expectation ready to be observed: its call, the principal's client, how it settles."""

    expectation: Expectation
    number: int
    spec: CallSpec
    client: Any
    settle: Settle


#: What observing one expectation gave: settle's answer and when it began (time.monotonic), or
#: why it could not.
Observed = tuple[Settled, float] | BaseException


class Stopped(Exception):
    """A pooled settle loop told to stop: the run ended (interrupted, or an infrastructure failure).
    Pure control flow, never reported (so not an OrchestrateError: tests/test_errors.py lists it)."""


def ready_to_observe(ctx: RunContext, keys: Callers, desired: DesiredState, expectation: Expectation, state: str,
                     number: int, settle_config: Settle, probes: Probes) -> Ready | Verdict:
    """What orchestrate does before observing (principal's key, role session, probe, client):
    made here, one expectation after another, never in the pool; an offline check or a
    preparation that failed is its verdict already."""
    reason = skip_reason(ctx, desired, expectation)
    if reason is not None:
        return skipped(expectation, state, number, reason)
    if expectation.offline:
        return offline(ctx, desired, expectation, state, number)
    try:
        spec, client = prepare(ctx, keys, desired, expectation, probes)
    except PreparationFailed as error:
        return errored(expectation, state, number, "PreparationFailed", str(error))
    if spec.transport is not None:
        hook_transport(client)
    return Ready(expectation, number, spec, client, settle_config)


def observe(ctx: RunContext, ready: Ready, sleep: Callable[[float], Any] = time.sleep) -> tuple[Settled, float]:
    """One expectation's own settle loop, and when it began."""
    config, began, wanted = ready.settle, time.monotonic(), ready.expectation
    matches = expected(wanted.expect == "allowed", wanted.error, wanted.layer)
    return settle(lambda: perform(ready.client, ready.spec, undo_for(ctx, ready.spec)), wanted.expect == "allowed",
                  config.timeout_seconds, config.consecutive, ctx.backend.eventually_consistent, sleep,
                  matches=matches), began


def prove(ctx: RunContext, keys: Callers, state: str, ready: Iterable[Ready | Verdict], gate: Any,
          workers: int) -> Iterator[Verdict]:
    """The verdicts in file order: serially, each prepared, observed and judged in turn; with a
    pool, all prepared first, observed at once, then judged here (the engine's prediction reads
    a world that is not made to be shared between threads)."""
    if workers <= 1:
        for item in ready:
            yield item if isinstance(item, Verdict) else judged(ctx, keys, state, item, _observed(ctx, item), gate)
        return
    items = list(ready)
    observed = observe_pooled(ctx, [item for item in items if isinstance(item, Ready)], workers)
    # the run's failure, not the Stopped it caused in the loops that were still waiting
    failures = [o for o in observed.values() if isinstance(o, BaseException) and _run_failure(o)]
    failure = next((o for o in failures if not isinstance(o, Stopped)), failures[0] if failures else None)
    for item in items:
        if isinstance(item, Verdict):
            yield item
        elif failure is not None and _run_failure(observed[item.number]):
            raise failure
        else:
            yield judged(ctx, keys, state, item, observed[item.number], gate)


def _observed(ctx: RunContext, ready: Ready) -> Observed:
    try:
        return observe(ctx, ready)
    except (VerificationFailed, CallFailed) as error:
        return error


def _run_failure(observed: Observed) -> bool:
    """An exception that is not the expectation's own verdict: it ends the run."""
    return isinstance(observed, BaseException) and not isinstance(observed, (VerificationFailed, CallFailed))


def observe_pooled(ctx: RunContext, ready: list[Ready], workers: int) -> dict[int, Observed]:
    """Each expectation's settle loop in a bounded pool of threads (boto3's clients are
    thread-safe, made beforehand), a batch at a time (`batches`). A failure of the run, or an
    interruption of this thread, stops the other loops at their next wait; calls under way finish."""
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped()

    observed: dict[int, Observed] = {}
    with serial_client_making(ctx.backend), ThreadPoolExecutor(min(workers, max(1, len(ready))), "orchestrate-proof") as pool:
        for batch in batches(ctx, ready):
            if stop.is_set():
                observed.update({r.number: Stopped() for r in batch})
                continue
            futures = {pool.submit(observe, ctx, r, sleep): r.number for r in batch}
            _await(futures, stop, pool)
            observed.update({number: future.exception() or future.result() for future, number in futures.items()})
    return observed


def _await(futures: dict[Future[tuple[Settled, float]], int], stop: threading.Event, pool: ThreadPoolExecutor) -> None:
    """Wait for a batch; a failure of the run stops the others, an interruption here too."""
    try:
        for future in as_completed(futures):
            error = future.exception()
            if error is not None and _run_failure(error):
                stop.set()
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise


#: Operations that change the world while they are proved (an allowed one is undone afterwards,
#: or leaves a write): what another expectation meets meanwhile depends on them.
CHANGING = ("Put", "Update", "Delete", "Create", "BatchWrite", "Copy")


def batches(ctx: RunContext, ready: list[Ready]) -> Iterator[list[Ready]]:
    """File order cut where an expectation changes the world: it is proved alone, after those
    before it and before those after, as serially (an allowed s3:DeleteObject is put back by
    its undo, and the next expectation's s3:GetObject of that object must not run between; a
    kms:CreateGrant's grant, until revoked, allows its grantee more)."""
    batch: list[Ready] = []
    for item in ready:
        if item.spec.operation.startswith(CHANGING) or undo_for(ctx, item.spec) is not None or item.spec.setup is not None:
            if batch:
                yield batch
            yield [item]
            batch = []
        else:
            batch.append(item)
    if batch:
        yield batch


@contextlib.contextmanager
def serial_client_making(backend: Any) -> Iterator[None]:
    """While the pool runs, clients are made (or found) one thread at a time: a boto3 Session
    is not thread-safe (boto3 Developer Guide, "Multithreading or multiprocessing with clients"),
    and an undo or a check may ask the backend for orchestrate's own client on its way."""
    lock, make = threading.Lock(), backend.client

    def client(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return make(*args, **kwargs)

    setattr(backend, "client", client)
    try:
        yield
    finally:
        delattr(backend, "client")


def settled(ctx: RunContext, outcome: StateResult, workers: int) -> None:
    """The state's settle time and the expectation that took longest (where the state waited)."""
    seconds = [v.settle_seconds for v in outcome.verdicts]
    if not ctx.backend.eventually_consistent:
        outcome.settle_seconds = max(seconds, default=0.0)
        return
    outcome.settle_seconds = _wall(outcome.verdicts) if workers > 1 else sum(seconds)
    waited = [v for v in outcome.verdicts if v.attempts > 1]
    outcome.last_to_settle = max(waited, key=lambda v: v.settle_seconds).index if waited else None


def _wall(verdicts: list[Verdict]) -> float:
    """The pool's wall clock, from the first observation to the last one's end."""
    windows = [(v.observed_at, v.observed_at + v.settle_seconds) for v in verdicts if v.observed_at is not None]
    return max(end for _, end in windows) - min(start for start, _ in windows) if windows else 0.0


def describe_failure(ctx: RunContext, error: Exception) -> str | None:
    """One line for a failure of the run itself; None for anything else (a bug of ours)."""
    if isinstance(error, BackendFailure):  # a conflict, a lockout, the backend, an undo refused
        return str(error)
    explained = ctx.backend.failure(error)
    if explained is not None:
        return str(explained)
    return describe_aws_error(error) if is_aws_failure(error) else None


def predictor(ctx: RunContext, desired: DesiredState, ciphertexts: dict[str, bytes],
              contextual: dict[tuple[str, Any], bytes] | None = None, sessions: dict[str, Any] | None = None) -> Any:
    """The gate that predicts: the embedded backend's own (moto's world), else one that reads the
    desired state (endpoint, real AWS), where the ciphertexts are filled in as expectations run;
    ``sessions``: session ARN -> SessionShape of the role sessions the state's expectations ask for."""
    gate = getattr(ctx.backend, "gate", None)
    if gate is not None:
        return gate
    from orchestrator.authz.gate.core import Gate
    from orchestrator.prove.desired_world import DesiredWorld

    return Gate(ctx.region, world=DesiredWorld(ctx, desired, ciphertexts, contextual, sessions))


def check(ctx: RunContext, keys: Callers, desired: DesiredState, expectation: Expectation, state: str,
          number: int, settle_config: Settle, probes: Probes, gate: Any = None) -> Verdict:
    """One expectation, prepared, observed and judged (as `prove` does serially)."""
    item = ready_to_observe(ctx, keys, desired, expectation, state, number, settle_config, probes)
    return item if isinstance(item, Verdict) else judged(ctx, keys, state, item, _observed(ctx, item), gate)


def judged(ctx: RunContext, keys: Callers, state: str, ready: Ready, observed: Observed, gate: Any) -> Verdict:
    """The verdict of an observed expectation, beside the engine's prediction."""
    expectation, number, spec = ready.expectation, ready.number, ready.spec
    if isinstance(observed, VerificationFailed):
        return errored(expectation, state, number, observed.code, f"failed verification: {observed}")
    if isinstance(observed, CallFailed):
        return errored(expectation, state, number, "CallFailed", f"the call failed: {observed}")
    if isinstance(observed, BaseException):
        raise observed
    (actual, attempts, seconds, stable), began = observed
    predicted = predict(gate, keys.arn(expectation.principal, shape_of(ctx, expectation)), spec) if gate is not None else None
    layer = deciding_layer(actual, predicted)
    reason = predicted.reason if predicted else (actual.message or "allowed")
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource, expectation.expect,
                      actual, predicted, layer, reason, expectation.error, expectation.layer, attempts, seconds,
                      observed_at=began, settled=stable)
    verdict.problems = judge(verdict)
    if not stable and not verdict.problems:  # allowed, denied, allowed ... is not settled
        verdict.problems.append(f"did not settle: {actual.word} did not hold for {ready.settle.consecutive} consecutive"
                                f" observations within {ready.settle.timeout_seconds:g} s ({attempts} observations)")
    return verdict


def offline(ctx: RunContext, desired: DesiredState, expectation: Expectation, state: str, number: int) -> Verdict:
    """`offline: true`: verified with the public key alone (asymmetric_calls.verify_offline); no call
    is made as the principal, so no policy is asked: the engine's prediction is allowed, by no
    authorization at all."""
    try:
        reason = verify_offline(ctx, desired, expectation)
    except Unprepared as error:
        return errored(expectation, state, number, "PreparationFailed", f"could not prepare the offline check: {error}")
    except VerificationFailed as error:
        return errored(expectation, state, number, error.code, f"failed verification: {error}")
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource, expectation.expect,
                      Outcome(True), Prediction(True, None, "no authorization: an offline check with the public key makes"
                                                " no AWS request"), None, reason, expectation.error, expectation.layer)
    verdict.problems = judge(verdict)
    return verdict


def prepare(ctx: RunContext, keys: Callers, desired: DesiredState, expectation: Expectation,
            probes: Probes) -> tuple[CallSpec, Any]:
    """The call and the principal's client. What AWS refuses on the way (a probe Encrypt, the
    principal's CreateAccessKey) is PreparationFailed; no answer at all ends the run."""
    try:
        spec = call_for(ctx, desired, expectation, probes)
        if expectation.principal == ANONYMOUS:  # unsigned: no credentials at all
            return spec, ctx.backend.anonymous_client(spec.service)
        return spec, ctx.backend.client(spec.service, keys.credentials(expectation.principal, expectation.via,
                                                                         shape_of(ctx, expectation)))
    except Exception as error:
        answer = getattr(error, "response", None)
        if not isinstance(answer, dict) or "Error" not in answer:
            raise
        operation = getattr(error, "operation_name", "call")
        who = expectation.principal if expectation.role else f"user:{expectation.principal}"
        via = "" if not expectation.via else f" via {expectation.via if expectation.chained_from else 'user:' + expectation.via}"
        raise PreparationFailed(f"could not prepare {expectation.action}: orchestrate's {operation} for {who}{via}"
                                f" failed with {answer['Error'].get('Code')}: "
                                f"{answer['Error'].get('Message', '')}") from None


def skip_reason(ctx: RunContext, desired: DesiredState, expectation: Expectation) -> str | None:
    """Why the backend cannot make the expectation's call as it describes it, else None. On real
    AWS a request goes through a VPC endpoint only when it is made from inside the endpoint's VPC,
    which the network decides, not the caller (PrivateLink Guide, "Access an AWS service using an
    interface VPC endpoint"; "Gateway endpoints": the VPC's route tables): orchestrate cannot
    choose it. Embedded and `serve` carry the endpoint to the gate (calls.py `expectation_transport`)."""
    if ctx.backend.kind != "aws" or expectation.vpc_endpoint is None:
        return None
    vpc = desired.vpc_endpoints[expectation.vpc_endpoint].vpc
    return (f"through VPC endpoint {expectation.vpc_endpoint} (in {vpc}): on real AWS a request goes through a VPC"
            " endpoint only from inside its VPC, and orchestrate cannot choose it (it is proved on the embedded"
            " backend and against `orchestrate serve`)")


def skipped(expectation: Expectation, state: str, number: int, reason: str) -> Verdict:
    """The verdict of an expectation that was not called (`skip_reason`): no pass, no failure."""
    return Verdict(state, number, expectation.principal, expectation.action, expectation.resource,
                   expectation.expect, Outcome(False, None, reason, skipped=True), None, None, reason)


def errored(expectation: Expectation, state: str, number: int, code: str, message: str) -> Verdict:
    """The verdict of an expectation whose call could not be made or answered a non-decision."""
    verdict = Verdict(state, number, expectation.principal, expectation.action, expectation.resource,
                      expectation.expect, Outcome(False, code, message, errored=True), None, None, message)
    verdict.problems = [message]
    return verdict


def judge(verdict: Verdict) -> list[str]:
    problems = []
    if verdict.actual.word != verdict.expected:
        problems.append(f"expected {verdict.expected}, was {verdict.actual.word}")
    if verdict.expected_error and not verdict.actual.allowed and verdict.actual.code != verdict.expected_error:
        problems.append(f"expected error {verdict.expected_error}, was {verdict.actual.code}")
    if verdict.expected_layer and not verdict.actual.allowed and verdict.layer != verdict.expected_layer:
        problems.append(f"expected the {verdict.expected_layer} to decide, was {verdict.layer or 'unknown'}")
    return problems


def access_changes(result: RunResult) -> list[dict[str, str]]:
    """Per state after the first: who gained or lost which action on which resource."""
    changes = []
    previous: dict[tuple[str, str, str], Outcome] = {}
    for position, state in enumerate(result.states):
        # an error verdict decided nothing: it neither gains nor loses access
        current = {(v.principal, v.action, v.resource): v.actual for v in state.verdicts if not v.actual.errored}
        if position > 0:
            for request, outcome in sorted(current.items()):
                before = previous.get(request)
                if before is not None and before.allowed != outcome.allowed:
                    principal, action, resource = request
                    changes.append({"state": state.name, "principal": principal, "action": action, "resource": resource,
                                    "change": "gained" if outcome.allowed else "lost"})
        previous.update(current)
    return changes

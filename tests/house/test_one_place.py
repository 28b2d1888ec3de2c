"""The house rules about things said once (issue 22, item 12): ARNs are built and read apart only in
orchestrator/arns.py, and the literals every module needs (the default account and region) are
defined once and imported."""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
ARNS = "orchestrator/arns.py"
#: (module, rule): what is not an ARN although it looks like one to the scan.
ALLOWED = {
    ("orchestrator/authz/engine/public.py", "split"): "a condition operator's ForAllValues:/ForAnyValue: prefix",
    ("orchestrator/prove/calls.py", "split"): "an action's service:operation",
    ("orchestrator/imports/intrinsics.py", "pattern"): "patterns over a template's ⟦account⟧ placeholders",
}


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}


def _formatted_parts(tree: ast.AST) -> set[int]:
    return {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}


def _arn_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("arn:") and node.value != "arn:"


def _rule(node: ast.AST, skip: set[int]) -> str | None:
    """Which rule ``node`` breaks: an ARN spelt out (an f-string or text starting ``arn:``),
    split at its colons, or matched by a regular expression of its own."""
    if isinstance(node, ast.JoinedStr) and node.values and _arn_text(node.values[0]):
        return "built"
    if _arn_text(node) and id(node) not in skip:
        return "built"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
        first = node.args[0]
        text = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
        if node.func.attr in ("split", "rsplit") and text == ":":
            return "split"
        if node.func.attr in ("compile", "match", "fullmatch", "search") and text is not None and "arn:" in text:
            return "pattern"
    return None


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix() if path.is_relative_to(PACKAGE.parent) else path.name


def _scan(path: Path, home: str, problem: Callable[[ast.AST, set[int], str], str | None]) -> Iterator[str]:
    """``problem``'s findings in the module at ``path`` (none in ``home``, where the thing is said),
    docstrings and the text pieces of f-strings (prose, parts of a value) passed over."""
    relative = _relative(path)
    if relative == home:
        return
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree) | _formatted_parts(tree)
    for node in ast.walk(tree):
        if (found := problem(node, skip, relative)) is not None:
            yield f"{relative}:{node.lineno}: {found}"


def _everywhere(check: Callable[[Path], Iterator[str]]) -> list[str]:
    return [problem for path in sorted(PACKAGE.rglob("*.py")) for problem in check(path)]


def _in_sample(tmp_path: Path, text: str, check: Callable[[Path], Iterator[str]]) -> list[str]:
    """What ``check`` finds in a module of ``text``, without the place."""
    sample = tmp_path / "sample.py"
    sample.write_text(text)
    return [problem.split(": ", 1)[1] for problem in check(sample)]


def _arn_problem(node: ast.AST, skip: set[int], relative: str) -> str | None:
    rule = _rule(node, skip)
    return None if rule is None or (relative, rule) in ALLOWED else f"ARN {rule} by hand (use {ARNS})"


def arn_handling(path: Path) -> Iterator[str]:
    return _scan(path, ARNS, _arn_problem)


def test_arns_are_built_and_read_in_one_module() -> None:
    found = _everywhere(arn_handling)
    assert not found, "\n".join(found)


def test_the_arn_check_finds_each_kind(tmp_path: Path) -> None:
    text = ('"""arn:aws:iam::1:root in a docstring is prose."""\nimport re\n'
            'A = f"arn:aws:iam::{1}:root"\nB = "arn:aws:s3:::b"\nC = "x".split(":")\n'
            'D = re.compile(r"^arn:aws:iam::")\nE = "x".startswith("arn:")\n')
    assert sorted(_in_sample(tmp_path, text, arn_handling)) == sorted([
        "ARN built by hand (use orchestrator/arns.py)", "ARN built by hand (use orchestrator/arns.py)",
        "ARN split by hand (use orchestrator/arns.py)", "ARN pattern by hand (use orchestrator/arns.py)"])


CONSTANTS = "orchestrator/constants.py"
#: Literals said once, in orchestrator/constants.py; everywhere else they are imported by name.
SAID_ONCE = {"123456789012": "DEFAULT_ACCOUNT", "us-east-1": "DEFAULT_REGION or US_EAST_1",
             "AKIAORCHESTRATEADMIN0": "ADMIN_KEY_ID", "orchestrate:": "TAG_PREFIX",
             "orchestrate:scenario": "TAG_SCENARIO", "orchestrate:run": "TAG_RUN", "orchestrate:name": "TAG_NAME"}


def _literal_problem(node: ast.AST, skip: set[int], relative: str) -> str | None:
    if isinstance(node, ast.Constant) and id(node) not in skip and isinstance(node.value, str) and node.value in SAID_ONCE:
        return f"{node.value!r} again (import {SAID_ONCE[node.value]} from {CONSTANTS})"
    return None


def repeated_literals(path: Path) -> Iterator[str]:
    return _scan(path, CONSTANTS, _literal_problem)


def test_the_shared_literals_are_defined_once() -> None:
    found = _everywhere(repeated_literals)
    assert not found, "\n".join(found)


def test_the_literal_check_finds_a_repeat(tmp_path: Path) -> None:
    text = '"""Runs in us-east-1."""\nREGION = "us-east-1"\nSEED = f"orchestrate:{1}"\n'
    assert _in_sample(tmp_path, text, repeated_literals) == [
        "'us-east-1' again (import DEFAULT_REGION or US_EAST_1 from orchestrator/constants.py)"]

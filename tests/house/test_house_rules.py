"""The house rules that anyone can check (HOUSE.md; issue 20): the policy engine imports no moto,
boto3 or botocore, and no module of orchestrator/ keeps mutable state at module level (a cache is
an object its owner holds)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "orchestrator"
ENGINE = PACKAGE / "authz" / "engine"
_MUTABLE_CALLS = {"dict", "list", "set", "defaultdict", "OrderedDict", "deque", "WeakValueDictionary",
                  "WeakKeyDictionary", "Counter"}
_CACHES = {"lru_cache", "cache", "cached_property"}


def _engine_modules() -> list[str]:
    return sorted(f"orchestrator.authz.engine.{p.stem}" for p in ENGINE.glob("*.py") if p.stem != "__init__")


def test_the_engine_imports_no_aws_sdk_nor_moto() -> None:
    modules = _engine_modules()
    assert len(modules) >= 10
    script = ("import sys\n" + "".join(f"import {m}\n" for m in modules) +
              "print(sorted({n.split('.')[0] for n in sys.modules} & {'moto', 'boto3', 'botocore'}))")
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]", found.stdout


def _empty_container(value: ast.expr | None) -> bool:
    if isinstance(value, (ast.Dict, ast.List, ast.Set)):
        return not (value.keys if isinstance(value, ast.Dict) else value.elts)
    if isinstance(value, ast.Call):
        name = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
        return name in _MUTABLE_CALLS
    return False


def _cache_decorator(decorator: ast.expr) -> str | None:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name if name in _CACHES - {"cached_property"} else None


def module_state(path: Path) -> list[str]:
    """Module-level empty containers (a cache or a registry filled at run time) and functions
    memoised by functools at module level."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if _empty_container(value):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: module-level mutable container")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if _cache_decorator(decorator):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: module-level memo on {node.name}")
    return found


def test_no_module_keeps_mutable_state_at_module_level() -> None:
    found = [problem for path in sorted(PACKAGE.rglob("*.py")) for problem in module_state(path)]
    assert not found, "\n".join(found)


def test_the_check_finds_a_module_cache(tmp_path: Path) -> None:
    sample = PACKAGE / "_house_sample.py"
    try:
        sample.write_text("import functools\n_seen: dict[str, int] = {}\n@functools.lru_cache(maxsize=8)\ndef f(x): return x\n"
                          "CONSTANT = {'a': 1}\n")
        assert [p.split(": ", 1)[1] for p in module_state(sample)] == [
            "module-level mutable container", "module-level memo on f"]
    finally:
        sample.unlink()

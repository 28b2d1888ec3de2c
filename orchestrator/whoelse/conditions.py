"""A condition as a formula over the request, as ``engine/conditions.py`` checks it (IAM User Guide,
"IAM JSON policy elements: Condition operators", "Single-valued vs. multivalued context keys",
"Condition operators: ...IfExists", "Null condition operator"; "IAM policy elements: Variables and
tags" for ``${...}`` in values).

* absent key: a set operator gives ``ForAllValues`` true, ``ForAnyValue`` false; otherwise
  ``...IfExists`` or a negated operator is true;
* present: ``ForAllValues`` (and a negated operator without a set prefix) needs every value to
  satisfy it, else one value suffices; a value of another type than the operator's satisfies
  neither the operator nor its negation;
* policy variables resolve from single-valued keys (or their default), and their text is matched
  literally: with ``StringEquals`` / ``StringNotEquals`` any template is encoded, with the ``Like`` /
  ARN operators only templates whose literal parts have no wildcard.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

import z3

from orchestrator.authz.engine.conditions import ALL, Condition
from orchestrator.authz.engine.operators import parse_date, parse_network, parse_number
from orchestrator.authz.engine.variables import VARIABLE, Segments, Template, has_variables, static_segments
from orchestrator.whoelse.gaps import Gaps
from orchestrator.whoelse.keys import Keys, operator_sort
from orchestrator.whoelse.symbols import INTEGER, STRING, WHOLE, IpValue, KeyVar, Slot
from orchestrator.whoelse.text import arn_regex, arn_shaped, glob_regex, ignore_case_regex, sval

__all__ = ["encode_condition"]

#: A tester's two answers for one value: (of the operator's type, matches one of the policy values).
Test = Callable[[Slot], tuple[z3.BoolRef, z3.BoolRef]]
_TRUE, _FALSE = z3.BoolVal(True), z3.BoolVal(False)


def encode_condition(condition: Condition, keys: Keys, gaps: Gaps, where: str) -> z3.BoolRef:
    """The formula of one condition; ``where`` names its statement in a gap's reason."""
    if not condition.known:
        return gaps.opaque(f"{where}: condition operator {condition.operator} is unknown")
    key = keys.get(condition.key_l)
    present = key.present
    if condition.base == "Null":
        absent = z3.Not(present)
        return z3.Or(*[absent if v == "true" else present for v in condition.null_values if v in ("true", "false")])
    sort = operator_sort(condition.base)
    if sort is None or not (sort == key.sort or (key.sort == INTEGER and sort in WHOLE)):
        return gaps.opaque(f"{where}: {condition.operator} on {condition.key} ({key.sort} key) is outside the encoding")
    if condition.set_op is not None:
        when_absent = _TRUE if condition.set_op == ALL else _FALSE
    else:
        when_absent = _TRUE if (condition.if_exists or condition.negated) else _FALSE
    built = _tester(condition, keys, gaps, where)
    if built is None:
        return gaps.opaque(f"{where}: {condition.operator} {condition.key} with policy variables is outside the encoding")
    test, resolvable = built
    applied = _apply(condition, key, test)
    if condition.negated:
        applied = z3.And(resolvable, applied)
    return z3.If(present, applied, when_absent)


def _apply(condition: Condition, key: KeyVar, test: Test) -> z3.BoolRef:
    negated = condition.negated
    outcomes = []
    for slot in key.slots:
        typed, match = test(slot)
        outcomes.append((slot.present, z3.And(typed, z3.Not(match) if negated else match)))
    if condition.set_op == ALL or (condition.set_op is None and negated):
        return z3.And(*[z3.Implies(present, outcome) for present, outcome in outcomes])
    return z3.Or(*[z3.And(present, outcome) for present, outcome in outcomes])


def _tester(condition: Condition, keys: Keys, gaps: Gaps, where: str) -> tuple[Test, z3.BoolRef] | None:
    """The tester of the condition's values, and when its variables all resolve (for a negated
    operator, an unresolvable value makes the condition false: ``Condition._resolved``)."""
    base = condition.base
    if any(has_variables(t) for t in condition.templates):
        return _variable_tester(condition, keys)
    values = tuple(static_segments(t) for t in condition.templates)
    return _static_tester(base, values), _TRUE


def _texts(values: tuple[Segments, ...]) -> list[str]:
    return ["".join(text for text, _ in segments) for segments in values]


def _static_tester(base: str, values: tuple[Segments, ...]) -> Test:
    texts = _texts(values)
    if base == "StringEquals":
        wanted = [sval(t) for t in dict.fromkeys(texts)]
        return lambda slot: (_TRUE, z3.Or(*[slot.value == w for w in wanted]) if wanted else _FALSE)
    if base == "StringEqualsIgnoreCase":
        regex = ignore_case_regex(sorted({t.lower() for t in texts}))
        return lambda slot: (_TRUE, z3.InRe(slot.value, regex))
    if base == "StringLike":
        if any(v == (("*", False),) for v in values):
            return lambda slot: (_TRUE, _TRUE)
        regex = glob_regex(values)
        return lambda slot: (_TRUE, z3.InRe(slot.value, regex))
    if base in ("ArnEquals", "ArnLike"):
        return _arn_tester(values)
    if base == "Bool":
        wanted = {t.lower() for t in texts}
        return lambda slot: (z3.Not(slot.bad), z3.Or(z3.And(slot.value, z3.BoolVal("true" in wanted)),
                                                     z3.And(z3.Not(slot.value), z3.BoolVal("false" in wanted))))
    if base == "IpAddress":
        networks = [n for n in (parse_network(t) for t in texts) if n is not None]
        return lambda slot: (z3.Not(slot.bad), z3.Or(*[_in_network(slot.value, n) for n in networks]) if networks else _FALSE)
    return _ordered_tester(base, texts)


def _arn_tester(values: tuple[Segments, ...]) -> Test:
    shaped = arn_shaped()
    if any(v == (("*", False),) for v in values):
        return lambda slot: (z3.InRe(slot.value, shaped), _TRUE)
    regex = arn_regex(values)
    return lambda slot: (z3.InRe(slot.value, shaped), z3.InRe(slot.value, regex))


_COMPARE: dict[str, Callable[[Any, Any], z3.BoolRef]] = {
    "Equals": lambda a, b: a == b, "LessThan": lambda a, b: a < b, "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b, "GreaterThanEquals": lambda a, b: a >= b,
}


def _ordered_tester(base: str, texts: list[str]) -> Test:
    """Numeric* and Date*: the key's integer against each policy value, compared exactly (a policy
    value of 1.5 is a rational, not rounded)."""
    numeric = base.startswith("Numeric")
    compare = _COMPARE[base[len("Numeric"):] if numeric else base[len("Date"):]]
    parse = parse_number if numeric else parse_date
    limits = [z3.RealVal(Fraction(n)) for n in (parse(t) for t in texts) if n is not None]

    def test(slot: Slot) -> tuple[z3.BoolRef, z3.BoolRef]:
        value = z3.ToReal(slot.value)
        return z3.Not(slot.bad), (z3.Or(*[compare(value, limit) for limit in limits]) if limits else _FALSE)
    return test


def _in_network(value: IpValue, network: Any) -> z3.BoolRef:
    width = 32 if network.version == 4 else 128
    bits = value.v4 if width == 32 else value.v6bits
    mask = ((1 << width) - 1) ^ ((1 << (width - network.prefixlen)) - 1)
    inside = (bits & z3.BitVecVal(mask, width)) == z3.BitVecVal(int(network.network_address) & mask, width)
    return z3.And(value.v6 if width == 128 else z3.Not(value.v6), inside)


def _variable_tester(condition: Condition, keys: Keys) -> tuple[Test, z3.BoolRef] | None:
    """Templates with ``${...}``: each resolves to a string expression (matched literally)."""
    base = condition.base
    if base not in ("StringEquals", "StringLike", "ArnEquals", "ArnLike"):
        return None
    resolved = []
    for template in condition.templates:
        if base != "StringEquals" and _has_wildcard(template):
            return None
        made = _resolve(template, keys)
        if made is None:
            return None
        resolved.append(made)
    resolvable = z3.And(*[ok for ok, _ in resolved])
    shaped = arn_shaped()

    def test(slot: Slot) -> tuple[z3.BoolRef, z3.BoolRef]:
        match = z3.Or(*[z3.And(ok, slot.value == text) for ok, text in resolved])
        typed = z3.InRe(slot.value, shaped) if base.startswith("Arn") else _TRUE
        return typed, match
    return test, resolvable


def resolve_variable(key: str, default: str | None, keys: Keys) -> tuple[z3.BoolRef, z3.SeqRef] | None:
    """(resolves, text) of one ``${key}`` or ``${key, 'default'}`` (``variables.resolve``: a
    single value, else the default); None for a key that is not a single-valued string key."""
    if not key:   # malformed: never resolves
        return z3.BoolVal(False), sval("")
    var = keys.get(key)
    if var.sort != STRING or len(var.slots) != 1:
        return None
    slot = var.slots[0]
    if default is None:
        return slot.present, slot.value
    return z3.BoolVal(True), z3.If(slot.present, slot.value, sval(default))


def _has_wildcard(template: Template) -> bool:
    return any(kind == 0 and ("*" in text or "?" in text) for kind, text, _, _ in template)


def _resolve(template: Template, keys: Keys) -> tuple[z3.BoolRef, z3.SeqRef] | None:
    """(resolves, text) of a template (``variables.resolve``); None when a variable reads a key
    that is not a single-valued string key."""
    parts: list[z3.SeqRef] = []
    ok: list[z3.BoolRef] = []
    for kind, text, default, _ in template:
        if kind != VARIABLE:
            parts.append(sval(text))
            continue
        resolved = resolve_variable(text, default, keys)
        if resolved is None:
            return None
        ok.append(resolved[0])
        parts.append(resolved[1])
    joined = parts[0] if len(parts) == 1 else z3.Concat(*parts)
    return (z3.And(*ok) if ok else z3.BoolVal(True)), joined


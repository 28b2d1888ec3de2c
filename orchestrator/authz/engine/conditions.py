"""Condition block compilation and evaluation.

Follows the IAM User Guide, "IAM JSON policy elements: Condition",
"Condition operators" and "Single-valued vs. multivalued context keys":

* several operators in a block, and several keys under one operator, are
  ANDed; several values for one key are ORed;
* key names are case-insensitive, values case-sensitive except for the
  ``...IgnoreCase`` operators;
* an absent key makes a positive operator false and a negated operator
  (``StringNotEquals``, ``NotIpAddress``, ``ArnNotLike`` ...) true;
  ``...IfExists`` is true when the key is absent; ``Null: true`` means absent;
* ``ForAnyValue:`` — at least one request value satisfies the operator (false
  when the key is absent); ``ForAllValues:`` — every request value satisfies
  it (true when the key is absent or empty);
* without a set prefix a multivalued key satisfies a positive operator when
  any of its values matches and a negated operator when none does;
* an unknown operator never matches (rejecting it is the loader's job).
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.authz.engine.operators import BASES, NEGATIONS, Tester, build_tester
from orchestrator.authz.engine.variables import Lookup, Segments, Template, has_variables, literal_template, parse_template, resolve, static_segments

__all__ = ["Condition", "compile_conditions", "parse_operator", "ANY", "ALL"]

ANY, ALL = "any", "all"
_SHOWN_VALUES = 5          # values quoted in a failed condition's description
_CANONICAL = {name.lower(): name for name in (*BASES, *NEGATIONS, "Null")}


def parse_operator(name: str) -> tuple[str | None, str, bool, bool] | None:
    """(set prefix, base operator, negated, IfExists) or None when unknown."""
    set_op: str | None = None
    rest = name
    lowered = name.lower()
    if lowered.startswith("forallvalues:"):
        set_op, rest = ALL, name[len("ForAllValues:"):]
    elif lowered.startswith("foranyvalue:"):
        set_op, rest = ANY, name[len("ForAnyValue:"):]
    if_exists = rest.lower().endswith("ifexists")
    core = _CANONICAL.get((rest[:-len("IfExists")] if if_exists else rest).lower())
    if core is None or (core == "Null" and (if_exists or set_op)):
        return None
    if core in NEGATIONS:
        return set_op, NEGATIONS[core], True, if_exists
    return set_op, core, False, if_exists


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _values(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, (list, tuple)):
        return tuple(_value_text(v) for v in raw)
    return (_value_text(raw),)


def _outcome(result: bool | None, negated: bool) -> bool:
    return result is False if negated else result is True


class Condition:
    """One (operator, key, values) triple of a Condition block."""

    __slots__ = ("operator", "key", "key_l", "set_op", "base", "negated", "if_exists",
                 "known", "values", "templates", "tester", "null_values", "simple")

    def __init__(self, operator: str, key: str, raw: Any, variables: bool) -> None:
        self.operator, self.key, self.key_l = operator, key, key.lower()
        parsed = parse_operator(operator)
        self.known = parsed is not None
        self.set_op, self.base, self.negated, self.if_exists = parsed or (None, "", False, False)
        texts = _values(raw)
        self.values = texts
        self.null_values = tuple(t.lower() for t in texts)
        make = parse_template if variables else literal_template
        self.templates: tuple[Template, ...] = tuple(make(t) for t in texts)
        self.tester: Tester | None = None
        if self.known and self.base != "Null" and not any(has_variables(t) for t in self.templates):
            self.tester = build_tester(self.base, tuple(static_segments(t) for t in self.templates))
        #: A positive operator without a set prefix whose values hold no variable (most conditions):
        #: :meth:`check` decides it in one loop.
        self.simple = self.tester is not None and self.set_op is None and not self.negated

    def check(self, context: Lookup, missing: list[str]) -> bool:
        """Does the request context satisfy this condition?"""
        if self.simple:
            values = context.get(self.key_l)
            if not values:
                missing.append(self.key)
                return self.if_exists
            tester: Tester = self.tester  # type: ignore[assignment]  # set whenever simple is
            for value in values:
                if tester(value) is True:   # a value of another type (None) does not satisfy it
                    return True
            return False
        if not self.known:
            return False
        values = context.get(self.key_l)
        if self.base == "Null":
            absent = not values
            return any((v == "true") == absent for v in self.null_values if v in ("true", "false"))
        if not values:
            missing.append(self.key)
            if self.set_op is not None:
                return self.set_op == ALL
            return self.if_exists or self.negated
        tester = self.tester or self._resolved(context, missing)
        return tester is not None and self._apply(tester, values)

    def _apply(self, tester: Tester, values: tuple[str, ...]) -> bool:
        negated = self.negated
        if self.set_op == ALL or (self.set_op is None and negated):
            return all(_outcome(tester(v), negated) for v in values)
        return any(_outcome(tester(v), negated) for v in values)

    def _resolved(self, context: Lookup, missing: list[str]) -> Tester | None:
        resolved: list[Segments] = []
        for template in self.templates:
            segments = resolve(template, context, missing)
            if segments is None:
                if self.negated:
                    return None        # unresolvable variable: the statement cannot apply
                continue
            resolved.append(segments)
        return build_tester(self.base, tuple(resolved))

    def describe(self, actual: Sequence[str] | None = None) -> str:
        """e.g. 'StringEquals kms:ViaService (expected "dynamodb.us-east-1.amazonaws.com", actual absent)'.

        ``actual`` is the request's value(s) of the key, None or empty when absent.
        """
        if not self.known:
            return f"unknown condition operator {self.operator}"
        # The policy's values are ORed; the request's values are a set.
        got = _shown(actual, "and") if actual else "absent"
        return f"{self.operator} {self.key} (expected {_shown(self.values, 'or')}, actual {got})"


def _shown(values: Sequence[str], conjunction: str) -> str:
    """Quoted values, at most a few: '"a"', '"a" or "b"', '"a", "b" ... and 3 more'."""
    quoted = [json.dumps(v) for v in values[:_SHOWN_VALUES]]
    rest = len(values) - len(quoted)
    if rest:
        return ", ".join(quoted) + f" {conjunction} {rest} more"
    if len(quoted) > 1:
        return ", ".join(quoted[:-1]) + f" {conjunction} " + quoted[-1]
    return quoted[0] if quoted else "nothing"


def compile_conditions(block: Any, variables: bool) -> tuple[Condition, ...]:
    """Compile a statement's Condition element (a mapping operator -> {key: values})."""
    if not isinstance(block, Mapping):
        return ()
    out: list[Condition] = []
    for operator, entries in block.items():
        if not isinstance(entries, Mapping):
            broken = Condition(str(operator), "", (), variables)
            broken.known = broken.simple = False
            out.append(broken)
            continue
        for key, raw in entries.items():
            out.append(Condition(str(operator), str(key), raw, variables))
    return tuple(out)

"""Condition operator value tests.

Follows the IAM User Guide, "IAM JSON policy elements: Condition operators":
string (exact, IgnoreCase, Like with ``*``/``?``), numeric (integer or
decimal), date (ISO 8601 or epoch seconds), Bool, BinaryEquals (base-64),
IpAddress (IPv4/IPv6 CIDR) and ARN operators (each of the six colon-delimited
components matched separately, with wildcards).  Negated operators share the
positive test of their base operator.

A *tester* takes one request value and returns True (matches one of the
policy values), False (matches none) or None (the value is not of the
operator's type — neither the operator nor its negation is satisfied).
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import math
import operator
import re
from datetime import datetime, timezone
from typing import Any, Callable

from orchestrator.authz.engine.matching import compile_glob
from orchestrator.authz.engine.variables import Segments, joined

__all__ = [
    "Tester", "BASES", "NEGATIONS", "build_tester", "parse_date", "parse_number", "parse_network", "decode_base64",
]

Tester = Callable[[str], "bool | None"]
Factory = Callable[[tuple[Segments, ...]], Tester]

_EPOCH = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_number(text: str) -> int | float | None:
    """An integer or decimal, or None."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_date(text: str) -> float | None:
    """Epoch seconds from ISO 8601 (UTC when no offset) or epoch seconds text."""
    text = text.strip()
    if _EPOCH.match(text):
        return float(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _texts(values: tuple[Segments, ...]) -> list[str]:
    return [joined(v) for v in values]


def _string_equals(values: tuple[Segments, ...]) -> Tester:
    wanted = frozenset(_texts(values))
    return lambda value: value in wanted


def _string_equals_ignore_case(values: tuple[Segments, ...]) -> Tester:
    wanted = frozenset(text.lower() for text in _texts(values))
    return lambda value: value.lower() in wanted


def _string_like(values: tuple[Segments, ...]) -> Tester:
    return compile_glob(values)


def _ordered(parse: Callable[[str], "int | float | None"], compare: Callable[[Any, Any], Any]) -> Factory:
    def factory(values: tuple[Segments, ...]) -> Tester:
        limits = [n for n in (parse(t) for t in _texts(values)) if n is not None]

        def test(value: str) -> bool | None:
            number = parse(value)
            if number is None:
                return None
            return any(compare(number, limit) for limit in limits)
        return test
    return factory


def _bool(values: tuple[Segments, ...]) -> Tester:
    wanted = frozenset(text.lower() for text in _texts(values))

    def test(value: str) -> bool | None:
        lowered = value.lower()
        return None if lowered not in ("true", "false") else lowered in wanted
    return test


def decode_base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _binary(values: tuple[Segments, ...]) -> Tester:
    wanted = frozenset(b for b in (decode_base64(t) for t in _texts(values)) if b is not None)

    def test(value: str) -> bool:
        decoded = decode_base64(value)
        return (decoded if decoded is not None else value.encode()) in wanted
    return test


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR block (a bare address is a /32 or /128), or None."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _ip(values: tuple[Segments, ...]) -> Tester:
    networks = [n for n in (parse_network(t) for t in _texts(values)) if n is not None]

    def test(value: str) -> bool | None:
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return None
        return any(address.version == n.version and address in n for n in networks)
    return test


def _arn_regex(segments: Segments) -> str:
    out: list[str] = []
    colons = 0
    for text, literal in segments:
        for ch in text:
            if ch == ":":
                colons += 1
            if literal or ch not in "*?":
                out.append(re.escape(ch))
            else:
                out.append(("[^:]" if colons < 5 else ".") + ("*" if ch == "*" else ""))
    return "".join(out)


def _arn(values: tuple[Segments, ...]) -> Tester:
    if any(v == (("*", False),) for v in values):
        return lambda value: value.count(":") >= 5
    sources = [_arn_regex(v) for v in values]
    regex = re.compile("(?:" + "|".join(sources) + r")\Z", re.DOTALL).match if sources else None

    def test(value: str) -> bool | None:
        if value.count(":") < 5:
            return None
        return regex is not None and regex(value) is not None
    return test


BASES: dict[str, Factory] = {
    "StringEquals": _string_equals,
    "StringEqualsIgnoreCase": _string_equals_ignore_case,
    "StringLike": _string_like,
    "NumericEquals": _ordered(parse_number, operator.eq),
    "NumericLessThan": _ordered(parse_number, operator.lt),
    "NumericLessThanEquals": _ordered(parse_number, operator.le),
    "NumericGreaterThan": _ordered(parse_number, operator.gt),
    "NumericGreaterThanEquals": _ordered(parse_number, operator.ge),
    "DateEquals": _ordered(parse_date, operator.eq),
    "DateLessThan": _ordered(parse_date, operator.lt),
    "DateLessThanEquals": _ordered(parse_date, operator.le),
    "DateGreaterThan": _ordered(parse_date, operator.gt),
    "DateGreaterThanEquals": _ordered(parse_date, operator.ge),
    "Bool": _bool,
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    "ArnEquals": _arn,
    "ArnLike": _arn,
}

#: negated operator -> its positive base
NEGATIONS: dict[str, str] = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def build_tester(base: str, values: tuple[Segments, ...]) -> Tester:
    """The tester of positive operator ``base`` over resolved policy values."""
    return BASES[base](values)

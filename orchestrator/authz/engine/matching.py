"""Action, resource and principal matching.

Follows the IAM User Guide, "IAM JSON policy elements": Action/NotAction
values are case-insensitive and may use ``*`` and ``?``; Resource/NotResource
values are case-sensitive globs over the whole ARN; the Principal element
names ``"*"``, an account (``"123456789012"`` or
``arn:aws:iam::123456789012:root`` — every principal of that account), or a
specific IAM user / role / assumed-role session ARN, and has no partial
wildcards.  How a statement names the caller matters to the decision ("AWS
JSON policy elements: Principal" and "Policy evaluation logic"): DIRECT (the
caller's own user or session ARN, or the root user of a named account),
EVERYONE (``"*"``), ROLE (the ARN of the role a session belongs to: limited by
the session's permissions boundary) or ACCOUNT (a named account: delegates to
that account's identity-based policies).  ``Service``, ``Federated`` and
``CanonicalUser`` principals never match an IAM identity.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from orchestrator.arns import ROLE_ARN, ROOT_ARN, SESSION_ARN
from orchestrator.authz.engine.request import Principal
from orchestrator.authz.engine.variables import Lookup, Segments, Template, has_variables, resolve, static_segments

__all__ = [
    "Matcher", "compile_glob", "glob_pattern", "ActionMatcher", "ResourceMatcher",
    "PrincipalMatcher", "DIRECT", "ROLE", "ACCOUNT", "EVERYONE", "action_matcher",
]

Matcher = Callable[[str], bool]
DIRECT, ROLE, ACCOUNT, EVERYONE = "principal", "role", "account", "everyone"

_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _always(_: str) -> bool:
    return True


def _never(_: str) -> bool:
    return False


def _segment_regex(text: str, literal: bool) -> str:
    if literal:
        return re.escape(text)
    return "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in text)


def glob_pattern(segments: Segments) -> str:
    """Regex source (unanchored) for one glob made of resolved segments."""
    return "".join(_segment_regex(text, literal) for text, literal in segments)


def _is_plain(segments: Segments) -> bool:
    for text, literal in segments:
        if not literal and ("*" in text or "?" in text):
            return False
    return True


def _star_parts(segments: Segments) -> list[str] | None:
    """Literal pieces between ``*`` wildcards; None when the glob uses ``?``."""
    parts = [""]
    for text, literal in segments:
        if literal:
            parts[-1] += text
            continue
        if "?" in text:
            return None
        pieces = text.split("*")
        parts[-1] += pieces[0]
        parts.extend(pieces[1:])
    return parts


def _star_matcher(parts: list[str]) -> Matcher:
    """Glob with ``*`` only: prefix, suffix and in-order pieces (leftmost match is optimal)."""
    first, last, middle = parts[0], parts[-1], [p for p in parts[1:-1] if p]
    shortest = len(first) + len(last) + sum(len(p) for p in middle)

    def match(value: str) -> bool:
        if len(value) < shortest or not value.startswith(first) or not value.endswith(last):
            return False
        position, end = len(first), len(value) - len(last)
        for part in middle:
            found = value.find(part, position, end)
            if found < 0:
                return False
            position = found + len(part)
        return True
    return match


def _any_of(matchers: list[Matcher]) -> Matcher:
    if len(matchers) == 1:
        return matchers[0]
    frozen = tuple(matchers)

    def match(value: str) -> bool:
        for matcher in frozen:
            if matcher(value):
                return True
        return False
    return match


def _regex_matcher(sources: list[str]) -> Matcher:
    regex = re.compile("(?:" + "|".join(sources) + r")\Z", re.DOTALL).match
    return lambda value: regex(value) is not None


def compile_glob(patterns: tuple[Segments, ...], regex: bool = False) -> Matcher:
    """One matcher for "any of these globs" (case-sensitive, whole string).

    By default ``*``-only globs use string searches (no regex compilation
    cost, best for patterns used a few times); ``regex=True`` folds every
    wildcard pattern into one compiled regex (best for hot multi-pattern
    elements).  Globs with ``?`` always use a regex.
    """
    exact: set[str] = set()
    matchers: list[Matcher] = []
    sources: list[str] = []
    for segments in patterns:
        if segments == (("*", False),):
            return _always
        if _is_plain(segments):
            exact.add("".join(text for text, _ in segments))
            continue
        parts = None if regex else _star_parts(segments)
        if parts is not None:
            matchers.append(_star_matcher(parts))
        else:
            sources.append(glob_pattern(segments))
    if sources:
        matchers.append(_regex_matcher(sources))
    if exact:
        matchers.insert(0, frozenset(exact).__contains__)
    return _any_of(matchers) if matchers else _never


def _wildcards(patterns: tuple[Segments, ...]) -> int:
    return sum(not _is_plain(p) for p in patterns)


class _Glob:
    """A compiled element: cheap string matching first, one regex once it is hot.

    ``match`` is an attribute so that, after ``HOT`` calls, it is replaced by
    the regex matcher with no per-call indirection.
    """

    __slots__ = ("match", "_patterns", "_quick", "_calls")
    HOT = 32

    def __init__(self, patterns: tuple[Segments, ...]) -> None:
        self._patterns = patterns
        self._quick = compile_glob(patterns)
        self._calls = 0
        self.match: Matcher = self._warm if _wildcards(patterns) > 1 else self._quick

    def _warm(self, value: str) -> bool:
        self._calls += 1
        if self._calls >= self.HOT:
            self.match = compile_glob(self._patterns, True)
        return self._quick(value)


def _plain(values: tuple[str, ...], special: str) -> bool:
    """True when no value holds a character of ``special`` (a wildcard or the ``$`` of a variable)."""
    text = "\0".join(values)
    return not any(ch in text for ch in special)


class _Exact:
    """An element of plain values: one set lookup, as :func:`compile_glob` makes of plain globs,
    without building segments or touching its cache (a statement compiled once per distinct
    policy, as ``orchestrate simulate`` does for every line, pays for that)."""

    __slots__ = ("match",)

    def __init__(self, values: frozenset[str]) -> None:
        self.match: Matcher = values.__contains__


class ActionMatcher(_Glob):
    """Case-insensitive Action/NotAction matcher; call ``match`` with a lower-case action."""

    __slots__ = ()

    def __init__(self, patterns: tuple[str, ...]) -> None:
        lowered = tuple(p.lower() for p in patterns)
        if _plain(lowered, "*?"):
            exact = frozenset(lowered).__contains__
            self._patterns, self._quick, self._calls, self.match = (), exact, 0, exact
            return
        super().__init__(tuple(((p, False),) for p in lowered))


def action_matcher(patterns: tuple[str, ...]) -> ActionMatcher:
    """The :class:`ActionMatcher` of one Action element (made once per compiled policy, which its
    engine's PolicyCache keeps)."""
    return ActionMatcher(patterns)


class ResourceMatcher:
    """Resource/NotResource matcher; templates may hold policy variables."""

    __slots__ = ("static", "templates")

    def __init__(self, templates: tuple[Template, ...]) -> None:
        dynamic = any(has_variables(t) for t in templates)
        self.templates = templates if dynamic else ()
        self.static: _Glob | _Exact | None = None if dynamic else _Glob(tuple(static_segments(t) for t in templates))

    @classmethod
    def of(cls, values: tuple[str, ...], make: Callable[[str], Template]) -> ResourceMatcher:
        """The matcher of a Resource/NotResource element's values (``make``: parse_template under
        policy variables, else literal_template). Plain ARNs (no ``*``, ``?`` or ``$``) are one
        set lookup, as their segments would compile to."""
        if not _plain(values, "*?$"):
            return cls(tuple(make(value) for value in values))
        matcher = cls.__new__(cls)
        matcher.templates, matcher.static = (), _Exact(frozenset(values))
        return matcher

    def matches(self, resource: str, context: Lookup, missing: list[str]) -> bool:
        if self.static is not None:
            return self.static.match(resource)
        resolved = [resolve(t, context, missing) for t in self.templates]
        usable = tuple(s for s in resolved if s is not None)
        return bool(usable) and compile_glob(usable)(resource)


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return ()


class PrincipalMatcher:
    """Compiled Principal / NotPrincipal element."""

    __slots__ = ("everyone", "accounts", "arns", "roles", "role_arns", "services")

    def __init__(self, element: Any) -> None:
        self.everyone = element == "*"
        accounts: set[str] = set()
        arns: set[str] = set()
        roles: set[tuple[str, str]] = set()
        aws = element.get("AWS", ()) if isinstance(element, dict) else ()
        for value in _strings(aws):
            self._add(value.strip(), accounts, arns, roles)
        self.accounts, self.arns, self.roles = frozenset(accounts), frozenset(arns), frozenset(roles)
        self.role_arns = frozenset(arn for arn in arns if ROLE_ARN.match(arn))
        #: AWS service principals named (``{"Service": ...}``), matched by a service caller only.
        self.services = frozenset(_strings(element.get("Service", ()))) if isinstance(element, dict) else frozenset()

    def _add(self, value: str, accounts: set[str], arns: set[str], roles: set[tuple[str, str]]) -> None:
        if value == "*":
            self.everyone = True
        elif _ACCOUNT_ID.match(value):
            accounts.add(value)
        elif (root := ROOT_ARN.match(value)) is not None:
            accounts.add(root["account"])
        else:
            arns.add(value)
            if (role := ROLE_ARN.match(value)) is not None:
                roles.add((role["account"], role["name"]))

    def match(self, principal: Principal) -> str | None:
        """How the element names ``principal`` (DIRECT, EVERYONE, ROLE, ACCOUNT), else None.

        When an element names the caller several ways the strongest wins, in
        that order: a grant to the caller's own ARN or to ``"*"`` needs nothing
        else, one to its role is limited by its permissions boundary, and one
        to its account only delegates.
        """
        if principal.type == "Service":  # IAM User Guide, "AWS service principals"
            return DIRECT if principal.arn in self.services else (EVERYONE if self.everyone else None)
        # A caller given as its role's ARN (simulate's CallerArn) stands for a session of the role.
        listed = principal.arn in self.arns
        if (listed and principal.arn not in self.role_arns) or (
                principal.type == "Account" and principal.account in self.accounts):
            return DIRECT
        if self.everyone:
            return EVERYONE
        if listed or self._session_of_role(principal):
            return ROLE
        return ACCOUNT if principal.account in self.accounts else None

    def excludes(self, principal: Principal) -> bool:
        """NotPrincipal semantics (IAM User Guide, "AWS JSON policy elements: NotPrincipal"): a
        principal is excluded only when its account *and* the principal itself are listed. For a
        role session that is the session's ARN: the request is made by the assumed-role session,
        so a NotPrincipal that names only the role's ARN still denies its sessions (the guide's
        example lists the session, the role and the account). A caller given as its role's ARN
        (simulate's CallerArn) is matched as that ARN."""
        if self.everyone:
            return True
        account_listed = principal.account in self.accounts
        if principal.type == "Account":
            return account_listed or principal.arn in self.arns
        return account_listed and principal.arn in self.arns

    def _session_of_role(self, principal: Principal) -> bool:
        if not self.roles or principal.type != "AssumedRole":
            return False
        session = SESSION_ARN.match(principal.arn)
        return session is not None and (session["account"], session["role"]) in self.roles

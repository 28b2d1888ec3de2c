"""Parse, validate, compile and cache policy documents.

Follows the IAM User Guide, "IAM JSON policy element reference" and "IAM JSON
policy elements: Version": policy variables are honoured only under
``"Version": "2012-10-17"``; ``Statement`` is an object or a list of objects.

Compiled policies are kept by a :class:`PolicyCache` that its owner holds: JSON
text by value, dict documents by identity.  A caller that has parsed the text
already (``orchestrate simulate`` validates each distinct policy first) hands
the mapping to :meth:`PolicyCache.compile_text`, so the text is parsed once.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orchestrator.authz.engine.statement import Statement
from orchestrator.errors import InvalidInputError

__all__ = ["PolicyError", "Policy", "PolicyCache", "load_document", "compile_policy"]

VARIABLES_VERSION = "2012-10-17"
VERSIONS = ("2012-10-17", "2008-10-17")
_EFFECTS = ("Allow", "Deny")
_CACHE_SIZE = 4096


class PolicyError(InvalidInputError, ValueError):
    """A policy document that cannot be interpreted (MalformedPolicyDocument)."""


#: Actions whose candidate statements a policy remembers (emptied when full).
_ACTIONS_SIZE = 256


class Policy:
    """A compiled policy: its Version and statements (a plain class: one is made per distinct
    document, and ``orchestrate simulate`` makes one per line)."""

    __slots__ = ("version", "statements", "_by_action")

    def __init__(self, version: str | None, statements: tuple[Statement, ...]) -> None:
        self.version, self.statements = version, statements
        #: Per lower-case action, the valid statements whose Action/NotAction element matches it:
        #: a pure function of the action, worked out once per action instead of once per request.
        self._by_action: dict[str, tuple[Statement, ...]] = {}

    def __repr__(self) -> str:
        return f"Policy(version={self.version!r}, statements={self.statements!r})"

    def candidates(self, action: str) -> tuple[Statement, ...]:
        """The statements that may apply to lower-case ``action``, in order (the rest of
        :meth:`Statement.applies` is for :meth:`Statement.applies_to_matched`)."""
        found = self._by_action.get(action)
        if found is None:
            found = tuple(statement for statement in self.statements if statement.action_matches(action))
            if len(self._by_action) >= _ACTIONS_SIZE:
                self._by_action.clear()
            self._by_action[action] = found
        return found


def load_document(document: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """The policy as a mapping; JSON text is parsed."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError as error:
            raise PolicyError(f"policy is not valid JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise PolicyError("policy must be a JSON object")
    return document


def _raw_statements(document: Mapping[str, Any]) -> list[Any]:
    raw = document.get("Statement")
    if isinstance(raw, Mapping):
        return [raw]
    if isinstance(raw, list) and raw:
        return raw
    raise PolicyError("policy needs a Statement object or a non-empty list of statements")


def compile_policy(document: Mapping[str, Any] | str, resource_based: bool,
                   action_matchers: dict[tuple[str, ...], Any] | None = None) -> Policy:
    """Compile a document; raises PolicyError when it cannot be interpreted."""
    mapping = load_document(document)
    version = mapping.get("Version")
    variables = version == VARIABLES_VERSION
    statements = []
    for index, raw in enumerate(_raw_statements(mapping)):
        if not isinstance(raw, Mapping):
            raise PolicyError(f"statement {index} is not a JSON object")
        if raw.get("Effect") not in _EFFECTS:
            raise PolicyError(f"statement {index} has Effect {raw.get('Effect')!r}; expected Allow or Deny")
        statements.append(Statement(raw, index, variables, resource_based, action_matchers))
    return Policy(version if isinstance(version, str) else None, tuple(statements))


class PolicyCache:
    """Compiled policies, bounded (emptied when full), held by whoever evaluates many requests (an
    :class:`~orchestrator.authz.engine.evaluate.Engine`): JSON text by value, dict documents by
    identity (the cache keeps a reference, so the identity is stable; a dict document must not be
    mutated after it has been evaluated)."""

    __slots__ = ("_texts", "_objects", "_actions")

    def __init__(self) -> None:
        #: Action matchers by Action element, shared by the policies compiled here.
        self._actions: dict[tuple[str, ...], Any] = {}
        self._texts: dict[tuple[str, bool], Policy] = {}
        #: Dict documents by identity: one table for identity-based, one for resource-based
        #: compilation (indexed by ``resource_based``, so that a lookup builds no key tuple).
        self._objects: tuple[dict[int, tuple[Any, Policy]], dict[int, tuple[Any, Policy]]] = ({}, {})

    def compile_text(self, text: str, resource_based: bool, parsed: Mapping[str, Any] | None = None) -> Policy:
        """:func:`compile_policy` of JSON ``text``, kept by value for :meth:`get`; ``parsed``: the
        caller's ``json.loads(text)``, so that the text is not parsed again."""
        key = (text, resource_based)
        policy = self._texts.get(key)
        if policy is None:
            policy = compile_policy(text if parsed is None else parsed, resource_based, self._actions)
            if len(self._texts) >= _CACHE_SIZE:
                self._texts.clear()
                self._actions.clear()
            self._texts[key] = policy
        return policy

    def get(self, document: Mapping[str, Any] | str, resource_based: bool) -> Policy:
        """Cached :func:`compile_policy`."""
        if isinstance(document, str):
            compiled = self._texts.get((document, resource_based))
            return compiled if compiled is not None else self.compile_text(document, resource_based)
        table = self._objects[resource_based]
        hit = table.get(id(document))
        if hit is not None and hit[0] is document:
            return hit[1]
        policy = compile_policy(document, resource_based, self._actions)
        if len(table) >= _CACHE_SIZE:
            table.clear()
        table[id(document)] = (document, policy)
        return policy

"""The JSON Schema of `states[].patch`, derived from the models' own schema.

A patch is a JSON Merge Patch (RFC 7386, see patch.py) over the resource sections: every field is
optional, `null` removes a field, objects merge (so their fields are patches too) and arrays
replace whole (so their items are whole values). Inside a policy document, `Statement` may also
be a mapping from Sid to a statement patch or null (patch.py, `patch_statements`). Entities and
sections cannot be removed or added by a state, so they are not nullable and unknown ones are
refused. What a schema cannot express (a Sid-addressed statement must end up complete, a patch
names declared entities) is left to `orchestrate validate`.
"""

from __future__ import annotations

import copy
from typing import Any

from orchestrator.model.patch import STATEMENT

DEFS = "#/$defs/"
SUFFIX = "Patch"
NULL: dict[str, Any] = {"type": "null"}
# Keywords that say what a whole value must be, but not what a patch of it must be.
WHOLE_VALUE_KEYWORDS = ("required", "default", "minProperties", "oneOf")
PATCH_ROOT = "Patch"


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema["anyOf"] if set(schema) == {"anyOf"} else [schema]
    if NULL in branches:
        return {"anyOf": branches}
    return {"anyOf": [*branches, NULL]}


class _PatchSchemas:
    """Makes `<Def>Patch` definitions on demand from the `$defs` of the models' schema."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.made: dict[str, Any] = {}

    def ref(self, name: str) -> dict[str, Any]:
        patch_name = name + SUFFIX
        if patch_name not in self.made:
            self.made[patch_name] = {}  # placeholder: definitions may refer to each other
            self.made[patch_name] = self.object_patch(self.defs[name])
        return {"$ref": DEFS + patch_name}

    def object_patch(self, schema: dict[str, Any]) -> dict[str, Any]:
        result = {k: v for k, v in schema.items() if k not in WHOLE_VALUE_KEYWORDS and k != "properties"}
        if "title" in schema:
            result["title"] = f"{schema['title']} patch"
        properties = {}
        for name, field in schema.get("properties", {}).items():
            patched = self.patch(field)
            if name == STATEMENT:
                patched = {"anyOf": [*patched["anyOf"], self.statements_by_sid()]} if "anyOf" in patched else patched
            properties[name] = nullable(patched)
        if properties:
            result["properties"] = properties
        if result.get("additionalProperties") is False:
            result["additionalProperties"] = NULL  # null for a field the model does not have removes nothing
        return result

    def patch(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The schema of a patch of a value that schema describes."""
        schema = {k: v for k, v in schema.items() if k != "default"}
        if "$ref" in schema:
            return self.ref(schema["$ref"].removeprefix(DEFS))
        if "anyOf" in schema:
            branches = [self.patch(branch) for branch in schema["anyOf"] if branch != NULL]
            return {**{k: v for k, v in schema.items() if k != "anyOf"}, "anyOf": branches}
        if schema.get("type") == "object":
            return self.map_patch(schema)
        return copy.deepcopy(schema)  # scalars, and arrays (a merge patch replaces an array whole)

    def map_patch(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A mapping of names to values (tags, inline policies, condition blocks): each entry a patch or null."""
        result = {k: v for k, v in schema.items() if k not in WHOLE_VALUE_KEYWORDS}
        if isinstance(schema.get("additionalProperties"), dict):
            result["additionalProperties"] = nullable(self.patch(schema["additionalProperties"]))
        if "patternProperties" in schema:
            result["patternProperties"] = {p: nullable(self.patch(s)) for p, s in schema["patternProperties"].items()}
        if "properties" in schema:
            return self.object_patch(schema)
        return result

    def statements_by_sid(self) -> dict[str, Any]:
        sid = next(b for b in self.defs["Statement"]["properties"]["Sid"]["anyOf"] if "pattern" in b)
        return {
            "type": "object",
            "description": "Statements addressed by Sid: a statement patch merges into (or adds) the statement with"
            " that Sid; null removes it.",
            "propertyNames": {"pattern": sid["pattern"]},
            "additionalProperties": nullable(self.ref("Statement")),
        }


#: Sections that are one object rather than entities by name, and the fields a state may patch
#: (the others, such as the organization's units, live for the whole scenario: loader/states.py).
PATCHABLE_FIELDS: dict[str, tuple[str, ...]] = {"organization": ("detach_full_aws_access", "scps", "rcps")}


def _entities_patch(maker: _PatchSchemas, declared: dict[str, Any]) -> dict[str, Any]:
    """Entities by name, each a patch; none removed or added (so neither null nor unknown names)."""
    entities = {pattern: maker.patch(value) for pattern, value in declared["patternProperties"].items()}
    return {"type": "object", "patternProperties": entities, "additionalProperties": False}


def _single_patch(maker: _PatchSchemas, defs: dict[str, Any], declared: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """One object (`organization`) of which a state patches ``fields``: a field that maps names to
    entities takes entity patches, any other a patch of its value."""
    branch = next(b for b in declared.get("anyOf", [declared]) if "$ref" in b)
    definition = defs[branch["$ref"].removeprefix(DEFS)]
    properties = {}
    for name in fields:
        value = definition["properties"][name]
        properties[name] = _entities_patch(maker, value) if "patternProperties" in value else nullable(maker.patch(value))
    return {"type": "object", "title": f"{definition.get('title', '')} patch".strip(), "properties": properties,
            "additionalProperties": False}


def patch_definitions(scenario_schema: dict[str, Any], sections: list[str]) -> dict[str, Any]:
    """`Patch` (the root: one entry per section, entity name to entity patch) and every `<Def>Patch` it uses."""
    maker = _PatchSchemas(scenario_schema["$defs"])
    properties = {}
    for section in sections:
        declared = scenario_schema["properties"][section]
        if section in PATCHABLE_FIELDS:
            properties[section] = _single_patch(maker, scenario_schema["$defs"], declared, PATCHABLE_FIELDS[section])
            continue
        properties[section] = _entities_patch(maker, declared)
    root = {
        "type": "object",
        "title": "Patch",
        "description": "A JSON Merge Patch (RFC 7386) over the declared resources: every field optional, null removes"
        " a field, arrays replace whole; a policy's Statement may be a mapping of Sid to statement patch or null.",
        "properties": properties,
        "additionalProperties": False,
    }
    return {PATCH_ROOT: root, **maker.made}

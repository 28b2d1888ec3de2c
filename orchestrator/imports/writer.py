"""The imported scenario as YAML, starting with the schema modeline every shipped scenario has
(README, "Scenarios"), a note that the expectations are proposed, and what was skipped."""

from __future__ import annotations

from typing import Any

import yaml

MODELINE = "# yaml-language-server: $schema=../schemas/scenario.schema.json"


class _Flow(dict[str, Any]):
    """A mapping written on one line (expectations, key attributes)."""


try:  # libyaml's emitter writes the same text ~15x faster: most of a large import's time was emitting
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


def _flow(dumper: _BaseDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(_Flow, _flow)


def scenario_text(scenario: dict[str, Any], source: str, notes: list[str], skipped: list[tuple[str, str]]) -> str:
    header = [MODELINE, f"# Imported from {source} by `orchestrate import`.",
              "# The expectations below are PROPOSED by orchestrate's engine: what it predicts each principal may do",
              "# with the policies as imported (\"who can read what today\"). Review and edit them before relying on them."]
    if skipped:
        header.append("# Skipped (resource types orchestrate does not declare): "
                      + ", ".join(f"{logical} ({kind})" for logical, kind in skipped))
    header += [f"# Note: {note}" for note in notes]
    return "\n".join(header) + "\n" + yaml.dump(_flowing(scenario), Dumper=_Dumper, sort_keys=False,
                                                 allow_unicode=True, width=120)


def _flowing(scenario: dict[str, Any]) -> dict[str, Any]:
    """Expectations and key attributes on one line each, as the shipped scenarios write them."""
    written = dict(scenario)
    written["states"] = [{**state, "expectations": [_Flow(e) for e in state.get("expectations", [])]}
                         for state in scenario["states"]]
    for table in (written.get("tables") or {}).values():
        for slot in ("partition_key", "sort_key"):
            if slot in table:
                table[slot] = _Flow(table[slot])
    return written

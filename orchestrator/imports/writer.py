"""The imported scenario as YAML, starting with the schema modeline every shipped scenario has
(README, "Scenarios"), a note that the expectations are proposed, and what was skipped or dropped.

The modeline names the schema where the editor finds it from the written file (yaml-language-server
resolves a relative `$schema` against the file's folder): relative to `-o FILE`, the schema of
this checkout or installation (`schemas/scenario.schema.json` beside the package); written to
standard output, where the file will be is unknown, so its absolute path (the command says so).
Without a schema on disk (an installation without the repository's `schemas/`), the schema's id.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from orchestrator.model.schema import SCHEMA_ID

if TYPE_CHECKING:
    from orchestrator.imports.resources import Imported

MODELINE_PREFIX = "# yaml-language-server: $schema="
#: The schema file `orchestrate schema` keeps committed, beside the package.
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "scenario.schema.json"
DEFAULT_SCHEMA = str(SCHEMA_FILE) if SCHEMA_FILE.is_file() else SCHEMA_ID


def schema_reference(output: Path | None) -> str:
    """The `$schema` the modeline of a scenario written to ``output`` (None: standard output) names."""
    if not SCHEMA_FILE.is_file():
        return SCHEMA_ID
    if output is None:
        return str(SCHEMA_FILE)
    folder = Path(os.path.abspath(output)).parent
    try:
        return Path(os.path.relpath(SCHEMA_FILE, folder)).as_posix()
    except ValueError:  # another drive (Windows): no relative path
        return str(SCHEMA_FILE)


def modeline(schema: str) -> str:
    return MODELINE_PREFIX + schema


class _Flow(dict[str, Any]):
    """A mapping written on one line (expectations, key attributes)."""


try:  # libyaml's emitter writes the same text ~15x faster: most of a large import's time was emitting
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


class _Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # one value shared by two entities (KMS's default key policy) is written twice, not as &id001/*id001


def _flow(dumper: _BaseDumper, value: _Flow) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


_Dumper.add_representer(_Flow, _flow)


def scenario_text(scenario: dict[str, Any], source: str, imported: Imported, schema: str = DEFAULT_SCHEMA) -> str:
    notes, skipped = imported.notes, imported.skipped
    header = [modeline(schema), f"# Imported from {source} by `orchestrate import`.",
              "# The expectations below are PROPOSED by orchestrate's engine: what it predicts each principal may do",
              "# with the policies as imported (\"who can read what today\"). Review and edit them before relying on them."]
    if skipped:
        header.append("# Skipped (resource types orchestrate does not declare): "
                      + ", ".join(f"{logical} ({kind})" for logical, kind in skipped))
    if any(bucket.get("objects") for bucket in imported.sections["buckets"].values()):
        header.append("# Each bucket seeds one object, orchestrate-probe.txt, so that who may read (s3:GetObject)"
                      " and write (s3:PutObject) its objects is proposed too.")
    header += [f"# Dropped: {line}" for line in dropped_lines(imported.dropped)]
    header += [f"# Note: {note}" for note in notes]
    return "\n".join(header) + "\n" + yaml.dump(_flowing(scenario), Dumper=_Dumper, sort_keys=False,
                                                 allow_unicode=True, width=120)


def dropped_lines(dropped: list[tuple[str, str, str]]) -> list[str]:
    """One line per resource and property the scenario language has no place for."""
    return [f"{logical}.{prop} ({kind}): not imported, the scenario language has no place for it"
            for logical, kind, prop in dropped]


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

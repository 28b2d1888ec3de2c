"""`orchestrate import`: a CloudFormation template as a scenario with one state, whose
expectations the engine proposes (CloudFormation User Guide, "Template anatomy" and the
"Resource and property reference" of each type mapped; see resources.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.imports.checks import check_entities
from orchestrator.imports.expectations import propose
from orchestrator.imports.intrinsics import ConditionCycle, Resolver
from orchestrator.imports.names import scenario_name
from orchestrator.imports.resources import Imported, import_resources, index_entities
from orchestrator.imports.template import MAX_BYTES, Template, TemplateError, read_template
from orchestrator.imports.validation import validated
from orchestrator.imports.writer import scenario_text
from orchestrator.loader.diagnostics import Diagnostic
from orchestrator.model.scenario import DesiredState

__all__ = ["MAX_BYTES", "ImportResult", "TemplateError", "import_template", "scenario_from_template"]
STATE = "imported"


@dataclass(frozen=True)
class ImportResult:
    scenario: dict[str, Any]
    notes: list[str]
    skipped: list[tuple[str, str]]
    text: str
    #: The loader's diagnostics for ``text`` (checked as `orchestrate validate` reads a file); "" when
    #: it validates. Not empty only through a bug: the importer leaves out what the loader refuses.
    problems: str = ""


def import_template(path: Path | str, region: str = "us-east-1", max_bytes: int = MAX_BYTES) -> ImportResult:
    """Read, map and propose; TemplateError when the template is unreadable, larger than
    ``max_bytes``, not CloudFormation, or its conditions refer to each other in a circle."""
    template = read_template(path, max_bytes)
    try:
        header, imported = scenario_from_template(template, region)
    except RecursionError:
        raise TemplateError(Diagnostic(str(template.path), 1, 1, "the template is nested too deeply to import")) from None
    except ConditionCycle as cycle:
        raise template.error(f"conditions refer to each other in a circle: {cycle}", ("Conditions", cycle.chain[0])) from None
    scenario: dict[str, Any] = {}

    def render() -> str:
        scenario.clear()
        scenario.update({field: header[field] for field in ("name", "description", "region") if field in header})
        scenario.update({section: entities for section, entities in imported.sections.items() if entities})
        desired = DesiredState.model_validate({section: scenario.get(section, {}) for section in imported.sections})
        scenario["states"] = [{"name": STATE, "expectations": propose(header["name"], desired, region)}]
        return scenario_text(scenario, str(template.path), imported.notes, imported.skipped)

    checked = validated(imported, render)
    return ImportResult(scenario, imported.notes, imported.skipped, checked.text, checked.problems)


def scenario_from_template(template: Template, region: str) -> tuple[dict[str, Any], Imported]:
    """The scenario's own fields (name, description, region, then its entities) and what was
    imported, with what was noted while mapping."""
    name = scenario_name(template.path, template.body)
    entities = index_entities(template.resources)
    resolver = Resolver(template.body, entities, region, name)
    imported = import_resources(template.resources, resolver, name)
    check_entities(imported)
    scenario: dict[str, Any] = {"name": name}
    description = template.body.get("Description")
    if isinstance(description, str) and description:
        scenario["description"] = description
    scenario["region"] = region
    scenario.update({section: entities for section, entities in imported.sections.items() if entities})
    return scenario, imported

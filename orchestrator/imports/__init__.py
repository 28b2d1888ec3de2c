"""`orchestrate import`: a CloudFormation template as a scenario with one state, whose
expectations the engine proposes (CloudFormation User Guide, "Template anatomy" and the
"Resource and property reference" of each type mapped; see resources.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from orchestrator.constants import DEFAULT_REGION
from orchestrator.imports import organization
from orchestrator.imports.checks import check_entities
from orchestrator.imports.expectations import propose
from orchestrator.imports.intrinsics import ConditionCycle, Resolver
from orchestrator.imports.names import scenario_name
from orchestrator.imports.parameters import ParameterError, parameter_values
from orchestrator.imports.resources import Imported, import_resources, index_entities
from orchestrator.imports.template import MAX_BYTES, Template, TemplateError, read_template
from orchestrator.imports.validation import validated
from orchestrator.imports.writer import DEFAULT_SCHEMA, scenario_text
from orchestrator.loader.diagnostics import Diagnostic
from orchestrator.model.scenario import DesiredState

#: The scenario sections the proposal's desired state is made of.
DESIRED = ("policies", "groups", "users", "roles", "keys", "tables", "buckets", "organization", "vpc_endpoints", "accounts")
__all__ = ["MAX_BYTES", "ImportResult", "ParameterError", "TemplateError", "import_template", "scenario_from_template"]
STATE = "imported"


@dataclass(frozen=True)
class ImportResult:
    scenario: dict[str, Any]
    notes: list[str]
    skipped: list[tuple[str, str]]
    text: str
    #: (logical id, type, property) of each property the scenario language has no place for.
    dropped: list[tuple[str, str, str]] = field(default_factory=list)
    #: The loader's diagnostics for ``text`` (checked as `orchestrate validate` reads a file); "" when
    #: it validates. Not empty only through a bug: the importer leaves out what the loader refuses.
    problems: str = ""


def import_template(path: Path | str, region: str = DEFAULT_REGION, max_bytes: int = MAX_BYTES,
                    parameters: dict[str, str] | None = None, schema: str = DEFAULT_SCHEMA) -> ImportResult:
    """Read, map and propose; TemplateError when the template is unreadable, larger than
    ``max_bytes``, not CloudFormation, or its conditions refer to each other in a circle;
    ParameterError for a ``parameters`` name the template does not declare or a value outside its
    AllowedValues. ``schema``: where the modeline points (writer.schema_reference)."""
    template = read_template(path, max_bytes)
    values = parameter_values(template.body, parameters or {})
    try:
        header, imported = scenario_from_template(template, region, values)
    except RecursionError:
        raise TemplateError(Diagnostic(str(template.path), 1, 1, "the template is nested too deeply to import")) from None
    except ConditionCycle as cycle:
        raise template.error(f"conditions refer to each other in a circle: {cycle}", ("Conditions", cycle.chain[0])) from None
    scenario: dict[str, Any] = {}

    def render() -> str:
        scenario.clear()
        scenario.update({field: header[field] for field in ("name", "description", "region") if field in header})
        scenario.update(_sections(imported))
        try:
            desired = DesiredState.model_validate({section: scenario[section] for section in DESIRED if section in scenario})
        except ValidationError:  # an entity the model refuses: the loader below names it at its line, and it goes
            expectations: list[dict[str, Any]] = []
        else:
            expectations = propose(header["name"], desired, region)
        scenario["states"] = [{"name": STATE, "expectations": expectations}]
        return scenario_text(scenario, str(template.path), imported, schema)

    checked = validated(imported, render)
    return ImportResult(scenario, imported.notes, imported.skipped, checked.text, imported.dropped, checked.problems)


def scenario_from_template(template: Template, region: str,
                           parameters: dict[str, Any] | None = None) -> tuple[dict[str, Any], Imported]:
    """The scenario's own fields (name, description, region, then its entities) and what was
    imported, with what was noted while mapping. Names are resolved first, by a resolver that
    knows the parameters but no entity yet; then every property by one that knows them all."""
    name = scenario_name(template.path, template.body)
    meanings = organization.meanings(template.body)
    names = Resolver(template.body, {}, region, name, parameters=parameters or {}, meanings=meanings)
    entities = index_entities(template.resources, names)
    entities.update(organization.entities(template.resources, names.resolve))
    resolver = Resolver(template.body, entities, region, name, notes=names.notes, parameters=parameters or {},
                        meanings=meanings)
    imported = import_resources(template.resources, resolver, name)
    check_entities(imported)
    scenario: dict[str, Any] = {"name": name}
    description = template.body.get("Description")
    if isinstance(description, str) and description:
        scenario["description"] = description
    scenario["region"] = region
    scenario.update(_sections(imported))
    return scenario, imported


def _sections(imported: Imported) -> dict[str, Any]:
    """The scenario's sections, the organization's and the endpoints' among them, when not empty."""
    found: dict[str, Any] = {"accounts": imported.extra["accounts"]} if imported.extra.get("accounts") else {}
    found.update({section: entities for section, entities in imported.sections.items() if entities})
    found.update({section: imported.extra[section] for section in ("organization", "vpc_endpoints")
                  if imported.extra.get(section)})
    return found

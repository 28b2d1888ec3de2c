"""`orchestrate export`: a scenario's desired state as a template a user deploys on its own.

`cloudformation.py` writes an AWS CloudFormation template (YAML), `terraform.py` Terraform
configuration (HCL); `references.py` maps scenario references (`user:NAME`, `key:NAME`, ...) to
each format's own references, so no ARN of orchestrate's is hard-coded; `notes.py` names what a
format cannot say (seed items in CloudFormation, a key pending deletion, entities of other
accounts). Both formats create resources with the names, paths and ownership tags orchestrate
uses itself, so an exported template deployed as is can be adopted by orchestrate (`drift`,
`apply`) for the same scenario and the default run.
"""

from __future__ import annotations

from orchestrator.export import cloudformation, terraform
from orchestrator.export.notes import Note
from orchestrator.export.render import Export, source
from orchestrator.loader import LoadedScenario

__all__ = ["Export", "Note", "export_state"]


def export_state(loaded: LoadedScenario, index: int, fmt: str) -> Export:
    """The state `index` of a loaded scenario as a template of `fmt` (cloudformation, terraform)."""
    writer = cloudformation.template if fmt == "cloudformation" else terraform.template
    return writer(source(loaded, index))

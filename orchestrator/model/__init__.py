"""The scenario language: Pydantic models, the only source of `schemas/*.json`."""

from orchestrator.model.scenario import DesiredState, Expectation, Scenario, State

__all__ = ["DesiredState", "Expectation", "Scenario", "State"]

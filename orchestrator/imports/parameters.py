"""`--parameter NAME=VALUE`: values given for a template's Parameters, in place of their defaults.

AWS CloudFormation User Guide, "Parameters" (template section): a value must be one of the
parameter's AllowedValues when it has some (CloudFormation refuses the stack otherwise); a
`CommaDelimitedList` or `List<...>` parameter's Ref is the list of its comma-separated values.
A name the template does not declare is refused, as `aws cloudformation deploy
--parameter-overrides` would leave it unused: a misspelt name would silently keep the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orchestrator.errors import InvalidInputError

__all__ = ["ParameterError", "parameter_values", "parse_assignments", "typed"]


class ParameterError(InvalidInputError, ValueError):
    """A `--parameter` the template cannot take: its message says why."""


def parse_assignments(given: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` strings as a mapping (the last of a name given twice wins, as the shell's would)."""
    found: dict[str, str] = {}
    for assignment in given:
        name, equals, value = assignment.partition("=")
        if not equals or not name:
            raise ParameterError(f"--parameter {assignment!r}: expected NAME=VALUE")
        found[name] = value
    return found


def typed(declaration: dict[str, Any], value: Any) -> Any:
    """A parameter's value as its Ref gives it: a list for the list types, else the value."""
    kind = str(declaration.get("Type", "String"))
    if isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
        return [item.strip() for item in value.split(",")]
    return value


def parameter_values(body: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """``given`` checked against the template's Parameters and typed; ParameterError for a name it
    does not declare or a value outside the parameter's AllowedValues."""
    declared = body.get("Parameters")
    declared = declared if isinstance(declared, dict) else {}
    values: dict[str, Any] = {}
    for name, value in given.items():
        declaration = declared.get(name)
        if not isinstance(declaration, dict):
            known = ", ".join(sorted(str(n) for n in declared)) or "none"
            raise ParameterError(f"--parameter {name}: the template declares no parameter {name} (its parameters: {known})")
        values[name] = typed(declaration, value)
        _check_allowed(name, declaration, values[name])
    return values


def _check_allowed(name: str, declaration: dict[str, Any], value: Any) -> None:
    allowed = declaration.get("AllowedValues")
    if not isinstance(allowed, list):
        return
    permitted = {str(item) for item in allowed}
    for item in value if isinstance(value, list) else [value]:
        if str(item) not in permitted:
            raise ParameterError(f"--parameter {name}={item}: not one of the parameter's AllowedValues"
                                 f" ({', '.join(str(a) for a in allowed)})")

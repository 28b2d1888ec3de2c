"""The access matrix as text and as Markdown (the JSON of `orchestrate access`, after
"format_version"): a grid per state, principals down and (resource, action) across, each cell
its label ("allowed", "denied (key-policy)"), then the cells that changed from the state before."""

from __future__ import annotations

from typing import Any
from orchestrator.report.words import counted

SHORT = {"allowed": "yes", "denied": "no", "error": "err"}


def _grid(state: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one row per principal, one column per (resource, action)."""
    by_slot = {(c["principal"], c["resource"], c["action"], c["variant"]): c for c in state["cells"]}
    header = ["principal"] + [column["label"] for column in state["columns"]]
    rows = [[principal] + [by_slot[(principal, col["resource"], col["action"], col["variant"])]["label"]
                           for col in state["columns"]] for principal in state["principals"]]
    return header, rows


def render_markdown(data: dict[str, Any]) -> str:
    lines = [f"# Access matrix: {data['scenario']} ({data['source']} state)", ""]
    changes = {entry["to"]: entry["cells"] for entry in data["changes"]}
    for state in data["states"]:
        header, rows = _grid(state)
        lines += [f"## State {state['name']}", "", "| " + " | ".join(_md(h) for h in header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_md(v) for v in row) + " |" for row in rows]
        lines += [""] + _changes_lines(state["name"], changes.get(state["name"]), "- ")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_text(data: dict[str, Any]) -> str:
    lines = [f"access matrix of {data['scenario']} ({data['source']} state): {counted(data['cell_count'], 'cell')}"]
    changes = {entry["to"]: entry["cells"] for entry in data["changes"]}
    for state in data["states"]:
        lines += ["", f"state {state['name']}:"]
        columns = state["columns"]
        lines += [f"  [{n}] {column['label']}" for n, column in enumerate(columns, 1)]
        header, rows = _grid(state)
        width = max(len(p) for p in state["principals"]) if state["principals"] else 9
        numbers = [f"[{n}]" for n in range(1, len(columns) + 1)]
        widths = [max(len(numbers[i]), *(len(row[i + 1]) for row in rows)) if rows else len(numbers[i])
                  for i in range(len(columns))]
        lines.append("  " + " " * width + "  " + "  ".join(n.ljust(w) for n, w in zip(numbers, widths)))
        for row in rows:
            lines.append("  " + row[0].ljust(width) + "  " + "  ".join(v.ljust(w) for v, w in zip(row[1:], widths)).rstrip())
        lines += _changes_lines(state["name"], changes.get(state["name"]), "  ")
    return "\n".join(lines) + "\n"


def _changes_lines(name: str, cells: list[dict[str, Any]] | None, indent: str) -> list[str]:
    if cells is None:
        return []
    if not cells:
        return [f"{indent.rstrip('- ') or ''}no cell changed from the state before".strip() if indent == "- " else
                f"{indent}no cell changed from the state before", ""]
    return [f"{indent}{counted(len(cells), 'cell')} changed into {name}:"] + [f"{indent}  {c['words']}" for c in cells] + [""]

"""The access matrix as one self-contained HTML page (the JSON of `orchestrate access`, after
"format_version"): a table per state, principals down and (resource, action) across, grouped by
resource.

Every cell says its decision in words as well as in colour ("allowed", "denied (key-policy)"),
so the page reads without colour; a cell that changed from the state before carries an outline, a
corner mark and the words "changed: was ...". Its reason and deciding statements (policy name and
Sid) appear on hover and on keyboard focus (a CSS tooltip the cell names with aria-describedby,
and the cell's title); Tab reaches every cell and the arrow keys, Home and End move between them.
The column and row headers stay in view as the page scrolls (sticky), and filters (changed only,
decision, principal, service, resource: report/access_filters.py) hide the rows and columns with
no matching cell; without JavaScript the page shows everything.

Nothing leaves the page: no external asset, a Content-Security-Policy that allows none, and every
name escaped. The markup is lean for large matrices (300,000 cells): no per-cell style, the
escaped names of a row and a column computed once, one list of strings joined at the end."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from typing import Any

from orchestrator.report.access_filters import SCRIPT as FILTER_SCRIPT
from orchestrator.report.access_filters import STYLE as FILTER_STYLE
from orchestrator.report.access_filters import filter_form
from orchestrator.report.words import counted

Slot = tuple[str, str, str, str | None]

# HTML references, not the characters: the page stays ASCII, so Python holds it in one byte a character.
SYMBOL = {"allowed": "&#10003;", "denied": "&#10007;", "error": "!"}

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

STYLE = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--ok-bg:#dafbe1;--ok:#116329;
--no-bg:#ffebe9;--no:#a40e26;--err-bg:#fff8c5;--err:#7d4e00;--chg:#0550ae;--focus:#1f2328}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--ink);background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:32px 0 2px}
.sub,.note{color:var(--muted);margin:0 0 12px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.summary{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:150px;background:var(--head)}
.card dt{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card dd{margin:2px 0 0;font-size:15px;font-weight:600}
.card ul{margin:2px 0 0;padding:0;list-style:none;font-size:13px;font-weight:400}
.legend{display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center;margin:8px 0 4px;padding:0;list-style:none}
.legend li{display:flex;align-items:center;gap:6px}
.sw{display:inline-block;width:30px;height:20px;border-radius:4px;border:1px solid var(--line);
text-align:center;font-size:12px;line-height:18px;font-weight:700}
table.grid{border-collapse:separate;border-spacing:0;margin-top:8px}
.grid th,.grid td{border-right:1px solid var(--line);border-bottom:1px solid var(--line);padding:6px 8px;
vertical-align:top}
.grid thead th{background:var(--head);font-weight:600;text-align:left;border-top:1px solid var(--line)}
.grid thead tr+tr th{border-top:0}
.grid th.res{text-align:center;color:var(--muted);font-weight:600}
.grid th.act{width:112px;font-size:12px;word-break:normal}
.grid th.act .svc{display:block;color:var(--muted);font-weight:400}
.grid th.act .var{display:block;color:var(--muted);font-weight:400;word-break:break-all}
.grid th[scope=row],.grid th.corner{position:sticky;left:0;z-index:2;background:var(--head);
border-left:1px solid var(--line);white-space:nowrap;text-align:left}
.grid th.corner{vertical-align:bottom;color:var(--muted);font-weight:400}
td.c{position:relative;min-width:120px;cursor:default;outline:none}
td.c .l{display:block;font-weight:600;white-space:nowrap}
td.c .why{display:block;font-size:12px;white-space:nowrap}
.nw{white-space:nowrap}
td.c .was{display:block;margin-top:3px;font-size:11px;font-weight:600;color:var(--chg)}
td.allowed,.sw.allowed{background:var(--ok-bg);color:var(--ok)}
td.denied,.sw.denied{background:var(--no-bg);color:var(--no)}
td.error,.sw.error{background:var(--err-bg);color:var(--err)}
.sw.chg{background:#fff;border:3px solid var(--chg)}
td.chg{box-shadow:inset 0 0 0 3px var(--chg)}
td.chg::after{content:"";position:absolute;top:0;right:0;border-style:solid;border-width:0 14px 14px 0;
border-color:transparent var(--chg) transparent transparent}
td.c:focus,td.c:hover{box-shadow:inset 0 0 0 3px var(--focus)}
td.chg:focus,td.chg:hover{box-shadow:inset 0 0 0 3px var(--focus),inset 0 0 0 6px var(--chg)}
.tip{display:none;position:absolute;top:calc(100% - 2px);left:0;z-index:10;width:380px;max-width:80vw;
padding:10px 12px;border-radius:6px;background:#1f2328;color:#f6f8fa;font-size:12px;font-weight:400;
line-height:1.45;box-shadow:0 6px 20px rgba(0,0,0,.25);white-space:normal;text-align:left}
td.c:nth-last-child(-n+2) .tip{left:auto;right:0}
td.c:hover .tip,td.c:focus .tip{display:block}
.tip b{color:#fff}.tip ul{margin:6px 0 0;padding-left:16px}.tip li{margin:2px 0}
.tip .k{color:#9ea7b3}
.grid thead th{position:sticky;top:0;z-index:3}
.grid thead tr:first-child th{height:34px;white-space:nowrap}
.grid thead tr+tr th{top:34px}
.grid thead th.corner{top:0;left:0;z-index:4}
.changes{margin:10px 0 0;padding-left:18px}
.changes li{margin:2px 0}
@media print{.tip{display:none!important}td.c{break-inside:avoid}}
"""

SCRIPT = """
(function(){
document.addEventListener('keydown',function(e){
var c=e.target;if(!c.classList||!c.classList.contains('c'))return;
var r=c.parentElement,i=Array.prototype.indexOf.call(r.cells,c),t=null;
function seen(x,next){while(x&&x.classList.contains('off'))x=x[next];return x;}
function row(x){x=seen(x,x===r.nextElementSibling?'nextElementSibling':'previousElementSibling');return x&&x.cells[i];}
if(e.key==='ArrowRight')t=seen(c.nextElementSibling,'nextElementSibling');
else if(e.key==='ArrowLeft')t=seen(c.previousElementSibling,'previousElementSibling');
else if(e.key==='ArrowDown')t=row(r.nextElementSibling);
else if(e.key==='ArrowUp')t=row(r.previousElementSibling);
else if(e.key==='Home')t=r.querySelector('td.c:not(.off)');
else if(e.key==='End')t=seen(r.cells[r.cells.length-1],'previousElementSibling');
else if(e.key==='Escape'){c.blur();return;}
if(t&&t.classList.contains('c')){e.preventDefault();t.focus();}
});
})();
"""


def render_html(data: dict[str, Any]) -> str:
    """The page: title, summary, legend, then one grid per state and the cells that changed."""
    scenario = str(data["scenario"])
    changes = {entry["to"]: entry for entry in data.get("changes", [])}
    parts = ['<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n',
             '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
             f"<title>Access matrix: {escape(scenario)}</title>\n<style>{STYLE}{FILTER_STYLE}</style>\n</head>\n<body>\n"]
    parts += _summary(data, changes)
    parts.append(_legend())
    parts.append(filter_form(data))
    ids = _Ids()
    for number, state in enumerate(data["states"]):
        parts += _state(number, state, changes.get(state["name"]), ids)
    parts.append(f"<script>{SCRIPT}{FILTER_SCRIPT}</script>\n</body>\n</html>\n")
    return "".join(parts)


def _summary(data: dict[str, Any], changes: dict[str, dict[str, Any]]) -> list[str]:
    states = data["states"]
    counts = "".join(f"<li>{escape(s['name'])}: {_changed_words(changes.get(s['name']))}</li>" for s in states)
    principals = len({p for s in states for p in s["principals"]})
    return [f"<header>\n<h1>Access matrix: {escape(str(data['scenario']))}</h1>\n",
            f'<p class="sub">What each principal may do to each resource, per policy state, as the engine decides '
            f"from the {escape(str(data['source']))} state. Hover or focus a cell (Tab, then the arrow keys) "
            "for its reason and deciding statements.</p>\n",
            '<dl class="summary">\n',
            _card("Scenario", escape(str(data["scenario"]))), _card("Source", escape(str(data["source"]))),
            _card("Cells", f"{int(data['cell_count']):,}"), _card("States", str(len(states))),
            _card("Principals", str(principals)),
            f'<div class="card"><dt>Changes per state</dt><dd><ul>{counts}</ul></dd></div>\n', "</dl>\n</header>\n"]


def _card(term: str, value: str) -> str:
    return f'<div class="card"><dt>{term}</dt><dd>{value}</dd></div>\n'


def _changed_words(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "first state"
    count = len(entry["cells"])
    return f"{count} cell{'' if count == 1 else 's'} changed from {escape(str(entry['from']))}"


def _legend() -> str:
    items = [("allowed", SYMBOL["allowed"], "allowed"),
             ("denied", SYMBOL["denied"], "denied (the layer that denies: identity-policy, key-policy, ...)"),
             ("error", SYMBOL["error"], "error (the request could not be prepared)"),
             ("chg", "", "changed from the state before (outline, corner mark, 'changed: was ...')")]
    rows = "".join(f'<li><span class="sw {cls}" aria-hidden="true">{mark}</span>{escape(words)}</li>'
                   for cls, mark, words in items)
    return f'<section aria-label="Legend"><ul class="legend">{rows}</ul></section>\n'


class _Ids:
    """Short unique ids for the tooltips (base 36), one counter for the whole page."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return "t" + _base36(self.count)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    text = ""
    while number:
        number, rest = divmod(number, 36)
        text = digits[rest] + text
    return text or "0"


def _state(number: int, state: dict[str, Any], change: dict[str, Any] | None, ids: _Ids) -> list[str]:
    name = str(state["name"])
    before = {_slot(c): c["before"] for c in change["cells"]} if change else {}
    columns, principals = state["columns"], state["principals"]
    heading = f'<section class="state" id="state-{number + 1}" data-state="{escape(name)}">\n'
    parts = [heading, f"<h2>State {number + 1}: {escape(name)}</h2>\n",
             f'<p class="note">{len(principals)} principal(s) &times; {len(columns)} request(s); '
             f"{_changed_words(change)}.</p>\n",
             f'<table class="grid" aria-label="Access in state {escape(name)}">\n']
    parts += _head(columns)
    parts.append("<tbody>\n")
    parts += _rows(name, state, before, ids)
    parts.append("</tbody>\n</table>\n")
    parts.append('<p class="empty" hidden>No cell of this state matches the filters.</p>\n')
    parts += _change_list(change)
    parts.append("</section>\n")
    return parts


def _slot(cell: dict[str, Any]) -> Slot:
    return cell["principal"], cell["resource"], cell["action"], cell.get("variant")


def _head(columns: list[dict[str, Any]]) -> list[str]:
    """Two header rows: resources (spanning their consecutive columns), then the actions."""
    groups: list[tuple[str, int]] = []
    for column in columns:
        if groups and groups[-1][0] == column["resource"]:
            groups[-1] = (groups[-1][0], groups[-1][1] + 1)
        else:
            groups.append((column["resource"], 1))
    top = "".join(f'<th scope="colgroup" colspan="{span}" class="res" data-group="{number}" data-resource="{escape(resource)}">'
                  f"<code>{escape(resource)}</code></th>" for number, (resource, span) in enumerate(groups))
    numbers = [number for number, (_, span) in enumerate(groups) for _ in range(span)]
    actions = "".join(_action_head(column, number) for column, number in zip(columns, numbers))
    return ["<thead>\n", f'<tr><th class="corner" rowspan="2">principal &darr; / request &rarr;</th>{top}</tr>\n',
            f"<tr>{actions}</tr>\n", "</thead>\n"]


def _action_head(column: dict[str, Any], group: int) -> str:
    """An action's header; `data-group` names its resource's header, whose span the filters narrow."""
    service, _, operation = str(column["action"]).rpartition(":")
    variant = column.get("variant")
    extra = f'<span class="var mono">{escape(variant)}</span>' if variant else ""
    return (f'<th scope="col" class="act" title="{escape(str(column["label"]))}" data-group="{group}" '
            f'{_column_attributes(column)}>'
            f'<span class="svc">{escape(service)}:</span>{escape(operation)}{extra}</th>')


def _rows(name: str, state: dict[str, Any], before: dict[Slot, dict[str, Any]], ids: _Ids) -> Iterator[str]:
    by_slot = {_slot(cell): cell for cell in state["cells"]}
    columns = [(c, _column_attributes(c)) for c in state["columns"]]
    state_attribute = escape(name)
    for principal in state["principals"]:
        principal_text = escape(str(principal))
        row_attributes = f'data-state="{state_attribute}" data-principal="{principal_text}"'
        cells = []
        for column, column_attributes in columns:
            cell = by_slot.get((principal, column["resource"], column["action"], column.get("variant")))
            if cell is not None:
                slot = _slot(cell)
                cells.append(_cell(cell, f"{row_attributes} {column_attributes}", before.get(slot), ids.next()))
            else:
                cells.append('<td class="none">&mdash;</td>')
        yield f'<tr><th scope="row">{principal_text}</th>{"".join(cells)}</tr>\n'


def _column_attributes(column: dict[str, Any]) -> str:
    action = str(column["action"])
    text = (f'data-resource="{escape(str(column["resource"]))}" data-action="{escape(action)}" '
            f'data-service="{escape(action.partition(":")[0])}"')
    variant = column.get("variant")
    return text + (f' data-variant="{escape(variant)}"' if variant else "")


def _cell(cell: dict[str, Any], attributes: str, before: dict[str, Any] | None, tip_id: str) -> str:
    decision = str(cell["decision"])
    layer = cell.get("layer")
    why = f'<span class="why">({escape(str(layer))})</span>' if layer else ""
    was, changed, classes = "", "", f"c {escape(decision)}"
    if before is not None:
        was = f'<span class="was">changed: was {_was(before)}</span>'
        changed, classes = ' data-changed="true"', classes + " chg"
    return (f'<td class="{classes}" tabindex="0" {attributes} data-decision="{escape(decision)}"{changed} '
            f'title="{escape(_title(cell, before))}" aria-describedby="{tip_id}">'
            f'<span class="l">{SYMBOL.get(decision, "")} {escape(decision)}</span>{why}{was}'
            f'<span class="tip" role="tooltip" id="{tip_id}">{_tip(cell, before)}</span></td>')


def _was(before: dict[str, Any]) -> str:
    """The label before, breaking only between the decision and its layer ("denied", "(key-policy)")."""
    decision, _, layer = escape(str(before["label"])).partition(" ")
    return f'{decision} <span class="nw">{layer}</span>' if layer else decision


def _title(cell: dict[str, Any], before: dict[str, Any] | None) -> str:
    changed = f" (changed: was {before['label']})" if before is not None else ""
    return f"{cell['label']}{changed}: {cell.get('reason') or 'no reason given'}"


def _tip(cell: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The principal and request (their headers may be scrolled away), reason, error, statements."""
    request = f"{cell['action']} {cell['resource']}" + (f" {cell['variant']}" if cell.get("variant") else "")
    parts = [f"<b>{escape(str(cell['principal']))} &middot; {escape(request)}</b>",
             f"<br>{escape(str(cell.get('reason') or 'no reason given'))}"]
    if before is not None:
        parts.append(f'<br><span class="k">changed:</span> was {escape(str(before["label"]))}')
    if cell.get("error"):
        parts.append(f'<br><span class="k">error:</span> {escape(str(cell["error"]))}')
    statements = cell.get("statements") or []
    if statements:
        items = "".join(f"<li>{_statement(statement)}</li>" for statement in statements)
        parts.append(f'<br><span class="k">deciding statements:</span><ul>{items}</ul>')
    return "".join(parts)


def _statement(statement: dict[str, Any]) -> str:
    sid = statement.get("sid")
    where = f'Sid "{escape(str(sid))}"' if sid else f"statement #{int(statement.get('index') or 0) + 1}"
    return (f"{escape(str(statement.get('effect') or ''))} &middot; "
            f"{escape(str(statement.get('policy_name') or ''))} &middot; {where}")


def _change_list(change: dict[str, Any] | None) -> list[str]:
    if change is None or not change["cells"]:
        return []
    items = "".join(f"<li>{escape(str(c['words']))}</li>" for c in change["cells"])
    return [f'<details><summary>{counted(len(change["cells"]), "change")} from {escape(str(change["from"]))}</summary>',
            f'<ul class="changes">{items}</ul></details>\n']

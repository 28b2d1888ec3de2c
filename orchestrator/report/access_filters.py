"""The access matrix page's filters (issue 24, item 4): changed only, decision, principal, service,
resource. A form whose every control names the cell data attribute it tests (`data-filter`), and a
small script that reads them: a cell matches when each control with a value equals that attribute
of the cell; a row or column with no matching cell is hidden (`off`), and a non-matching cell left
between matching ones is dimmed (`dim`). The form is `hidden` in the markup and shown by the script,
so without JavaScript the page shows every cell and no control that would do nothing.

The options come from the matrix itself (report/access_html.py hands the JSON of `orchestrate
access`): its principals in order of appearance, its services and resources sorted."""

from __future__ import annotations

from html import escape
from typing import Any

#: The filters, each the cell attribute it compares (`data-NAME`), in the order the form shows them.
FILTERS = ("changed", "decision", "principal", "service", "resource")
DECISIONS = ("allowed", "denied", "error")

STYLE = """
.filters{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;margin:12px 0;padding:10px 14px;
border:1px solid var(--line);border-radius:8px;background:var(--head)}
.filters[hidden]{display:none}
.filters label{display:flex;align-items:center;gap:6px}
.filters select{font:inherit;max-width:260px}
.filters output{color:var(--muted)}
.off{display:none}
td.dim{opacity:.18}
p.empty{color:var(--muted);font-style:italic}
"""

SCRIPT = """
(function(){
var form=document.getElementById('filters');if(!form)return;
var names=form.getAttribute('data-filters').split(' '),count=document.getElementById('filter-count');
function wanted(){var w={};names.forEach(function(n){var c=form.elements[n];
var v=c.type==='checkbox'?(c.checked?'true':''):c.value;if(v)w[n]=v;});return w;}
function matches(cell,w){for(var n in w){if(cell.getAttribute('data-'+n)!==w[n])return false;}return true;}
function grid(t,w){var heads=t.querySelectorAll('thead th.act'),rows=t.tBodies[0].rows,on=[],shown=0,r,i;
for(r=0;r<rows.length;r++){var any=false,cells=rows[r].cells;
for(i=1;i<cells.length;i++){var ok=matches(cells[i],w);cells[i].classList.toggle('dim',!ok);
if(ok){any=true;on[i-1]=true;if(cells[i].hasAttribute('data-decision'))shown++;}}
rows[r].classList.toggle('off',!any);}
for(i=0;i<heads.length;i++){heads[i].classList.toggle('off',!on[i]);
for(r=0;r<rows.length;r++)rows[r].cells[i+1].classList.toggle('off',!on[i]);}
t.querySelectorAll('thead th.res').forEach(function(g){
var n=t.querySelectorAll('thead th.act[data-group="'+g.getAttribute('data-group')+'"]:not(.off)').length;
g.classList.toggle('off',n===0);if(n)g.colSpan=n;});
t.classList.toggle('off',shown===0);
var empty=t.parentElement.querySelector('p.empty');if(empty)empty.hidden=shown!==0;return shown;}
function apply(){var w=wanted(),shown=0,total=document.querySelectorAll('td[data-decision]').length;
document.querySelectorAll('table.grid').forEach(function(t){shown+=grid(t,w);});
count.value=Object.keys(w).length?shown+' of '+total+' cells match':'all '+total+' cells';}
form.addEventListener('change',apply);
document.getElementById('filter-all').addEventListener('click',function(){form.reset();apply();});
form.addEventListener('submit',function(e){e.preventDefault();});
form.hidden=false;apply();
})();
"""


def filter_form(data: dict[str, Any]) -> str:
    """The form, its options drawn from the matrix; hidden until the script shows it."""
    states = data["states"]
    principals = list(dict.fromkeys(str(p) for state in states for p in state["principals"]))
    columns = [column for state in states for column in state["columns"]]
    services = sorted({str(column["action"]).partition(":")[0] for column in columns})
    resources = sorted({str(column["resource"]) for column in columns})
    controls = ['<label><input type="checkbox" name="changed" value="true"> changed only</label>',
                _select("decision", DECISIONS), _select("principal", principals),
                _select("service", services), _select("resource", resources),
                '<button type="button" id="filter-all">Show all</button>',
                '<output id="filter-count" aria-live="polite"></output>']
    return (f'<form class="filters" id="filters" hidden aria-label="Filters" data-filters="{" ".join(FILTERS)}">'
            + "".join(controls) + "</form>\n")


def _select(name: str, values: list[str] | tuple[str, ...]) -> str:
    options = "".join(f'<option value="{escape(value)}">{escape(value)}</option>' for value in values)
    return f'<label>{name} <select name="{name}"><option value="">any</option>{options}</select></label>'

"""The access matrix page's filters and sticky headers (issue 24, item 4; report/access_filters.py).

Pure tests read the markup: the form and its options come from the matrix, every cell carries the
attributes the filters compare. Browser tests (Debian's Chromium through Playwright, skipped where
missing, as in test_access_html.py) check that a filter hides the rows and columns it should, that
without JavaScript everything shows, and that a 50-principal page keeps its headers in view."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from test_access_html import SEED, access_html, access_json, big_matrix, browser, open_page, parsed

from orchestrator.report.access_filters import FILTERS
from orchestrator.report.access_html import render_html

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared


class Form(HTMLParser):
    """The filter form's attributes, its controls by name, and each select's option values."""

    def __init__(self) -> None:
        super().__init__()
        self.form: dict[str, str | None] = {}
        self.controls: dict[str, dict[str, str | None]] = {}
        self.options: dict[str, list[str]] = {}
        self.heads: list[dict[str, str | None]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.form = found
        elif tag in ("input", "select") and found.get("name"):
            self.controls[str(found["name"])] = found
            self._select = str(found["name"]) if tag == "select" else None
        elif tag == "option" and self._select:
            self.options.setdefault(self._select, []).append(str(found["value"]))
        elif tag == "th" and "data-group" in found:
            self.heads.append(found)


def form_of(page: str) -> Form:
    form = Form()
    form.feed(page)
    return form


# --- pure -------------------------------------------------------------------------------------

def test_the_form_is_hidden_until_the_script_shows_it_and_names_each_filter(tmp_path: Path) -> None:
    form = form_of(render_html(access_json(SEED, tmp_path)))
    assert form.form["id"] == "filters" and "hidden" in form.form, "without JavaScript no control shows"
    assert str(form.form["data-filters"]).split() == list(FILTERS)
    assert set(form.controls) == set(FILTERS)
    assert form.controls["changed"]["type"] == "checkbox" and form.controls["changed"]["value"] == "true"


def test_the_options_come_from_the_matrix(tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    options = form_of(render_html(data)).options
    assert options["principal"] == ["", "admin", "tester"]
    assert options["service"] == ["", "dynamodb", "kms"]
    assert options["resource"] == ["", "key:data", "table:orders"]
    assert options["decision"] == ["", "allowed", "denied", "error"]


def test_every_cell_carries_what_the_filters_compare(tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    cells = parsed(render_html(data)).cells
    assert len(cells) == data["cell_count"]
    for cell in cells:
        assert cell["data-service"] == str(cell["data-action"]).partition(":")[0]
        assert all(cell.get(f"data-{name}") for name in FILTERS if name != "changed"), cell
    changed = {(c["data-state"], c["data-principal"], c["data-action"]) for c in cells if c.get("data-changed")}
    assert changed == {(e["to"], c["principal"], c["action"]) for e in data["changes"] for c in e["cells"]}


def test_each_action_header_names_its_resource_header(tmp_path: Path) -> None:
    heads = form_of(render_html(access_json(SEED, tmp_path))).heads
    groups = {h["data-group"]: h["data-resource"] for h in heads if "res" in str(h["class"]).split()}
    actions = [h for h in heads if "act" in str(h["class"]).split()]
    assert groups == {"0": "table:orders", "1": "key:data"}
    assert all(groups[str(h["data-group"])] == h["data-resource"] for h in actions)
    assert {h["data-service"] for h in actions} == {"dynamodb", "kms"}


def test_the_headers_are_sticky_in_the_style() -> None:
    page = render_html(big_matrix(2, 2))
    assert ".grid thead th{position:sticky;top:0" in page
    assert ".grid th[scope=row],.grid th.corner{position:sticky;left:0" in page


# --- in a real browser ------------------------------------------------------------------------

def visible(page: Any, selector: str) -> int:
    return int(page.locator(f"{selector}:visible").count())


def test_filters_hide_rows_and_columns(browser: Any, tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    page, errors, _ = open_page(browser, access_html(SEED, tmp_path))
    total = data["cell_count"]
    assert page.locator("#filters").is_visible() and page.locator("#filter-count").inner_text() == f"all {total} cells"
    page.select_option("select[name=principal]", "tester")
    assert visible(page, "tbody th[scope=row]") == 2, "one row per state"
    assert visible(page, "td[data-principal=admin]") == 0 and visible(page, "td[data-decision]") == total // 2
    page.check("input[name=changed]")
    assert visible(page, "td[data-decision]") == 8 == visible(page, "td[data-changed=true]")
    assert visible(page, "table.grid") == 1, "the first state has no changed cell: its grid is hidden"
    page.select_option("select[name=decision]", "denied")
    assert visible(page, "table.grid") == 0 and visible(page, "p.empty") == 2
    assert page.locator("#filter-count").inner_text() == f"0 of {total} cells match"
    page.click("#filter-all")
    assert visible(page, "td[data-decision]") == total and visible(page, "p.empty") == 0
    page.select_option("select[name=service]", "kms")
    assert visible(page, "th.act") == visible(page, "th.act[data-service=kms]") == 30
    assert visible(page, "td[data-service=dynamodb]") == 0
    resources = page.locator("th.res:visible")
    assert resources.count() == 2 and {resources.nth(i).get_attribute("colspan") for i in range(2)} == {"15"}
    page.select_option("select[name=service]", "")
    page.select_option("select[name=resource]", "table:orders")
    assert visible(page, "th.act") == 16 and visible(page, "td[data-resource='key:data']") == 0
    assert errors == []
    page.close()


def test_the_arrow_keys_skip_what_a_filter_hides(browser: Any, tmp_path: Path) -> None:
    """Denied cells only: in the first state tester may DescribeTable, so that column hides, and
    admin, denied nothing, loses its row; the arrow keys step over both."""
    page, errors, _ = open_page(browser, access_html(SEED, tmp_path))
    page.select_option("select[name=decision]", "denied")
    first = "td[data-state=without-key-grant]"
    assert visible(page, f"{first}[data-action='dynamodb:DescribeTable']") == 0
    assert visible(page, f"{first}[data-principal=admin]") == 0
    page.locator(f"{first}[data-principal=tester][data-action='dynamodb:Scan']").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.action") == "dynamodb:BatchGetItem"
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.dataset.action") == "dynamodb:Scan"
    page.keyboard.press("ArrowUp")  # the row above is admin's, hidden: nowhere to go
    assert page.evaluate("document.activeElement.dataset.principal") == "tester"
    assert errors == []
    page.close()


def test_without_javascript_everything_shows(browser: Any, tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(access_html(SEED, tmp_path).as_uri())
    assert not page.locator("#filters").is_visible()
    assert visible(page, "td[data-decision]") == data["cell_count"] and visible(page, "p.empty") == 0
    context.close()


def test_a_50_principal_page_keeps_its_headers_in_view(browser: Any, tmp_path: Path) -> None:
    target = tmp_path / "fifty.html"
    target.write_text(render_html(big_matrix(50, 40)), encoding="utf-8")
    page, errors, _ = open_page(browser, target)
    page.set_viewport_size({"width": 1200, "height": 600})
    page.evaluate("window.scrollTo(2000, 1200)")
    actions, resources = page.locator("thead th.act"), page.locator("thead th.res")
    row = page.locator("tbody th[scope=row]").nth(30).bounding_box()
    assert resources.nth(2).bounding_box()["y"] == 0 and round(actions.nth(20).bounding_box()["y"]) == 34
    corner = page.locator("thead th.corner").bounding_box()
    assert corner is not None and (corner["x"], corner["y"]) == (0, 0)
    assert row is not None and row["x"] == 0 and 0 < row["y"] < 600
    assert errors == []
    page.close()

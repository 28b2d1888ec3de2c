"""`orchestrate access --output html`: one self-contained page (orchestrator/report/access_html.py).

Pure tests read the markup with html.parser; the browser tests open the page in Debian's
Chromium through Playwright (skipped, with the reason, where either is missing) and save
full-page screenshots under tests/artifacts/. ORCHESTRATE_UPDATE_SCREENSHOT=1 also refreshes
docs/access-matrix.png, README's picture (not on every run: it would differ by fonts per machine)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from orchestrator.cli import main
from orchestrator.report.access_html import render_html

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SEED = "kms-dynamodb-access"
BROWSER_SCENARIOS = [SEED, "role-trust-account", "table-policy"]  # the seed, most principals, most cells
HOSTILE = "<script>alert(1)</script>"
FILTER_CONTROLS = ("changed", "decision", "principal", "service", "resource", "show all")


def access_json(name: str, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / f"{name}.json"
    assert main(["access", str(SCENARIOS / f"{name}.yaml"), "--output", "json", "-o", str(target), "--named-only"]) == 0
    data: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return data


def access_html(name: str, tmp_path: Path) -> Path:
    target = tmp_path / f"{name}.html"
    assert main(["access", str(SCENARIOS / f"{name}.yaml"), "--output", "html", "-o", str(target), "--named-only"]) == 0
    return target


class Cells(HTMLParser):
    """The page's cell elements (those with data-decision), their attributes, ids and tag names."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if "data-decision" in found:
            self.cells.append(found)


def parsed(page: str) -> Cells:
    parser = Cells()
    parser.feed(page)
    return parser


def changed_count(data: dict[str, Any]) -> int:
    return sum(len(entry["cells"]) for entry in data["changes"])


# --- pure -------------------------------------------------------------------------------------

def test_the_page_loads_nothing_from_outside(tmp_path: Path) -> None:
    page = access_html(SEED, tmp_path).read_text(encoding="utf-8")
    lowered = page.lower()
    assert page.startswith("<!DOCTYPE html>")
    for outside in ("http://", "https://", "src=", "href=", "url(", "@import", "//cdn", "<link", "<img", "<iframe"):
        assert outside not in lowered, outside
    assert "default-src 'none'" in page, "a Content-Security-Policy forbids every fetch"
    assert "style=" not in lowered, "no per-element inline style"


def test_one_cell_element_per_json_cell_with_its_data_attributes(tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    cells = parsed(access_html(SEED, tmp_path).read_text(encoding="utf-8")).cells
    assert len(cells) == data["cell_count"] == sum(len(state["cells"]) for state in data["states"])
    expected = sorted((state["name"], c["principal"], c["resource"], c["action"], c["decision"])
                      for state in data["states"] for c in state["cells"])
    assert sorted((c["data-state"], c["data-principal"], c["data-resource"], c["data-action"], c["data-decision"])
                  for c in cells) == expected
    assert all(c["tabindex"] == "0" for c in cells), "Tab reaches every cell"


def test_each_cell_names_its_reason_in_a_tooltip_and_a_title(tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    page = render_html(data)
    found = parsed(page)
    described = [str(c["aria-describedby"]) for c in found.cells]
    assert len(set(described)) == len(described) and set(described) <= found.ids
    first = data["states"][0]["cells"][0]
    assert found.cells[0]["title"] == f"{first['label']}: {first['reason']}"
    sids = {s["sid"] for state in data["states"] for c in state["cells"] for s in c["statements"] if s["sid"]}
    assert sids and all(f'Sid "{sid}"' in page for sid in sids)


def test_changed_cells_are_marked_with_what_they_were(tmp_path: Path) -> None:
    data = access_json(SEED, tmp_path)
    found = parsed(render_html(data))
    changed = [c for c in found.cells if c.get("data-changed") == "true"]
    # tester gains kms:Decrypt and the 7 table calls that need it (DescribeTable does not)
    assert len(changed) == changed_count(data) == 8
    assert all("chg" in str(c["class"]).split() for c in changed)
    assert {(c["data-state"], c["data-principal"], c["data-action"]) for c in changed} == {
        (entry["to"], cell["principal"], cell["action"]) for entry in data["changes"] for cell in entry["cells"]}
    assert all("(changed: was denied (key-policy))" in str(c["title"]) for c in changed)
    page = render_html(data)
    assert page.count('changed: was denied <span class="nw">(key-policy)</span>') == 8


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    data = copy.deepcopy(access_json(SEED, tmp_path))
    quote = '"><img src=x onerror=alert(2)>'
    for state in data["states"]:
        state["name"] = f"{state['name']}</title>"
        state["principals"] = [HOSTILE if p == "tester" else p for p in state["principals"]]
        for column in state["columns"]:
            column["resource"] = column["resource"].replace("table:orders", f"table:{quote}")
        for cell in state["cells"]:
            cell["principal"] = HOSTILE if cell["principal"] == "tester" else cell["principal"]
            cell["resource"] = cell["resource"].replace("table:orders", f"table:{quote}")
            cell["reason"] = f"{cell['reason']} <b>&</b>"
    for entry in data["changes"]:
        entry["from"], entry["to"] = f"{entry['from']}</title>", f"{entry['to']}</title>"
        for cell in entry["cells"]:
            cell["principal"] = HOSTILE
            cell["resource"] = cell["resource"].replace("table:orders", f"table:{quote}")
    data["scenario"] = HOSTILE
    page = render_html(data)
    assert HOSTILE not in page and quote not in page and "<b>&</b>" not in page and "grant</title>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    found = parsed(page)
    assert found.tags.count("script") == 1 and "img" not in found.tags
    # 23 columns (8 table actions, 15 key actions: CancelKeyDeletion needs a key pending deletion) x 2 states
    assert sum(c["data-principal"] == HOSTILE for c in found.cells) == 46, "attributes read back as the name"
    assert sum(c.get("data-changed") == "true" for c in found.cells) == 8, "changes still find their cells"


def test_one_state_has_no_changes_and_says_first_state(tmp_path: Path) -> None:
    target = tmp_path / "one.html"
    assert main(["access", str(SCENARIOS / f"{SEED}.yaml"), "--state", "with-key-grant", "--output", "html",
                 "-o", str(target)]) == 0
    page = target.read_text(encoding="utf-8")
    # 2 named rows and 3 rows of principals nobody named (anyone in account:home, anyone, anyone anonymous)
    cells = parsed(page).cells
    assert len(cells) == 5 * 23 and "data-changed" not in page and "first state" in page
    assert {cell["data-principal"] for cell in cells} >= {"admin", "tester", "anyone", "anyone anonymous"}


def big_matrix(principals: int, columns: int) -> dict[str, Any]:
    heads = [{"resource": f"table:t{j // 7}", "action": f"dynamodb:Op{j % 7}", "variant": None,
              "label": f"dynamodb:Op{j % 7} table:t{j // 7}"} for j in range(columns)]
    statement = {"policy_kind": "identity", "policy_name": "arn:aws:iam::aws:policy/AdministratorAccess",
                 "sid": None, "index": 0, "effect": "Allow"}
    cells = [{"principal": f"user{i}", "resource": c["resource"], "action": c["action"], "variant": None,
              "decision": "allowed", "layer": None, "label": "allowed", "error": None, "statements": [statement],
              "reason": f"{c['action']} is allowed by statement #1 of managed policy AdministratorAccess"}
             for i in range(principals) for c in heads]
    state = {"name": "s", "principals": [f"user{i}" for i in range(principals)], "columns": heads, "cells": cells}
    return {"format_version": "1", "scenario": "big", "source": "desired", "cell_count": len(cells),
            "states": [state], "changes": []}


def test_300000_cells_render_lean_and_linear(tmp_path: Path) -> None:
    data = big_matrix(300, 1000)
    started = time.perf_counter()
    page = render_html(data)
    elapsed = time.perf_counter() - started
    target = tmp_path / "big.html"
    target.write_text(page, encoding="utf-8")
    assert page.count('tabindex="0"') == 300_000
    assert page.isascii(), "an ASCII page is one byte a character in memory"
    assert len(page) / 300_000 < 900, "bytes per cell"
    assert elapsed < 60, f"{elapsed:.1f} s"


# --- in a real browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("needs Python Playwright (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1500, "height": 900})
    errors: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: fetched.append(request.url))
    page.goto(path.as_uri())
    return page, errors, fetched


@pytest.mark.parametrize("name", BROWSER_SCENARIOS)
def test_the_page_renders_in_chromium(browser: Any, name: str, tmp_path: Path) -> None:
    data = access_json(name, tmp_path)
    page, errors, fetched = open_page(browser, access_html(name, tmp_path))
    assert page.title() == f"Access matrix: {name}"
    assert page.locator("td[data-decision]").count() == data["cell_count"]
    assert page.locator("td[data-changed='true']").count() == changed_count(data)
    assert page.locator("th[scope='row']").count() == sum(len(s["principals"]) for s in data["states"])
    assert page.locator("table.grid").count() == len(data["states"])
    assert page.locator(".tip:visible").count() == 0, "tooltips wait for hover or focus"
    for _ in FILTER_CONTROLS:  # Tab passes the filters' controls, then reaches the first cell
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('#filters') !== null")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.dataset")
    first = data["states"][0]["cells"][0]
    assert (focused["principal"], focused["action"], focused["decision"]) == (
        first["principal"], first["action"], first["decision"])
    tip = page.locator("#" + page.evaluate("document.activeElement.getAttribute('aria-describedby')"))
    assert tip.is_visible() and first["reason"] in tip.inner_text()
    box = tip.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 20
    assert page.locator(".tip:visible").count() == 1
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.action") == data["states"][0]["columns"][1]["action"]
    assert errors == [] and all(url.startswith("file:") for url in fetched), (errors, fetched)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"access-{name}.png"), full_page=True)
    page.close()


def test_hover_shows_a_reason_and_the_seed_picture(browser: Any, tmp_path: Path) -> None:
    """Hovering a changed cell shows its reason and what it was; its screenshot is README's picture."""
    data = access_json(SEED, tmp_path)
    page, errors, _ = open_page(browser, access_html(SEED, tmp_path))
    changed = page.locator("td[data-changed='true']").first
    changed.hover()
    tip = changed.locator(".tip")
    assert tip.is_visible() and "changed: was denied (key-policy)" in tip.inner_text()
    change = data["changes"][0]["cells"][0]
    assert f"{change['principal']} · {change['action']} {change['resource']}" in tip.inner_text()
    changed.focus()
    assert errors == []
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "access-matrix.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    if os.environ.get("ORCHESTRATE_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, ROOT / "docs" / "access-matrix.png")

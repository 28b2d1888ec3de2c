"""Reading YAML: dates stay text, tags are JSON-like only, merge keys keep YAML's semantics and are
bounded, characters YAML forbids are located where they stand (issue 10's crashers, each)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.loader import ScenarioError, load_scenario
from orchestrator.loader.source import read_yaml, text_position

POLICY = "{Statement: {Effect: Allow, Principal: '*', Action: 'kms:*'}}"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _data(tmp_path: Path, text: str) -> dict:
    data, _ = read_yaml(_write(tmp_path, text))
    return data


def _only_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(_write(tmp_path, text))
    [diagnostic] = caught.value.diagnostics
    return str(diagnostic).removeprefix(str(tmp_path / "scenario.yaml") + ":")


def test_dates_are_the_text_the_author_wrote(tmp_path: Path) -> None:
    data = _data(tmp_path, "a: 2024-02-30\nb: 2024-01-01\nc: 2001-12-14t21:59:43.10-05:00\nd: 2024-02-30 10:00:00\n")
    assert data == {"a": "2024-02-30", "b": "2024-01-01", "c": "2001-12-14t21:59:43.10-05:00", "d": "2024-02-30 10:00:00"}


def test_an_impossible_date_where_a_name_is_wanted_is_a_name(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, "name: 2024-02-30\nstates: [{name: 2024-01-01}]\n"))
    assert (loaded.scenario.name, loaded.scenario.states[0].name) == ("2024-02-30", "2024-01-01")


def test_an_unquoted_date_condition_value_is_a_string(tmp_path: Path) -> None:
    text = ("name: x\nkeys:\n  k:\n    policy:\n      Statement:\n        Effect: Deny\n        Principal: '*'\n"
            "        Action: 'kms:*'\n        Condition: {DateGreaterThan: {aws:CurrentTime: 2030-01-01T00:00:00Z}}\n"
            "states: [{name: a}]\n")
    statement = load_scenario(_write(tmp_path, text)).desired[0].keys["k"].policy.statements()[0]
    assert statement.condition == {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}


def test_json_like_tags_construct(tmp_path: Path) -> None:
    data = _data(tmp_path, "a: !!str 5\nb: !!int '7'\nc: !!float 1\nd: !!bool yes\ne: !!null ''\nf: !!binary aGk=\ng: !!map {x: 1}\nh: !!seq [1]\n")
    assert data == {"a": "5", "b": 7, "c": 1.0, "d": True, "e": None, "f": b"hi", "g": {"x": 1}, "h": [1]}


@pytest.mark.parametrize(("value", "message"), [
    ("!!int as", "'as' is not a valid !!int"),
    ("!!int", "'' is not a valid !!int"),
    ("!!float x", "'x' is not a valid !!float"),
    ("!!binary a", "'a' is not a valid !!binary"),  # bad base64 padding
    ("!!timestamp 2024-01-01", "the tag !!timestamp is not supported"),
    ("!!omap [{a: 1}]", "the tag !!omap is not supported here: write a plain list"),
    ("!custom x", "the tag !custom is not supported"),
    ("9" * 5000, "an integer of more than 300 characters is too large for any field"),
    ("1:" * 200 + "1", "an integer of more than 300 characters"),  # YAML 1.1 base 60
])
def test_values_that_cannot_be_constructed_are_located(tmp_path: Path, value: str, message: str) -> None:
    assert _only_error(tmp_path, f"name: x\ndescription: {value}\nstates: [{{name: a}}]\n").startswith(f"2:14: {message}")


def test_merge_keys_never_override_explicit_keys_and_the_first_source_wins(tmp_path: Path) -> None:
    data = _data(tmp_path, "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {x: 0, <<: [*a, *b]}\nd: {<<: *b, z: 0}\n")
    assert data["c"] == {"x": 0, "y": 1, "z": 2}
    assert data["d"] == {"x": 2, "z": 0}


def test_issue_crashers_exit_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for text in ["name: x\nfoo: &a {<<: *a}\nstates: [{name: a}]\n", "name: 2024-02-30\nstates: [{name: a}]\ndescription: !!int as\n",
                 f"name: x\nregion: {'1' * 5000}\nstates: [{{name: a}}]\n"]:
        assert main(["validate", str(_write(tmp_path, text))]) == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1, captured.err


@pytest.mark.parametrize(("text", "where"), [
    ("name: x\nstates: []\n\x00", "3:1"),
    ("name: x\r\ndescription: ab\x07\r\nstates: []\r\n", "2:16"),
    ("name: x\ndescription: \u00e9\u00e9\u00e9\x01\n", "2:17"),
    ("name: x\x85description: 'a\x0c'\n", "2:16"),  # NEL is a YAML line break
])
def test_a_forbidden_character_is_located_where_it_stands(tmp_path: Path, text: str, where: str) -> None:
    message = _only_error(tmp_path, text)
    assert message.startswith(f"{where}: the character U+00"), message
    assert "position" not in message and "<unicode string>" not in message


def test_text_position_counts_lines_as_yaml_does() -> None:
    text = "a\r\nb\rc\nd\u2028e"
    assert [(m.line, m.col) for m in (text_position(text, text.index(ch)) for ch in "abcde")] == [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1)]


def test_merged_values_are_located_where_they_are_written(tmp_path: Path) -> None:
    """An explicit key keeps its own position whether the merge key comes before or after it; a merged
    value is located in the mapping it came from."""
    for text in ["name: 'bad name!'\n<<: {name: from-base, region: 'x y'}\nstates: [{name: a}]\n",
                 "<<: {name: from-base, region: 'x y'}\nname: 'bad name!'\nstates: [{name: a}]\n"]:
        with pytest.raises(ScenarioError) as caught:
            load_scenario(_write(tmp_path, text))
        explicit = 1 if text.startswith("name") else 2
        found = {d.path: (d.line, d.col) for d in caught.value.diagnostics}
        assert found == {("name",): (explicit, 7), ("region",): (3 - explicit, 31)}, caught.value

"""The command line as a user meets it (issue 22, item 9): each command's help with a description,
its exit codes and an example; suggestions for a mistyped command, option or choice; NO_COLOR as
no-color.org defines it; `-o/--output-file` alike everywhere; shell completion; counted nouns that
agree; the --timeout defaults the code uses; README's command reference matching --help."""

from __future__ import annotations

import argparse
import io
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import EXIT_CODES, build_parser, main

ROOT = Path(__file__).resolve().parents[1]
SEED = str(ROOT / "scenarios" / "kms-dynamodb-access.yaml")


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


COMMANDS = sorted(_commands())


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Bad usage exits as the command's invalid input (exit_codes.invalid_input): 1 for plan and
    drift (Terraform's -detailed-exitcode), 2 for the others and for no command at all."""
    from orchestrator.exit_codes import invalid_input

    assert main(argv) == (invalid_input(argv[0]) if argv[0] in EXIT_CODES else 2)
    return capsys.readouterr().err


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_a_description_exit_codes_and_an_example(name: str) -> None:
    parser = _commands()[name]
    text = parser.format_help()
    assert parser.description and parser.description in text
    assert "exit codes:\n  0 " in text, f"{name}: no exit codes in its help"
    example = text.split("example:\n", 1)[1].strip().splitlines()[0]
    assert example.startswith("orchestrate ")
    words = shlex.split(example, comments=True)
    build_parser().parse_args(words[1:words.index(">") if ">" in words else None])  # the example parses


@pytest.mark.parametrize("name", COMMANDS)
def test_a_run_builds_its_own_command_s_parser_as_the_full_one_does(name: str) -> None:
    """A run builds only the parser of the command it names (cli.BUILDER_OF, issue 22: start-up);
    it must be the very parser the full build makes."""
    sub = next(a for a in build_parser(name)._actions if isinstance(a, argparse._SubParsersAction))
    assert name in sub.choices
    assert sub.choices[name].format_help() == _commands()[name].format_help()


def test_every_command_s_exit_codes_are_in_the_table() -> None:
    assert set(EXIT_CODES) == set(COMMANDS)


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["aply", SEED], capsys)
    assert err.splitlines()[-1] == "orchestrate: unknown command 'aply'. Did you mean 'apply'?"
    assert err.startswith("usage: orchestrate")


def test_an_unlike_command_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["xyzzy"], capsys)
    assert err.splitlines()[-1].startswith("orchestrate: unknown command 'xyzzy'. Choose from validate, schema,")


def test_a_mistyped_option_gets_a_suggestion_from_its_command(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["plan", SEED, "--stae", "x"], capsys)
    assert err.splitlines()[-1] == "orchestrate plan: unknown option '--stae'. Did you mean '--state'?"
    err = _usage_error(["apply", SEED, "--junti=j.xml"], capsys)
    assert err.splitlines()[-1] == "orchestrate apply: unknown option '--junti'. Did you mean '--junit'?"


def test_a_mistyped_choice_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["plan", SEED, "--output", "jsn"], capsys)
    assert err.rstrip().endswith("(choose from 'text', 'json'). Did you mean 'json'?")


def test_hidden_spellings_are_not_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    err = _usage_error(["import", "t.yaml", "--outt", "x"], capsys)  # --out is hidden: --output-file is offered
    assert err.splitlines()[-1] == "orchestrate import: unknown option '--outt'. Did you mean '--output-file'?"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("value", "coloured"), [(None, True), ("", True), ("1", False), ("0", False)])
def test_no_color_as_no_color_org_defines_it(value: str | None, coloured: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """"When present and not an empty string": NO_COLOR= (empty) keeps colour, any other value drops it."""
    from orchestrator.report.style import Style

    monkeypatch.delenv("NO_COLOR", raising=False)
    if value is not None:
        monkeypatch.setenv("NO_COLOR", value)
    assert Style.for_stream(_Tty()).enabled is coloured
    assert Style.for_stream(_Tty(), no_color=True).enabled is False


@pytest.mark.parametrize("name", ["import", "export", "access", "schema"])
def test_output_file_is_spelled_alike(name: str) -> None:
    help_text = _commands()[name].format_help()
    assert "-o PATH, --output-file PATH" in help_text
    assert "--out " not in help_text and "--out\n" not in help_text


@pytest.mark.parametrize("argv", [["import", "t.yaml", "--out", "x.yaml"], ["import", "t.yaml", "-o", "x.yaml"],
                                  ["import", "t.yaml", "--output-file", "x.yaml"], ["export", SEED, "--format",
                                  "terraform", "--output-file", "x.yaml"], ["access", SEED, "-o", "x.yaml"],
                                  ["schema", "--output-file=x.yaml"]], ids=lambda argv: " ".join(argv[:1] + argv[-2:]))
def test_every_spelling_lands_in_one_place(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).output_path.endswith("x.yaml")


def test_schema_writes_its_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.model.schema import scenario_schema_text

    assert main(["schema", "-o", str(tmp_path / "s.json")]) == 0
    assert (tmp_path / "s.json").read_text() == scenario_schema_text()
    assert capsys.readouterr().out == ""
    assert main(["schema", "-o", str(tmp_path / "missing" / "s.json")]) == 2


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_prints_a_script_naming_the_commands(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("shtab")
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in ("validate", "apply", "--output-file", "completion"):
        assert word in script
    assert "--out " not in script  # hidden spellings stay hidden


def test_the_parser_imports_neither_shtab_nor_difflib() -> None:
    script = ("import sys\nfrom orchestrator.cli import build_parser\nbuild_parser().parse_args(['plan', 'x'])\n"
              "print(sorted({'shtab', 'difflib'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_counted_nouns_agree(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from orchestrator.report.words import counted

    assert [counted(n, "state") for n in (0, 1, 2)] == ["0 states", "1 state", "2 states"]
    one = tmp_path / "one.yaml"
    text = Path(SEED).read_text()
    one.write_text(text)
    assert main(["validate", str(one)]) == 0
    assert not re.search(r"\b1 (states|expectations)\b", capsys.readouterr().out)


def test_no_count_in_the_code_is_hedged_or_unagreeing() -> None:
    """`{n} things` and `thing(s)` in printed f-strings: each is `counted(n, 'thing')` now."""
    pattern = re.compile(r"\{[^}]*(len\(|count|total)[^}]*\} (states|expectations|scenarios|cells|mutants)\b|\w\(s\)")
    found = [f"{path.relative_to(ROOT)}:{i}" for folder in ("commands", "report", "reconcile")
             for path in sorted((ROOT / "orchestrator" / folder).glob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), 1) if 'f"' in line and pattern.search(line)]
    assert not found, found


def test_timeout_help_names_the_defaults_the_code_uses() -> None:
    from orchestrator.backends.aws import AwsBackend
    from orchestrator.backends.base import Backend
    from orchestrator.backends.failures import PROBE_SECONDS

    words = " ".join(_commands()["plan"].format_help().split())
    endpoint, aws = Backend.default_timeouts, AwsBackend.default_timeouts
    assert (f"default: {endpoint.read:g} for endpoints, with {endpoint.attempts} attempts, {PROBE_SECONDS:g} for the"
            f" start-up identity check; {aws.read:g} for real AWS, with {aws.attempts}); connecting waits at most"
            f" {endpoint.connect:g} ({aws.connect:g} on AWS)") in words


def _readme_commands() -> list[tuple[str, list[str]]]:
    """README's command reference: each row's command and the options its synopsis names."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| `orchestrate ([a-z-]+)([^`]*)`", table, re.MULTILINE)
    return [(name, re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", synopsis)) for name, synopsis in rows]


def test_readme_names_every_command_and_only_options_they_take() -> None:
    rows = _readme_commands()
    named = {name for name, _ in rows}
    assert set(COMMANDS) <= named, f"README's command reference misses {set(COMMANDS) - named}"
    commands = _commands()
    for name, options in rows:
        if name.startswith("-"):
            continue
        known = {o for action in commands[name]._actions if action.help != argparse.SUPPRESS for o in action.option_strings}
        assert set(options) <= known, f"README's `orchestrate {name}` names {set(options) - known}, not in its --help"


def test_readme_exit_codes_match_the_help() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        row = re.search(rf"^\| `orchestrate {name}\b.*\| ([^|]*) \|$", readme, re.MULTILINE)
        assert row is not None, name
        assert row.group(1) == EXIT_CODES[name], f"{name}: README says {row.group(1)!r}, --help {EXIT_CODES[name]!r}"

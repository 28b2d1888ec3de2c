"""whoelse/lemmas.py: the facts stated about a problem's prefix tests are theorems of the string
theory (never change an answer), one per pair of constants tested against the same term."""
from __future__ import annotations

import pytest

z3 = pytest.importorskip("z3")

from orchestrator.whoelse.lemmas import MAX_PREFIXES, prefix_lemmas  # noqa: E402
from orchestrator.whoelse.text import sval  # noqa: E402


def _valid(fact: z3.BoolRef) -> bool:
    solver = z3.Solver()
    solver.add(z3.Not(fact))
    return solver.check() == z3.unsat


def test_a_longer_prefix_implies_the_shorter_and_disjoint_prefixes_exclude_each_other() -> None:
    path, arn = z3.String("path"), z3.String("arn")
    unit, org, other = (z3.PrefixOf(sval(text), path) for text in ("o-1/r-1/ou-1/", "o-1/", "o-2/"))
    formula = z3.And(z3.Or(unit, z3.Not(org)), z3.Or(other, z3.PrefixOf(sval("arn:aws:iam::"), arn)))
    lemmas = prefix_lemmas(formula)
    assert len(lemmas) == 3  # three constants on path, pairwise; arn's single test has no pair
    assert all(_valid(lemma) for lemma in lemmas)
    texts = {lemma.sexpr() for lemma in lemmas}
    assert z3.Implies(unit, org).sexpr() in texts
    assert z3.Not(z3.And(org, other)).sexpr() in texts or z3.Not(z3.And(other, org)).sexpr() in texts


def test_the_lemmas_decide_the_organization_path_contradiction_without_changing_it() -> None:
    path = z3.String("path")
    problem = z3.And(z3.PrefixOf(sval("o-1/r-1/ou-1/"), path), z3.Not(z3.PrefixOf(sval("o-1/"), path)))
    for extra in ([], prefix_lemmas(problem)):
        solver = z3.Solver()
        solver.add(problem, *extra)
        assert solver.check() == z3.unsat
    satisfiable = z3.And(z3.PrefixOf(sval("o-1/r-1/"), path), z3.Not(z3.PrefixOf(sval("o-2/"), path)))
    solver = z3.Solver()
    solver.add(satisfiable, *prefix_lemmas(satisfiable))
    assert solver.check() == z3.sat
    assert solver.model().eval(path).as_string().startswith("o-1/r-1/")


def test_escaped_text_is_compared_as_text_and_too_many_constants_are_left_alone() -> None:
    x = z3.String("x")
    short, longer = z3.PrefixOf(sval("é"), x), z3.PrefixOf(sval("éa"), x)
    assert [lemma.sexpr() for lemma in prefix_lemmas(z3.Or(short, longer))] == [z3.Implies(longer, short).sexpr()]
    many = z3.Or(*[z3.PrefixOf(sval(f"p{n:03d}/"), x) for n in range(MAX_PREFIXES + 1)])
    assert prefix_lemmas(many) == []

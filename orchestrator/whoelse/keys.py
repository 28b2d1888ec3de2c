"""Each condition key as a :class:`~orchestrator.whoelse.symbols.KeyVar`: derived from the caller, the
organization and the endpoint as ``engine/context.py`` and ``engine/organization.py`` derive them, or
free (a key of the request, any value or none).

Sorts: a key of :data:`~orchestrator.whoelse.symbols.FIXED_SORTS` has its sort; another free key takes
the sort of the operators that read it (``Numeric*`` a number, ``Date*`` a date (both whole), ``Bool`` boolean,
``IpAddress`` address, else string), and a condition whose operator is of another sort than its
key's is left outside the encoding (:mod:`orchestrator.whoelse.gaps`).
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

import z3

from orchestrator.authz.engine.conditions import Condition
from orchestrator.authz.engine.organization import Membership
from orchestrator.whoelse.question import Question
from orchestrator.whoelse.symbols import (ADDRESS, AWS_SUPPLIED, BOOLEAN, DATE, FIXED_SORTS, MULTIVALUED, NUMBER, ROOT,
                                          SERVICE, SESSION, STRING, USER, KeyVar, PrincipalVars, Slot, absent_key,
                                          fresh_value, ip_value)
from orchestrator.whoelse.text import sval

__all__ = ["operator_sort", "KeyPlan", "Keys", "Endpoint"]

_TAG = "aws:principaltag/"
_DERIVED = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:username", "aws:userid",
    "aws:principalisawsservice", "aws:principalservicename", "aws:sourceidentity", "aws:principalorgid",
    "aws:principalorgpaths", "aws:resourceorgid", "aws:resourceorgpaths", "aws:sourcevpce", "aws:sourcevpc",
    "aws:sourceip", "aws:vpcsourceip", "kms:calleraccount", "aws:resourceaccount",
})


def operator_sort(base: str) -> str | None:
    """The sort a base operator reads its key as (None: outside the encoding, BinaryEquals)."""
    if base.startswith("Numeric"):
        return NUMBER
    if base.startswith("Date"):
        return DATE
    if base == "Bool":
        return BOOLEAN
    if base == "IpAddress":
        return ADDRESS
    if base.startswith(("String", "Arn")):
        return STRING
    return None


def is_derived(key: str) -> bool:
    return key in _DERIVED or key.startswith(_TAG)


class KeyPlan:
    """What the policies ask of each key: the sorts of its operators, how many conditions read it,
    and its spelling (as a policy writes it, for the witness)."""

    def __init__(self, conditions: Iterable[Condition], variable_keys: Iterable[str]) -> None:
        self.sorts: dict[str, Counter[str]] = {}
        self.reads: Counter[str] = Counter()
        self.spelling: dict[str, str] = {}
        for condition in conditions:
            self.reads[condition.key_l] += 1
            self.spelling.setdefault(condition.key_l, condition.key)
            sort = operator_sort(condition.base) if condition.known and condition.base != "Null" else None
            if sort is not None:
                self.sorts.setdefault(condition.key_l, Counter())[sort] += 1
        for key in variable_keys:
            self.reads[key] += 1
            self.sorts.setdefault(key, Counter())[STRING] += 1

    def sort(self, key: str) -> str:
        if key in FIXED_SORTS:
            return FIXED_SORTS[key]
        if is_derived(key):
            return STRING
        used = self.sorts.get(key)
        if not used:
            return STRING
        if len(used) == 1:
            return next(iter(used))
        return STRING if STRING in used else sorted(used)[0]

    def slots(self, key: str) -> int:
        return max(1, self.reads[key]) if key in MULTIVALUED else 1


class Endpoint:
    """Which VPC endpoint the request comes through: -1 none, -2 one not declared, else the index
    of a declared endpoint. An undeclared endpoint has an id (not a declared one) and maybe a VPC."""

    NONE, UNDECLARED = -1, -2

    def __init__(self) -> None:
        self.choice = z3.Int("endpoint")
        self.vpce = z3.String("endpoint.vpce")
        self.vpc = Slot(z3.Bool("endpoint.vpc?"), z3.String("endpoint.vpc"))


class Keys:
    """The key variables of one question and action (made on first use)."""

    def __init__(self, question: Question, action: str, plan: KeyPlan, principal: PrincipalVars,
                 endpoint: Endpoint) -> None:
        self.question, self.action, self.plan = question, action.lower(), plan
        self.p, self.endpoint = principal, endpoint
        self.made: dict[str, KeyVar] = {}
        #: The undeclared account's organization (present: in an organization not declared).
        self.org = Slot(z3.Bool("p.org?"), z3.String("p.org"))
        self.org_path = Slot(z3.Bool("p.orgpath?"), z3.String("p.orgpath"))
        #: The request's own IP address (aws:SourceIp, or aws:VpcSourceIp through an endpoint).
        self.ip = Slot(z3.Bool("ip?"), ip_value("ip"))
        #: How the witness spells each encryption-context key (lower-case name -> the grants' spelling).
        self.ec_names: dict[str, str] = {}
        for grant in question.grants:
            for pairs in (grant.encryption_context_equals, grant.encryption_context_subset):
                for name in pairs or {}:
                    self.ec_names.setdefault(name.lower(), name)

    def ec_spelling(self, name: str) -> str:
        """The spelling of encryption-context key ``name`` in a witness."""
        return self.ec_names.get(name.lower(), name)

    def get(self, key: str) -> KeyVar:
        found = self.made.get(key)
        if found is None:
            found = self._derived(key) if is_derived(key) else self._free(key)
            self.made[key] = found
        return found

    def free(self) -> list[KeyVar]:
        return [var for var in self.made.values() if var.free]

    def _free(self, key: str) -> KeyVar:
        sort = self.plan.sort(key)
        slots = []
        for index in range(self.plan.slots(key)):
            name = f"k.{key}.{index}"
            bad = z3.BoolVal(False) if key in AWS_SUPPLIED or sort == STRING else z3.Bool(name + ".bad")
            slots.append(Slot(z3.Bool(name + "?"), fresh_value(name, sort), bad))
        return KeyVar(key, sort, tuple(slots), free=True)

    def _one(self, key: str, present: z3.BoolRef, value: z3.ExprRef, sort: str = STRING) -> KeyVar:
        return KeyVar(key, sort, (Slot(present, value),))

    def _derived(self, key: str) -> KeyVar:
        p = self.p
        if key.startswith(_TAG):
            slot = p.tag(key[len(_TAG):])
            return self._one(key, z3.And(z3.Or(p.is_(USER), p.is_(SESSION)), slot.present), slot.value)
        made = self._principal_key(key)
        if made is not None:
            return self._one(key, *made)
        if key == "aws:principalisawsservice":
            return self._one(key, z3.Or(p.iam, p.is_(SERVICE)), p.is_(SERVICE), BOOLEAN)
        if key in ("aws:principalorgid", "aws:principalorgpaths"):
            return self._principal_org(key)
        if key in ("aws:resourceorgid", "aws:resourceorgpaths"):
            return self._resource_org(key)
        if key in ("aws:sourcevpce", "aws:sourcevpc"):
            return self._endpoint_key(key)
        return self._ip_key(key)

    def _principal_key(self, key: str) -> tuple[z3.BoolRef, z3.ExprRef] | None:
        """(present, value) of a key derived from the caller alone (``context.derive_principal_key``)."""
        p = self.p
        if key == "aws:principalarn":
            return p.iam, z3.If(p.is_(SESSION), p.role_arn(), p.arn)
        if key == "aws:principalaccount":
            return p.iam, p.account
        if key == "aws:principaltype":
            return p.iam, z3.If(p.is_(USER), sval("User"), z3.If(p.is_(SESSION), sval("AssumedRole"), sval("Account")))
        if key == "aws:username":
            return p.is_(USER), p.name
        if key == "aws:userid":
            return (z3.Or(p.is_(ROOT), z3.And(z3.Or(p.is_(USER), p.is_(SESSION)), p.userid.present)),
                    z3.If(p.is_(ROOT), p.account, p.userid.value))
        if key == "aws:principalservicename":
            return p.is_(SERVICE), p.arn
        if key == "aws:sourceidentity":
            return z3.And(p.is_(SESSION), p.source_identity.present), p.source_identity.value
        if key == "aws:resourceaccount":
            account = self.question.resource_account
            return z3.BoolVal(account is not None), sval(account or "")
        if key == "kms:calleraccount":
            return z3.And(z3.BoolVal(self.action.startswith("kms:")), p.iam), p.account
        return None

    def _principal_org(self, key: str) -> KeyVar:
        p, organizations = self.p, self.question.organizations
        ids = key == "aws:principalorgid"
        undeclared = self.org if ids else self.org_path
        present, value = z3.And(self.org.present, undeclared.present), undeclared.value
        if not ids:  # an undeclared organization's paths start with its id, never a declared one's
            present = z3.And(present, *[z3.Not(z3.PrefixOf(sval(f"{org_id}/"), value))
                                        for org_id in declared_org_ids(self.question)])
        for account, membership in organizations.items():
            here = p.account == sval(account)
            present = z3.If(here, z3.BoolVal(True), present)
            value = z3.If(here, sval(membership.org_id if ids else membership.path()), value)
        return self._one(key, z3.And(p.iam, present), value)

    def _resource_org(self, key: str) -> KeyVar:
        org: Membership | None = self.question.resource_org
        if org is None:
            return absent_key(key)
        return self._one(key, z3.BoolVal(True), sval(org.org_id if key == "aws:resourceorgid" else org.path()))

    def _endpoint_key(self, key: str) -> KeyVar:
        e = self.endpoint
        vpce = key == "aws:sourcevpce"
        present = z3.BoolVal(False) if vpce else z3.And(e.choice == Endpoint.UNDECLARED, e.vpc.present)
        value = e.vpce if vpce else e.vpc.value
        if vpce:
            present = e.choice != Endpoint.NONE
        for index, endpoint in enumerate(self.question.endpoints):
            here = e.choice == index
            if vpce:
                value = z3.If(here, sval(endpoint.id), value)
            else:
                present = z3.If(here, z3.BoolVal(bool(endpoint.vpc)), present)
                value = z3.If(here, sval(endpoint.vpc), value)
        return self._one(key, present, value)

    def _ip_key(self, key: str) -> KeyVar:
        through = self.endpoint.choice != Endpoint.NONE
        present = z3.And(self.ip.present, through if key == "aws:vpcsourceip" else z3.Not(through))
        return KeyVar(key, ADDRESS, (Slot(z3.simplify(present), self.ip.value),))


def declared_org_ids(question: Question) -> list[str]:
    return sorted({membership.org_id for membership in question.organizations.values()})


__all__ += ["declared_org_ids", "is_derived"]

"""What a request may be (well-formed callers, endpoints and values) and which callers the
question is about (its :class:`~orchestrator.whoelse.question.Scope`).

Callers follow the ARN formats of the IAM User Guide, "IAM identifiers" (names of
``[A-Za-z0-9+=,.@_-]``, paths of such names each followed by ``/``), and "AWS STS ... assumed-role
session" ARNs; an account id is twelve digits.
"""
from __future__ import annotations

import ipaddress
import re

import z3

from orchestrator import arns
from orchestrator.authz.engine.operators import parse_date, parse_number
from orchestrator.authz.engine.request import Principal
from orchestrator.whoelse.accounts import known_accounts
from orchestrator.whoelse.identity import Identity
from orchestrator.whoelse.keys import Endpoint, Keys, declared_org_ids
from orchestrator.whoelse.logic import service_linked
from orchestrator.whoelse.question import Question, Scope, Universe
from orchestrator.whoelse.symbols import (ADDRESS, ANONYMOUS, BOOLEAN, DATE, MULTIVALUED, WHOLE, ROOT, SERVICE, SESSION, STRING, USER, TYPE_NAMES,
                                          PrincipalVars, Slot)
from orchestrator.whoelse.text import sval

__all__ = ["well_formed", "in_scope", "principal_values"]



def _name() -> z3.ReRef:
    chars = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"),
                     *[z3.Re(c) for c in "+=,.@_-"])
    return z3.Plus(chars)


def _path() -> z3.ReRef:
    """An IAM path without its leading ``/``: empty, or printable ASCII ending in ``/`` (IAM API
    Reference, "CreateRole", Path: ``(\u002F)|(\u002F[\u0021-\u007E]+\u002F)``)."""
    return z3.Union(z3.Re(""), z3.Concat(z3.Plus(z3.Range("!", "~")), z3.Re("/")))


def _account() -> z3.ReRef:
    return z3.Loop(z3.Range("0", "9"), 12, 12)


def well_formed(question: Question, p: PrincipalVars, endpoint: Endpoint, keys: Keys,
                identities: list[tuple[Identity, z3.BoolRef]]) -> list[z3.BoolRef]:
    """The constraints every request meets."""
    # the length said twice: the string solver reasons on lengths far sooner than on a regex's
    # (an ARN of another account then differs from a constant one at once: 1.4 s -> 0.01 s)
    iam_account = z3.And(z3.InRe(p.account, _account()), z3.Length(p.account) == 12)
    name, path = _name(), _path()
    found = [
        z3.And(p.kind >= USER, p.kind <= SERVICE),
        z3.Implies(p.is_(USER), z3.And(iam_account, z3.InRe(p.path, path), z3.InRe(p.name, name),
                                       p.arn == p.user_arn())),
        z3.Implies(p.is_(SESSION), z3.And(iam_account, z3.InRe(p.role_path, path), z3.InRe(p.role, name),
                                          z3.InRe(p.session, name),
                                          p.arn == p.session_arn())),
        z3.Implies(p.is_(ROOT), z3.And(iam_account, p.arn == p.root_arn())),
        z3.Implies(p.is_(ANONYMOUS), z3.And(p.arn == sval("anonymous"), p.account == sval(""))),
        z3.Implies(p.is_(SERVICE), z3.And(p.account == sval(""), z3.InRe(p.arn, z3.Plus(z3.Union(
            z3.Range("a", "z"), z3.Range("0", "9"), z3.Re("."), z3.Re("-")))))),
    ]
    for identity, here in identities:
        path = p.path if identity.kind == USER else p.role_path
        found.append(z3.Implies(here, path == sval(identity.path)))
        if identity.kind == USER:
            found += _tags_of(identity, p, here)
    for account in sorted(question.closed_accounts):
        found.append(z3.Implies(z3.And(z3.Or(p.is_(USER), p.is_(SESSION)), p.account == sval(account)),
                                z3.Or(*[here for _, here in identities]) if identities else z3.BoolVal(False)))
    found += _endpoint(question, endpoint)
    found += _organization(question, p, keys)
    return found


def _tags_of(identity: Identity, p: PrincipalVars, here: z3.BoolRef) -> list[z3.BoolRef]:
    tags = {key.lower(): value for key, value in identity.declared.tags.items()}
    found = []
    for key, (_, slot) in p.tags.items():
        if key in tags:
            found.append(z3.Implies(here, z3.And(slot.present, slot.value == sval(tags[key]))))
        else:
            found.append(z3.Implies(here, z3.Not(slot.present)))
    return found


def _endpoint(question: Question, endpoint: Endpoint) -> list[z3.BoolRef]:
    ids = [declared.id for declared in question.endpoints]
    return [z3.Or(endpoint.choice == Endpoint.NONE, endpoint.choice == Endpoint.UNDECLARED,
                  z3.And(endpoint.choice >= 0, endpoint.choice < len(ids))),
            z3.Implies(endpoint.choice == Endpoint.UNDECLARED,
                       z3.And(z3.InRe(endpoint.vpce, _endpoint_id()), *[endpoint.vpce != sval(i) for i in ids]))]


def _endpoint_id() -> z3.ReRef:
    """A VPC endpoint id: ``vpce-`` and lower-case letters and digits (VPC API Reference, "VpcEndpoint")."""
    return z3.Concat(z3.Re("vpce-"), z3.Plus(z3.Union(z3.Range("a", "z"), z3.Range("0", "9"))))


def _organization(question: Question, p: PrincipalVars, keys: Keys) -> list[z3.BoolRef]:
    """An account not declared in an organization is in none, or in one that is not declared."""
    members = [p.account == sval(account) for account in sorted(question.organizations)]
    return [z3.Implies(z3.Or(*members) if members else z3.BoolVal(False), z3.Not(keys.org.present)),
            *[keys.org.value != sval(org_id) for org_id in declared_org_ids(question)]]


def in_scope(question: Question, p: PrincipalVars, keys: Keys, endpoint: Endpoint) -> list[z3.BoolRef]:
    """The callers the question is about (and, with a universe, only its requests)."""
    scope: Scope = question.scope
    found = [z3.Not(_excluded(arn, p)) for arn in sorted(scope.excluding)]
    found += [p.account != sval(account) for account in sorted(scope.outside_accounts)]
    for org_id in sorted(scope.outside_organizations):
        members = [a for a, m in question.organizations.items() if m.org_id == org_id]
        found += [p.account != sval(account) for account in sorted(members)]
    if scope.public:
        strangers = z3.And(p.iam, *[p.account != sval(a) for a in sorted(known_accounts(question))])
        found.append(z3.Or(p.is_(ANONYMOUS), strangers))
    if not scope.service_linked:
        found.append(z3.Not(service_linked(p)))
    if scope.accounts:
        found.append(z3.And(p.iam, z3.Or(*[p.account == sval(account) for account in sorted(scope.accounts)])))
    if scope.types:
        found.append(z3.Or(*[p.is_(TYPE_NAMES.index(name)) for name in sorted(scope.types)]))
    if scope.within is not None:
        found += _within(scope.within, question, p, keys, endpoint)
    return found


def _excluded(arn: str, p: PrincipalVars) -> z3.BoolRef:
    if arn == "anonymous":
        return p.is_(ANONYMOUS)
    if re.fullmatch(r"\d{12}", arn):
        return z3.And(p.iam, p.account == sval(arn))
    for pattern, kind in ((arns.IAM_USER_ARN, USER), (arns.ROLE_ARN, SESSION)):
        found = pattern.match(arn)
        if found is not None:
            name = p.name if kind == USER else p.role
            return z3.And(p.is_(kind), p.account == sval(found["account"]), name == sval(found["name"]))
    root = arns.ROOT_ARN.match(arn)
    if root is not None:
        return z3.And(p.is_(ROOT), p.account == sval(root["account"]))
    return p.arn == sval(arn)


def _within(universe: Universe, question: Question, p: PrincipalVars, keys: Keys, endpoint: Endpoint) -> list[z3.BoolRef]:
    found = [z3.Or(*[_is_principal(u, p) for u in universe.principals]),
             z3.Not(p.userid.present), z3.Not(p.source_identity.present), z3.Not(keys.org.present)]
    found += [z3.Not(slot.present) for _, slot in p.tags.values()]
    ids = [declared.id for declared in question.endpoints]
    choices = []
    for vpce in universe.endpoints:
        if vpce is None:
            choices.append(endpoint.choice == Endpoint.NONE)
        elif vpce in ids:
            choices.append(endpoint.choice == ids.index(vpce))
        else:
            choices.append(z3.And(endpoint.choice == Endpoint.UNDECLARED, endpoint.vpce == sval(vpce),
                                  z3.Not(endpoint.vpc.present)))
    found.append(z3.Or(*choices))
    values = {key.lower(): listed for key, listed in universe.values.items()}
    found.append(_one_of(keys.ip, ADDRESS, values.get("aws:sourceip", (None,))))
    for var in keys.free():
        listed = values.get(var.name, (None,))
        if var.name in MULTIVALUED:   # a set of the listed values, maybe empty
            listed = (*listed, None)
        for slot in var.slots:
            found.append(_one_of(slot, var.sort, listed))
    return found


def principal_values(u: Principal, p: PrincipalVars) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """The caller's variables bound to ``u``'s values (its ARN taken apart: the solver need not)."""
    kinds = {"User": USER, "AssumedRole": SESSION, "Account": ROOT, "Anonymous": ANONYMOUS, "Service": SERVICE}
    kind = kinds[u.type]
    bound: list[tuple[z3.ExprRef, z3.ExprRef]] = [(p.kind, z3.IntVal(kind)), (p.account, sval(u.account)),
                                                  (p.arn, sval(u.arn))]
    if kind == USER:
        path, _, name = u.arn.split(":user/", 1)[1].rpartition("/")
        bound += [(p.path, sval(path + "/" if path else "")), (p.name, sval(name))]
    elif kind == SESSION:
        session = arns.SESSION_ARN.match(u.arn)
        role_arn = u.role_arn or arns.session_role_arn(u.arn) or ""
        role_path = role_arn.split(":role/", 1)[1].rpartition("/")[0]
        assert session is not None, u.arn
        bound += [(p.role, sval(session["role"])), (p.session, sval(session["session"])),
                  (p.role_path, sval(role_path + "/" if role_path else ""))]
    return bound


def _is_principal(u: Principal, p: PrincipalVars) -> z3.BoolRef:
    return z3.And(*[var == value for var, value in principal_values(u, p)])


def _one_of(slot: Slot, sort: str, listed: tuple[str | None, ...]) -> z3.BoolRef:
    options = [z3.Not(slot.present) if text is None else z3.And(slot.present, z3.Not(slot.bad), _value_is(slot.value, sort, text))
               for text in listed]
    return z3.Or(*options) if options else z3.Not(slot.present)


def _value_is(value, sort: str, text: str) -> z3.BoolRef:
    if sort == STRING:
        return value == sval(text)
    if sort in WHOLE:
        number = parse_date(text) if sort == DATE else parse_number(text)
        return value == int(number) if number is not None and number == int(number) else z3.BoolVal(False)
    if sort == BOOLEAN:
        return value == (text.lower() == "true")
    address = ipaddress.ip_address(text)
    if address.version == 4:
        return z3.And(z3.Not(value.v6), value.v4 == int(address))
    return z3.And(value.v6, value.v6bits == int(address))

"""The request as z3 variables: who calls (type, account, ARN and its parts), through which VPC
endpoint, and each condition key the policies read.

A key is a list of *slots* (present, value): one for a single-valued key, and for a multivalued key
(``aws:TagKeys``, ``kms:EncryptionContextKeys`` ...) as many as the conditions that read it, which is
enough: each condition on a set of values is decided by at most one value of it (a value that
satisfies a ForAnyValue, one that breaks a ForAllValues), so any set of values that lets a request in
has a subset of that size that does too (docs/whoelse.md). A key's values have a sort: string,
integer (numbers and dates, in seconds), boolean or IP address (IPv4 or IPv6); a value AWS does not
supply may also be *malformed* (not of the operator's type: neither the operator nor its negation
holds, as in ``engine/operators.py``).

The keys AWS derives from the caller (``aws:PrincipalArn``, ``aws:username``, ``aws:PrincipalTag/*``,
``aws:PrincipalOrgID`` ...) are expressions over the principal's variables, as
``engine/context.py`` derives them; the others are free.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3

from orchestrator import arns
from orchestrator.whoelse.text import sval

__all__ = ["USER", "SESSION", "ROOT", "ANONYMOUS", "SERVICE", "TYPE_NAMES", "Slot", "KeyVar", "PrincipalVars",
           "STRING", "INTEGER", "NUMBER", "DATE", "WHOLE", "BOOLEAN", "ADDRESS", "MULTIVALUED", "AWS_SUPPLIED", "FIXED_SORTS",
           "ip_value", "IpValue"]

#: Principal types (``Principal.type`` in TYPE_NAMES).
USER, SESSION, ROOT, ANONYMOUS, SERVICE = range(5)
TYPE_NAMES = ("User", "AssumedRole", "Account", "Anonymous", "Service")

STRING, BOOLEAN, ADDRESS = "string", "boolean", "address"
#: Whole numbers read by Numeric* (NUMBER), by Date* (DATE: a date's text is no number, nor a number's
#: always a date, so one key is not read both ways), or both (INTEGER: epoch seconds AWS supplies).
NUMBER, DATE, INTEGER = "number", "date", "integer"
WHOLE = frozenset({NUMBER, DATE, INTEGER})

#: Keys with more than one value in a request (IAM User Guide, "Single-valued vs. multivalued
#: context keys"); any other key has at most one.
MULTIVALUED = frozenset({
    "aws:tagkeys", "kms:encryptioncontextkeys", "kms:grantoperations", "kms:resourcealiases",
    "sts:transitivetagkeys", "aws:calledvia", "aws:principalservicenameslist", "kms:grantconstrainttype",
})
#: Keys whose sort is known, and that AWS itself supplies (never malformed).
FIXED_SORTS = {
    "aws:sourceip": ADDRESS, "aws:vpcsourceip": ADDRESS,
    "aws:currenttime": DATE, "aws:tokenissuetime": DATE, "aws:epochtime": INTEGER,
    "aws:multifactorauthage": NUMBER,
    "aws:securetransport": BOOLEAN, "aws:multifactorauthpresent": BOOLEAN, "aws:viaawsservice": BOOLEAN,
    "aws:principalisawsservice": BOOLEAN,
}
AWS_SUPPLIED = frozenset(FIXED_SORTS)


@dataclass(frozen=True)
class IpValue:
    """An IP address: IPv6 or not, and the address as a bit-vector of its width."""

    v6: z3.BoolRef
    v4: z3.BitVecRef
    v6bits: z3.BitVecRef


def ip_value(name: str) -> IpValue:
    return IpValue(z3.Bool(f"{name}.is6"), z3.BitVec(f"{name}.v4", 32), z3.BitVec(f"{name}.v6", 128))


@dataclass(frozen=True)
class Slot:
    """One value of a key: whether it is there, its value (sort of its key), whether it is malformed."""

    present: z3.BoolRef
    value: Any
    bad: z3.BoolRef = field(default_factory=lambda: z3.BoolVal(False))


@dataclass(frozen=True)
class KeyVar:
    """A condition key: its sort and its slots (free: a key of the request, set in the witness)."""

    name: str
    sort: str
    slots: tuple[Slot, ...]
    free: bool = False

    @property
    def present(self) -> z3.BoolRef:
        return z3.Or(*[slot.present for slot in self.slots]) if len(self.slots) > 1 else self.slots[0].present


def absent_key(name: str, sort: str = STRING) -> KeyVar:
    return KeyVar(name, sort, (Slot(z3.BoolVal(False), _default(sort)),))


def _default(sort: str) -> Any:
    if sort == STRING:
        return z3.StringVal("")
    if sort in WHOLE:
        return z3.IntVal(0)
    if sort == BOOLEAN:
        return z3.BoolVal(False)
    return IpValue(z3.BoolVal(False), z3.BitVecVal(0, 32), z3.BitVecVal(0, 128))


def fresh_value(name: str, sort: str) -> Any:
    if sort == STRING:
        return z3.String(name)
    if sort in WHOLE:
        return z3.Int(name)
    if sort == BOOLEAN:
        return z3.Bool(name)
    return ip_value(name)


_MARK = "\0"


def _mark(part: str) -> str:
    """A placeholder for one of the caller's parts in an ARN built by ``orchestrator/arns.py``."""
    return f"{_MARK}{part}{_MARK}"


class PrincipalVars:
    """The caller: its type, account and ARN, with the ARN's parts.

    * user: ``arn:aws:iam::ACCOUNT:user/`` + path + name (path: ``a/b/`` or empty);
    * session: ``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``, its role
      ``arn:aws:iam::ACCOUNT:role/`` + role path + ROLE (``aws:PrincipalArn``);
    * root: ``arn:aws:iam::ACCOUNT:root``; anonymous: ``anonymous``, no account; a service: its
      name, no account.
    """

    def __init__(self) -> None:
        self.kind = z3.Int("p.type")
        self.account = z3.String("p.account")
        self.arn = z3.String("p.arn")
        self.path, self.name = z3.String("p.path"), z3.String("p.name")       # user
        self.role_path, self.role = z3.String("p.role_path"), z3.String("p.role")  # session
        self.session = z3.String("p.session")
        self.userid = Slot(z3.Bool("p.userid?"), z3.String("p.userid"))
        self.source_identity = Slot(z3.Bool("p.source_identity?"), z3.String("p.source_identity"))
        self.tags: dict[str, tuple[str, Slot]] = {}

    def is_(self, kind: int) -> z3.BoolRef:
        return self.kind == kind

    @property
    def iam(self) -> z3.BoolRef:
        """A signed IAM caller (user, session or root): it has an account."""
        return z3.Or(self.is_(USER), self.is_(SESSION), self.is_(ROOT))

    def role_arn(self) -> z3.SeqRef:
        return self.arn_of(arns.role_arn(_mark("account"), _mark("role"), "/" + _mark("role_path")))

    def user_arn(self) -> z3.SeqRef:
        return self.arn_of(arns.user_arn(_mark("account"), _mark("name"), "/" + _mark("path")))

    def session_arn(self) -> z3.SeqRef:
        return self.arn_of(arns.assumed_role_arn(_mark("account"), _mark("role"), _mark("session")))

    def root_arn(self) -> z3.SeqRef:
        return self.arn_of(arns.root_arn(_mark("account")))

    def arn_of(self, template: str) -> z3.SeqRef:
        """An ARN that ``orchestrator/arns.py`` builds of marked parts, with this caller's parts in."""
        pieces = template.split(_MARK)
        parts = [getattr(self, piece) if index % 2 else sval(piece) for index, piece in enumerate(pieces) if piece or index % 2]
        return z3.Concat(*parts) if len(parts) > 1 else parts[0]

    def tag(self, key: str) -> Slot:
        """The slot of principal tag ``key`` (lower-case), made on first use."""
        found = self.tags.get(key)
        if found is None:
            index = len(self.tags)
            found = (key, Slot(z3.Bool(f"p.tag{index}?"), z3.String(f"p.tag{index}")))
            self.tags[key] = found
        return found[1]

    def session_of(self, account: str, role: str) -> z3.BoolRef:
        return z3.And(self.is_(SESSION), self.account == sval(account), self.role == sval(role))

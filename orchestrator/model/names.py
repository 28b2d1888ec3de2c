"""AWS's rules for the names orchestrate makes, and the physical names themselves.

A scenario's entity `NAME` becomes `RUN-NAME` under `--run-id RUN` (`physical_name`; buckets in
lower case), a key's alias `alias/NAME` becomes `alias/RUN-NAME`, a grant `orchestrate/RUN-NAME`,
and the run id, the scenario's name and each entity's name are tag values on what is made
(resources/context.py, `ownership_tags`). Each physical name must obey the strictest rule of the
resource it names, else AWS refuses it half-way through an apply (and a destroy then fails on the
same name). `name_problems` checks every one of them for a run id, before anything is made:

* IAM user, group, role and managed policy names: letters, digits and `+=,.@_-` (IAM User Guide,
  "IAM and AWS STS quotas", "IAM name requirements"); users and roles at most 64 characters,
  groups and policies 128 (IAM API Reference, CreateUser, CreateRole, CreateGroup, CreatePolicy:
  pattern `[\\w+=,.@-]+`).
* KMS alias names: 1 to 256 characters of letters, digits, `/`, `_` and `-`, `alias/` included,
  never under `alias/aws/` (KMS Developer Guide, "Create aliases"; KMS API Reference, CreateAlias:
  `^alias/[a-zA-Z0-9/_-]+$`). Grant names: 1 to 256 of `[a-zA-Z0-9:/_-]` (KMS API Reference,
  CreateGrant, Name).
* DynamoDB table names: 3 to 255 of letters, digits, `_`, `-` and `.` (DynamoDB Developer Guide,
  "Supported data types and naming rules in Amazon DynamoDB").
* S3 bucket names: 3 to 63 lowercase letters, digits, `.` and `-`, beginning and ending with a
  letter or digit, no two adjacent periods, not an IP address, none of the reserved prefixes and
  suffixes (S3 User Guide, "General purpose bucket naming rules").
* Tag values: at most 256 Unicode letters, digits, spaces and `_.:/=+-@` (IAM API Reference, Tag:
  `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*`; the same set on KMS, DynamoDB and S3 tags). A comma, which IAM
  names allow, is not among them.

Role session names (2 to 64 of `[\\w+=,.@-]`, STS API Reference, AssumeRole) carry no run id:
orchestrate's own are `orchestrate-` and 16 hexadecimal digits, and a scenario's `session_name`
is checked by the model (model/scenario.py, SessionName).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

PathElement = str | int
_IAM = "A-Za-z0-9_+=,.@-"
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_TAG_PUNCTUATION = "_.:/=+-@"
GRANT_PREFIX = "orchestrate/"


@dataclass(frozen=True)
class NameRule:
    """One AWS name rule: the characters allowed, the length, anything beyond, and its source."""

    what: str
    characters: str  # a regular-expression character class's inside, or "" for tag values
    low: int
    high: int
    source: str
    beyond: Callable[[str], str | None] | None = None

    def breach(self, name: str) -> str | None:
        """How ``name`` breaks the rule (None: it does not)."""
        if not self.low <= len(name) <= self.high:
            return f"{len(name)} characters, where {self.low} to {self.high} are allowed"
        refused = sorted({c for c in name if not self._allows(c)})
        if refused:
            return f"{', '.join(repr(c) for c in refused)} not allowed (only {self._words()})"
        return self.beyond(name) if self.beyond is not None else None

    def _allows(self, character: str) -> bool:
        if not self.characters:  # tag values: Unicode letters (L), separators (Z), numbers (N)
            return unicodedata.category(character)[0] in "LZN" or character in _TAG_PUNCTUATION
        return re.fullmatch(f"[{self.characters}]", character) is not None

    def _words(self) -> str:
        if not self.characters:
            return f"letters, digits, spaces and {_TAG_PUNCTUATION}"
        extra = re.sub(r"A-Z|a-z|0-9", "", self.characters).replace("\\", "")
        return f"{'lowercase ' if 'A-Z' not in self.characters else ''}letters, digits and {extra}"


def _alias_beyond(name: str) -> str | None:
    if not name.startswith("alias/"):
        return "an alias name begins with alias/"
    return "the alias/aws/ prefix is reserved for AWS managed keys" if name.startswith("alias/aws/") else None


def _bucket_beyond(name: str) -> str | None:
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "a bucket name begins and ends with a letter or digit"
    if ".." in name:
        return "two adjacent periods"
    if _IP_ADDRESS.fullmatch(name):
        return "formatted as an IP address"
    reserved = [p for p in _BUCKET_PREFIXES if name.startswith(p)] + [s for s in _BUCKET_SUFFIXES if name.endswith(s)]
    return f"{reserved[0]!r} is reserved" if reserved else None


IAM_USER = NameRule("IAM user name", _IAM, 1, 64, "IAM API Reference, CreateUser")
IAM_GROUP = NameRule("IAM group name", _IAM, 1, 128, "IAM API Reference, CreateGroup")
IAM_ROLE = NameRule("IAM role name", _IAM, 1, 64, "IAM API Reference, CreateRole")
IAM_POLICY = NameRule("IAM policy name", _IAM, 1, 128, "IAM API Reference, CreatePolicy")
KMS_ALIAS = NameRule("KMS alias name", "A-Za-z0-9/_-", 1, 256, "KMS Developer Guide, \"Create aliases\"", _alias_beyond)
KMS_GRANT = NameRule("KMS grant name", "A-Za-z0-9:/_-", 1, 256, "KMS API Reference, CreateGrant")
DYNAMODB_TABLE = NameRule("DynamoDB table name", "A-Za-z0-9_.-", 3, 255,
                          "DynamoDB Developer Guide, \"Supported data types and naming rules\"")
S3_BUCKET = NameRule("S3 bucket name", "a-z0-9.-", 3, 63, "S3 User Guide, \"General purpose bucket naming rules\"",
                     _bucket_beyond)
#: The values of the ownership tags: the scenario's name, the run id, each entity's name.
SCENARIO_TAG = NameRule("tag value (orchestrate:scenario)", "", 0, 256, "IAM API Reference, Tag")
RUN_TAG = NameRule("tag value (orchestrate:run)", "", 0, 256, "IAM API Reference, Tag")
NAME_TAG = NameRule("tag value (orchestrate:name)", "", 0, 256, "IAM API Reference, Tag")
#: The section of a scenario and the rule its entities' physical names obey.
ENTITY_RULES: tuple[tuple[str, NameRule], ...] = (
    ("users", IAM_USER), ("groups", IAM_GROUP), ("roles", IAM_ROLE), ("policies", IAM_POLICY),
    ("tables", DYNAMODB_TABLE), ("buckets", S3_BUCKET))
#: The sections whose entities carry orchestrate's ownership tags (IAM groups cannot be tagged).
TAGGED_SECTIONS = ("users", "roles", "policies", "keys", "tables", "buckets")


def scenario_path(scenario: str) -> str:
    """The IAM path that marks a scenario's groups, policies and (by default) roles as its own."""
    return f"/orchestrate/{scenario}/"


def physical_name(run_id: str | None, name: str) -> str:
    """The name an entity has in AWS: `RUN-NAME` under a run id, so that parallel runs of one
    scenario in one account do not collide."""
    return f"{run_id}-{name}" if run_id else name


def made_name(section: str, run_id: str | None, name: str) -> str:
    """The physical name of an entity of ``section`` (S3 bucket names are lowercase)."""
    made = physical_name(run_id, name)
    return made.lower() if section == "buckets" else made


@dataclass(frozen=True)
class NameProblem:
    """A name orchestrate would make that AWS refuses: where it comes from, the name, and why."""

    path: tuple[PathElement, ...]
    made: str
    rule: NameRule
    breach: str

    def words(self) -> str:
        shown = self.made if len(self.made) <= 80 else f"{self.made[:60]}...{self.made[-10:]}"
        return f"{shown!r} is not a valid {self.rule.what}: {self.breach} ({self.rule.source})"


def name_problems(scenario: str, states: Iterable[Any], run_id: str | None) -> list[NameProblem]:
    """Every name made for the scenario's entities in any of its desired states (and the tag
    values that carry the scenario's name, the run id and each entity's name) that breaks its rule."""
    problems: list[NameProblem] = []
    seen: set[tuple[tuple[PathElement, ...], str]] = set()
    for path, made, rule in _made_names(scenario, list(states), run_id):
        breach = rule.breach(made)
        if breach is not None and (path, rule.what) not in seen:
            seen.add((path, rule.what))
            problems.append(NameProblem(path, made, rule, breach))
    return problems


def _made_names(scenario: str, states: list[Any], run_id: str | None) -> Iterator[tuple[tuple[PathElement, ...], str, NameRule]]:
    if any(getattr(state, section) for state in states for section in TAGGED_SECTIONS):
        yield ("name",), scenario, SCENARIO_TAG
        if run_id:
            yield ("--run-id",), run_id, RUN_TAG
    for state in states:
        for section, rule in ENTITY_RULES:
            for name in getattr(state, section):
                yield (section, name), made_name(section, run_id, name), rule
        for section in TAGGED_SECTIONS:
            for name in getattr(state, section):
                yield (section, name), name, NAME_TAG
        yield from _key_names(state, run_id)


def _key_names(state: Any, run_id: str | None) -> Iterator[tuple[tuple[PathElement, ...], str, NameRule]]:
    """A key's aliases (`alias/RUN-NAME`) and grants (`orchestrate/RUN-NAME`): resources/kms_key.py, kms_grant.py."""
    for key_name, key in state.keys.items():
        for index, alias in enumerate(key.aliases):
            made = "alias/" + physical_name(run_id, alias.removeprefix("alias/"))
            yield ("keys", key_name, "aliases", index), made, KMS_ALIAS
        for grant in key.grants:
            yield ("keys", key_name, "grants", grant), GRANT_PREFIX + physical_name(run_id, grant), KMS_GRANT

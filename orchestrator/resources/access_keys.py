"""orchestrate's marks on the access keys it makes, after AWS's own convention for a key's description.

IAM User Guide, "Manage access keys for IAM users" (and IAM API Reference, TagUser): the console
keeps an access key's description as a tag on the key's user whose key is the access key id.
orchestrate writes such a tag, valued `orchestrate:run=RUN session=S`, for every key it makes and
before the key is used. A key without it is not orchestrate's, and is never deleted by a run (an
adopted user may hold its owner's keys); drift reports it.

CreateAccessKey and TagUser are two calls, and a process can die between them. So a pending mark
(tag `orchestrate:key-pending`) is written first; it names the session, the time and the keys
the user already holds, which lets the next run recognise the one key made under it.

Tag values hold only letters, digits, spaces and `_.:/=+-@` (IAM API Reference, Tag), and at
most 256 characters; no secret is ever part of one.
"""

from __future__ import annotations

from orchestrator.constants import TAG_PREFIX, TAG_RUN

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

PENDING_TAG = f"{TAG_PREFIX}key-pending"
MARK_PREFIX = f"{TAG_RUN}="
#: IAM API Reference, AccessKey: an access key id is 16 to 128 characters of `\w`.
_ACCESS_KEY_ID = re.compile(r"\w{16,128}")
_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
#: AWS rejects a signed request whose time is more than 5 minutes from its own (AWS General
#: Reference, "Signature Version 4: elements of a request signature"), and a CreateAccessKey call
#: lasts at most its timeouts and retries: a key made under a pending mark was created this close
#: to the mark's time, as AWS's clock reads it.
PENDING_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class KeyMark:
    """Which run, and which invocation of it (session), made a key."""

    run: str
    session: str

    @property
    def value(self) -> str:
        return f"{MARK_PREFIX}{self.run} session={self.session}"


@dataclass(frozen=True)
class PendingMark:
    """Written just before CreateAccessKey: who is about to make a key, when, and what was held."""

    mark: KeyMark
    at: datetime
    held: tuple[str, ...]

    @property
    def value(self) -> str:
        held = "+".join(self.held) or "-"
        return f"{self.mark.value} at={self.at.astimezone(timezone.utc).strftime(_TIME_FORMAT)} held={held}"

    def made(self, key: dict[str, Any]) -> bool:
        """Whether `key` (ListAccessKeys metadata) can be the one made under this mark."""
        if key["AccessKeyId"] in self.held:
            return False
        created = key.get("CreateDate")
        return isinstance(created, datetime) and abs(created - self.at) <= PENDING_WINDOW


def _fields(value: str) -> dict[str, str] | None:
    if not value.startswith(MARK_PREFIX):
        return None
    fields = dict(part.partition("=")[::2] for part in value.removeprefix(TAG_PREFIX).split(" "))
    return fields if fields.get("run") and fields.get("session") else None


def parse_mark(key: str, value: str) -> KeyMark | None:
    """The mark a user tag holds, if it is one: key an access key id, value orchestrate's."""
    fields = _fields(value) if _ACCESS_KEY_ID.fullmatch(key) else None
    return KeyMark(fields["run"], fields["session"]) if fields else None


def parse_pending(tags: dict[str, str]) -> PendingMark | None:
    fields = _fields(tags.get(PENDING_TAG, ""))
    if fields is None or "at" not in fields:
        return None
    try:
        at = datetime.strptime(fields["at"], _TIME_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    held = tuple(k for k in fields.get("held", "-").split("+") if k and k != "-")
    return PendingMark(KeyMark(fields["run"], fields["session"]), at, held)


def key_marks(tags: dict[str, str]) -> dict[str, KeyMark]:
    """access key id -> mark, for every mark among a user's tags."""
    found = {key: parse_mark(key, value) for key, value in tags.items()}
    return {key: mark for key, mark in found.items() if mark is not None}


def without_marks(tags: dict[str, str]) -> dict[str, str]:
    """A user's tags less orchestrate's key marks (they describe keys, not the user)."""
    return {k: v for k, v in tags.items() if parse_mark(k, v) is None and k != PENDING_TAG}


def list_keys(iam: Any, user: str) -> list[dict[str, Any]]:
    """ListAccessKeys, every page."""
    keys: list[dict[str, Any]] = []
    for page in iam.get_paginator("list_access_keys").paginate(UserName=user):
        keys += page["AccessKeyMetadata"]
    return keys


def unmarked(keys: list[dict[str, Any]], tags: dict[str, str]) -> list[dict[str, Any]]:
    """The keys orchestrate did not make: no mark names them."""
    marks = key_marks(tags)
    return [key for key in keys if key["AccessKeyId"] not in marks]


def describe(key: dict[str, Any]) -> dict[str, str]:
    """A key as drift shows it: enough to find it in the console, never the whole id."""
    key_id = key["AccessKeyId"]
    created = key.get("CreateDate")
    return {
        "AccessKeyId": f"{key_id[:4]}...{key_id[-4:]}",
        "Status": str(key.get("Status", "")),
        "CreateDate": created.isoformat() if isinstance(created, datetime) else str(created or ""),
    }

"""Credentials for scenario principals: access keys made for the run, marked, and always deleted after.

The secret lives only in memory, in a Credentials value whose repr hides it; nothing here
prints, logs or writes it. Every key is marked on its user before it is used (see
`orchestrator.resources.access_keys`), so that a run that never finished (killed, or cut off
from AWS) leaves keys the next run can recognise: entering PrincipalKeys deletes them, and
their marks, before any key is made. Keys without orchestrate's mark are never touched.
Keys are deleted when the run ends, whether it passed, failed or was interrupted.

IAM API Reference: CreateAccessKey (at most two keys a user: `LimitExceeded`, which leftovers
would reach), DeleteAccessKey, TagUser, UntagUser, ListUserTags, ListAccessKeys.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from orchestrator.backends.base import Credentials
from orchestrator.model.scenario import DesiredState
from orchestrator.resources.access_keys import (PENDING_TAG, KeyMark, PendingMark, key_marks, list_keys,
                                                parse_pending)
from orchestrator.resources.base import error_code, tag_dict
from orchestrator.resources.context import DEFAULT_RUN, RunContext


def scenario_users(states: Iterable[DesiredState]) -> list[str]:
    """Every user any state declares: a leftover key may sit on one the next states drop."""
    return sorted({name for state in states for name in state.users})


class PrincipalKeys:
    def __init__(self, ctx: RunContext, users: Iterable[str] = ()) -> None:
        self.ctx = ctx
        self.users = list(users)
        self.mark = KeyMark(ctx.run_id or DEFAULT_RUN, secrets.token_hex(8))
        self._keys: dict[str, Credentials] = {}
        #: users whose pending mark is written and whose key this process may not know of yet
        self._pending: set[str] = set()
        #: access keys of runs that did not finish, deleted when this one started
        self.swept = 0

    def _iam(self, user: str) -> Any:
        """IAM as orchestrate's identity in the user's account (keys are made where the user is)."""
        return self.ctx.for_entity("users", user).backend.client("iam")

    def credentials(self, user: str) -> Credentials:
        """The access key of scenario user `user`, made (and marked) on first use."""
        if user not in self._keys:
            self._keys[user] = self._make(user)
        return self._keys[user]

    def _make(self, user: str) -> Credentials:
        iam = self._iam(user)
        physical = self.ctx.physical(user)
        held = tuple(key["AccessKeyId"] for key in list_keys(iam, physical))
        pending = PendingMark(self.mark, datetime.now(timezone.utc), held)
        self._pending.add(user)
        iam.tag_user(UserName=physical, Tags=[{"Key": PENDING_TAG, "Value": pending.value}])
        answer = iam.create_access_key(UserName=physical)["AccessKey"]
        credentials = Credentials(answer["AccessKeyId"], answer["SecretAccessKey"])
        self._keys[user] = credentials  # from here on, the end of the run deletes it whatever happens
        self._pending.discard(user)
        iam.tag_user(UserName=physical, Tags=[{"Key": credentials.access_key_id, "Value": self.mark.value}])
        return credentials

    def delete_all(self) -> list[str]:
        """Delete every key made; returns the users whose key could not be deleted.

        A signal that arrives meanwhile (SIGTERM raises in the main thread, once) must not cut
        the cleanup short: the step it interrupted is done again, the rest follows, and the
        exception goes on afterwards."""
        failed: list[str] = []
        interrupted: BaseException | None = None
        steps = [lambda user=user: self._delete_made(user, failed) for user in list(self._keys)]
        steps += [lambda user=user: self._resolve_own_pending(user) for user in sorted(self._pending)]
        for step in steps:
            try:
                step()
            except BaseException as error:
                interrupted = interrupted or error
                step()
        if interrupted is not None:
            raise interrupted
        return failed

    def _delete_made(self, user: str, failed: list[str]) -> None:
        if user not in self._keys:
            return
        iam = self._iam(user)
        physical = self.ctx.physical(user)
        credentials = self._keys[user]
        if _delete_key(iam, physical, credentials.access_key_id) is False:
            failed.append(user)  # its mark stays, so that the next run deletes it
        else:
            _untag(iam, physical, [credentials.access_key_id, PENDING_TAG])
        self.ctx.backend.forget_principal(credentials)
        del self._keys[user]

    def _resolve_own_pending(self, user: str) -> None:
        """A user cut off between its pending mark and knowing its key: that key is found and deleted."""
        if user in self._pending:
            self._sweep_user(user, own=True)
            self._pending.discard(user)

    def sweep(self) -> int:
        """Delete the marked keys that runs which did not finish left on this scenario's users."""
        self.swept += sum(self._sweep_user(user, own=False) for user in self.users)
        return self.swept

    def _sweep_user(self, user: str, own: bool) -> int:
        """Delete a user's leftover keys: those marked by other sessions of this run (own: False),
        and the key made under a pending mark that was never followed by its mark."""
        iam = self._iam(user)
        physical = self.ctx.physical(user)
        tags = _tags(iam, physical)
        if tags is None or not self.ctx.owns(tags):
            return 0
        all_marks = key_marks(tags)
        marks = [] if own else sorted(key for key, mark in all_marks.items()
                                      if mark.run == self.mark.run and mark.session != self.mark.session)
        pending = self._pending_to_resolve(tags, own)
        doomed = set(marks) | (_made_unmarked(iam, physical, pending, all_marks) if pending else set())
        outcomes = {key: _delete_key(iam, physical, key) for key in sorted(doomed)}
        gone = [key for key in marks if outcomes[key] is not False]
        resolved = [PENDING_TAG] if pending and False not in outcomes.values() else []
        _untag(iam, physical, gone + resolved)
        return sum(1 for outcome in outcomes.values() if outcome is True)

    def _pending_to_resolve(self, tags: dict[str, str], own: bool) -> PendingMark | None:
        """The user's pending mark when it is this run's: another session's at the start, ours at the end."""
        pending = parse_pending(tags)
        if pending is None or pending.mark.run != self.mark.run:
            return None
        return pending if (pending.mark.session == self.mark.session) == own else None

    def __enter__(self) -> PrincipalKeys:
        self.sweep()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.delete_all()


def _tags(iam: Any, user: str) -> dict[str, str] | None:
    """A user's tags, or None when there is no such user."""
    try:
        return tag_dict(iam.list_user_tags(UserName=user).get("Tags"))
    except Exception as error:
        if error_code(error) == "NoSuchEntity":
            return None
        raise


def _made_unmarked(iam: Any, user: str, pending: PendingMark, marks: dict[str, KeyMark]) -> set[str]:
    """The key made under `pending` whose own mark was never written, when that is unambiguous."""
    if any(mark.session == pending.mark.session for mark in marks.values()):
        return set()  # its key was marked: the marks account for it
    candidates = [key["AccessKeyId"] for key in list_keys(iam, user)
                  if key["AccessKeyId"] not in marks and pending.made(key)]
    # two candidates: one may be the owner's, made meanwhile; touching neither is the safe side
    return set(candidates) if len(candidates) == 1 else set()


def _delete_key(iam: Any, user: str, key: str) -> bool | None:
    """DeleteAccessKey: True deleted, None already gone, False could not be deleted."""
    try:
        iam.delete_access_key(UserName=user, AccessKeyId=key)
    except Exception as error:  # keep going: every other key must still be deleted
        return None if error_code(error) == "NoSuchEntity" else False
    return True


def _untag(iam: Any, user: str, keys: list[str]) -> None:
    """Remove marks; one left behind names no live key and the next run removes it."""
    if not keys:
        return
    try:
        iam.untag_user(UserName=user, TagKeys=keys)
    except Exception:  # a mark that names no live key grants nothing; cleanup goes on
        pass

"""Credentials for scenario principals: access keys made for the run and always deleted after.

The secret lives only in memory, in a Credentials value whose repr hides it; nothing here
prints, logs or writes it. Keys are deleted when the run ends, whether it passed or failed.
"""

from __future__ import annotations

from types import TracebackType

from orchestrator.backends.base import Credentials
from orchestrator.resources.context import Context


class PrincipalKeys:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._keys: dict[str, Credentials] = {}

    def credentials(self, user: str) -> Credentials:
        """The access key of scenario user `user`, made on first use."""
        if user not in self._keys:
            answer = self.ctx.backend.client("iam").create_access_key(UserName=self.ctx.physical(user))["AccessKey"]
            self._keys[user] = Credentials(answer["AccessKeyId"], answer["SecretAccessKey"])
        return self._keys[user]

    def delete_all(self) -> list[str]:
        """Delete every key made; returns the users whose key could not be deleted."""
        failed = []
        iam = self.ctx.backend.client("iam")
        for user, credentials in list(self._keys.items()):
            try:
                iam.delete_access_key(UserName=self.ctx.physical(user), AccessKeyId=credentials.access_key_id)
            except Exception as error:  # keep going: every other key must still be deleted
                if getattr(error, "response", {}).get("Error", {}).get("Code") != "NoSuchEntity":
                    failed.append(user)
            self.ctx.backend.forget_principal(credentials)
            del self._keys[user]
        return failed

    def __enter__(self) -> PrincipalKeys:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.delete_all()

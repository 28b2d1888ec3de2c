"""Under ``orchestrate serve``: whether a request's transport headers (transport.py) were chosen by
orchestrate's own identity, proved by :data:`~transport.TRANSPORT_MAC_HEADER`.

Any client of serve can send the transport headers. Honoured from anyone, they would let a
principal claim a VPC endpoint (with an endpoint policy that allows everything) or a source
address, and so pass a bucket or key policy that denies unless the request comes through that
endpoint or from that range: access no SDK request could get from AWS. So serve honours them only
when the request carries a MAC made with the secret of one of its administrator key pairs
(authenticate.AdminKeys: the default endpoint pair, serve's environment's, each ``--admin-key``)
over that key's id, the request's own binding (its ``Authorization`` header; transport.py
RequestBinding) and the transport headers. A missing or wrong proof is no error: the headers are
removed and ignored, the gate keeps its own view (``127.0.0.1``, secure, no endpoint), and the
answer is the one the request gets without them; serve's log says why, without a secret.

``--any-key-as-admin`` takes any key serve does not hold, unverified, as orchestrate's own
identity; a proof naming such a key is taken unverified too, as consistently as its signature
is: in that mode any client may act as the administrator, who may change every policy anyway.
A proof naming a key of serve's own pairs is always verified, and one naming a key the world holds
(an IAM user's, a role session's) is never orchestrate's.
"""
from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Callable, Mapping

from orchestrator.authz.gate import sigv4
from orchestrator.authz.gate.transport import RequestBinding, mac_matches, read_mac
from orchestrator.authz.gate.wire import Malformed

if TYPE_CHECKING:
    from orchestrator.authz.gate.authenticate import AdminKeys
    from orchestrator.authz.world import KeyStore

__all__ = ["TransportProof"]


def _binding(environ: dict[str, Any], read_body: Callable[[dict[str, Any]], bytes]) -> RequestBinding | None:
    """The request's binding as serve received it; None when its body cannot be read (too long)."""
    path, query = sigv4.raw_target(environ)
    target = path + (f"?{query}" if query else "")
    authorization = sigv4.header(environ, "authorization") or ""
    method = str(environ.get("REQUEST_METHOD", "GET"))
    if authorization:
        return RequestBinding(method, target, authorization)
    try:
        body = read_body(environ)
    except Malformed:
        return None
    return RequestBinding(method, target, authorization, hashlib.sha256(body).hexdigest())


class TransportProof:
    """Decides whether one request's transport headers are proved orchestrate's (module doc)."""

    def __init__(self, admins: AdminKeys, keys: KeyStore, read_body: Callable[[dict[str, Any]], bytes]) -> None:
        self.admins = admins
        self.keys = keys
        self.read_body = read_body

    def refusal(self, environ: dict[str, Any], carried: Mapping[str, str], proof: str | None) -> str | None:
        """None when ``proof`` (the MAC header's value) proves ``carried``, else why not, in words
        for serve's log (a key id at most, never a secret)."""
        found = read_mac(proof)
        if found is None:
            return "no proof of orchestrate's identity" if proof is None else "a malformed proof"
        key_id, given = found
        secret = self.admins.secret(key_id)
        if secret is None:
            return self._unheld(key_id)
        binding = _binding(environ, self.read_body)
        if binding is None or not mac_matches(secret, key_id, binding, carried, given):
            return f"a proof that does not match this request (key {key_id})"
        return None

    def _unheld(self, key_id: str) -> str | None:
        """A key serve knows no secret of: with --any-key-as-admin, orchestrate's unless the world
        holds it (as authentication takes it); otherwise no administrator's."""
        if self.admins.any_key and self.keys.secret_for_access_key(key_id) is None:
            return None
        return f"a proof by a key that is not orchestrate's (key {key_id})"

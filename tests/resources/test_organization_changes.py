"""The organization's changes as values, and which of them --manage-organization may make on real
AWS (orchestrator/resources/organization_changes.py): pure, no backend."""

from __future__ import annotations

from typing import Any

from orchestrator.resources.organization_changes import SCP, Verb, organization_changes, refusal

DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}


def _organization(**parts: Any) -> dict[str, Any]:
    return {"policy_types": [SCP], "units": {}, "accounts": {}, "scps": {}, "rcps": {}, "detach_full_aws_access": [],
            **parts}


def test_nothing_differs_nothing_changes() -> None:
    same = _organization(scps={"A": {"document": DOCUMENT, "targets": ["root"]}})
    assert organization_changes(same, same) == []


def test_each_change_in_the_order_the_reconciler_makes_it() -> None:
    before = _organization(units={"old": "root"}, scps={"A": {"document": DOCUMENT, "targets": ["ou:old"]},
                                                        "Gone": {"document": DOCUMENT, "targets": ["root"]}})
    after = _organization(units={"new": "root"}, accounts={"dev": "ou:new"},
                          scps={"A": {"document": {**DOCUMENT, "Statement": []}, "targets": ["ou:new"]}},
                          detach_full_aws_access=["ou:new"])
    assert [change.words() for change in organization_changes(before, after)] == [
        "create unit new under root", "delete unit old", "invite account dev", "move account dev to ou:new",
        "update SCP A", "attach SCP A to ou:new", "detach SCP A from ou:old", "delete SCP Gone",
        "detach SCP FullAWSAccess from ou:new"]
    reached = {change.words(): change.targets for change in organization_changes(before, after)}
    assert reached["update SCP A"] == ("ou:old",) and reached["delete SCP Gone"] == ("root",)


def test_the_flag_never_enables_invites_moves_nor_touches_full_aws_access_outside_its_units() -> None:
    changes = organization_changes(_organization(policy_types=[]), _organization(
        policy_types=[SCP], units={"mine": "root"}, accounts={"dev": "root"},
        detach_full_aws_access=["ou:mine", "ou:theirs", "root"]))
    refused = {change.words(): refusal(change, owned_units=set(), made_units={"mine"}) for change in changes}
    assert refused["create unit mine under root"] is None
    assert refused["detach SCP FullAWSAccess from ou:mine"] is None
    assert "never enables" in str(refused[f"enable policy type {SCP}"])
    assert "never invites or moves" in str(refused["invite account dev"])
    assert "only on the units it created" in str(refused["detach SCP FullAWSAccess from ou:theirs"])
    assert "only on the units it created" in str(refused["detach SCP FullAWSAccess from root"])


def test_a_unit_without_its_tags_is_never_deleted() -> None:
    (change,) = organization_changes(_organization(units={"theirs": "root"}), _organization())
    assert change.verb is Verb.DELETE_UNIT
    assert "does not carry orchestrate's tags" in str(refusal(change, owned_units=set(), made_units=set()))
    assert refusal(change, owned_units={"theirs"}, made_units=set()) is None

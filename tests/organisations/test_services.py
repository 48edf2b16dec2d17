"""Organisations: registration and applications, the credit code, members and coordinators."""

import pytest

from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.organisations import services as organisations
from tests.factories import COMMUNITY, OTHER_COMMUNITY, person


def register(actor, name="文安路志愿服务队", **fields):
    values = dict(kind="volunteer_team", community_code=COMMUNITY)
    values.update(fields)
    return organisations.register(actor, name=name, **values)


@pytest.mark.parametrize(
    "code,valid",
    [
        ("91350100M000100Y43", True),
        ("91110000802100433B", True),
        ("91110000802100433C", False),  # a wrong check character
        ("91350100M000100Y4", False),  # 17 characters
        ("91350100M0001O0Y43", False),  # the letter O is not in the alphabet
        ("", False),
    ],
)
def test_the_credit_code_is_checked_by_its_check_character(code, valid):
    assert organisations.credit_code_valid(code) is valid


def test_staff_register_at_once_and_residents_apply(ctx, factory, make):
    staff = factory.staff()
    team = register(staff, credit_code="91350100m000100y43", contact_phone="024-2345 6789")
    assert team.status == "active" and team.credit_code == "91350100M000100Y43"
    with pytest.raises(Invalid) as bad:
        register(staff, name="另一个", credit_code="91110000802100433C")
    assert set(bad.value.fields) == {"credit_code"}
    with pytest.raises(Conflict) as twice:
        register(staff)
    assert twice.value.code == "organisation_exists"

    resident = person(make.user()[0])
    applied = register(resident, name="书法兴趣小组", kind="social_org")
    assert applied.status == "applied"
    assert [m.role for m in applied.memberships] == ["leader"]
    assert organisations.applications(staff) == [applied]
    assert [o.name for o, _n in organisations.directory()] == ["文安路志愿服务队"]

    other_staff = person(make.user(role="staff", community=OTHER_COMMUNITY)[0])
    with pytest.raises(NotFound):
        organisations.review_application(other_staff, applied.id, approve=True)
    with pytest.raises(NotAllowed):
        organisations.review_application(resident, applied.id, approve=True)
    organisations.review_application(staff, applied.id, approve=True)
    with pytest.raises(Conflict):
        organisations.review_application(staff, applied.id, approve=False)
    rows = organisations.directory(community_code=COMMUNITY, kind="social_org")
    assert [(o.name, members) for o, members in rows] == [("书法兴趣小组", 1)]
    assert organisations.directory(community_code=OTHER_COMMUNITY) == []


def test_joining_is_asked_and_decided_and_the_last_leader_stays(ctx, factory, make):
    staff = factory.staff()
    team = register(staff)
    leader_id, joiner_id, stranger_id = (make.user()[0] for _ in range(3))
    organisations.add_member(staff, team.id, leader_id, "leader")
    leader, joiner, stranger = person(leader_id), person(joiner_id), person(stranger_id)

    asked = organisations.request_to_join(joiner, team.id)
    assert organisations.request_to_join(joiner, team.id).id == asked.id  # asking twice: one
    with pytest.raises(NotFound):  # only those who run it decide
        organisations.decide_request(stranger, asked.id, accept=True)
    organisations.decide_request(leader, asked.id, accept=True)
    _team, members, requests = organisations.members(leader, team.id)
    assert {m.user_id for m in members} == {leader_id, joiner_id} and requests == []
    with pytest.raises(Conflict) as member:
        organisations.request_to_join(joiner, team.id)
    assert member.value.code == "already_member"

    with pytest.raises(Conflict) as last:
        organisations.leave(leader, team.id)
    assert last.value.code == "last_leader"
    organisations.add_member(leader, team.id, joiner_id, "leader")  # a leader names another
    organisations.leave(leader, team.id)
    assert not organisations.may_run(person(leader_id), team)
    with pytest.raises(NotFound):
        organisations.members(person(leader_id), team.id)
    with pytest.raises(Invalid):
        organisations.add_member(joiner, team.id, stranger_id, "chairman")

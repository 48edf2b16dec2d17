"""`neighbors demo`: a small Shenyang-like demo city: areas, people of every role, events."""

import io
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from PIL import Image, ImageDraw

from neighbors.accounts import services as accounts
from neighbors.areas import services as areas
from neighbors.attendance import completion
from neighbors.attendance import services as attendance
from neighbors.core.cli import reports_errors
from neighbors.core.db import transaction, utcnow
from neighbors.core.timezone import from_local, local_today
from neighbors.events import services as events
from neighbors.foundation import services as foundation
from neighbors.hours import services as hours
from neighbors.mutual_aid import services as aid
from neighbors.organisations import services as organisations
from neighbors.party import members as party_members
from neighbors.party import reporting as party_reporting
from neighbors.stations import services as stations

AREAS_CSV = Path(__file__).with_name("areas.csv")
STATIONS_CSV = Path(__file__).with_name("stations.csv")
# Events held in a station's room: title -> (station code, room name).
ROOMS = {
    "为独居老人上门送餐": ("ST210102002", "多功能厅"),
    "邻里读书会": ("ST210102002", "书画室"),
    "青年大街助残理发": ("ST210103001", "谈心室"),
    "社区奉献日：在职党员进社区": ("ST210102002", "多功能厅"),
}
PASSWORD = "demo-password"  # noqa: S105 (printed for everyone to use)
HOME = "210102002001"  # 南湖街道 文安路社区
OTHER = "210103001001"  # 五里河街道 青年大街社区

# (e-mail, name, role, community, phone)
ACCOUNTS = [
    ("admin@example.org", "王磊", "admin", None, None),
    ("staff@example.org", "李静", "staff", HOME, None),
    ("staff2@example.org", "张伟", "staff", OTHER, None),
    ("preparer@example.org", "赵敏", "preparer", None, None),
    ("approver@example.org", "孙强", "approver", None, None),
    ("cashier@example.org", "周芳", "cashier", None, None),
    ("accountant@example.org", "吴刚", "accountant", None, None),
    ("volunteer@example.org", "刘洋", "volunteer", HOME, "13800000001"),
    ("party@example.org", "陈红", "volunteer", HOME, "13800000002"),
    ("coordinator@example.org", "林晓", "volunteer", HOME, None),
]
# The demo logins as `neighbors demo` prints them and the README's "Run it" table shows them
# (tests/test_cli.py holds the two together and logs in with each): who, what the table shows,
# the logins themselves. English, like the README and the role names.
LOGINS = [
    ("admin", "admin@example.org", ["admin@example.org"]),
    ("community staff (文安路社区)", "staff@example.org", ["staff@example.org"]),
    ("community staff (青年大街社区)", "staff2@example.org", ["staff2@example.org"]),
    (
        "foundation preparer / approver / cashier / accountant",
        "preparer@ / approver@ / cashier@ / accountant@example.org",
        [f"{role}@example.org" for role in ("preparer", "approver", "cashier", "accountant")],
    ),
    (
        "volunteer",
        "volunteer@example.org or 13800000001",
        ["volunteer@example.org", "13800000001"],
    ),
    (
        "Party member (report-in waiting for staff), leads a Party organisation reporting in",
        "party@example.org",
        ["party@example.org"],
    ),
    (
        "coordinator of a volunteer team and a social organisation (文安路社区)",
        "coordinator@example.org",
        ["coordinator@example.org"],
    ),
]
RESIDENTS = [
    "杨帆",
    "黄丽",
    "郑浩",
    "马超",
    "朱琳",
    "胡军",
    "郭静",
    "何勇",
    "高峰",
    "林娜",
    "罗斌",
    "梁雪",
]


EVENTS = [
    # (community, days ahead, hour, category, title, venue, capacity)
    (HOME, 2, 9, "warmth", "为独居老人上门送餐", "文安路社区党群服务站", 8),
    (HOME, 3, 14, "technology", "教老人用手机挂号", "文安路社区老年活动室", 3),
    (HOME, 5, 9, "harmony", "楼道安全隐患排查", "文安路社区各楼栋", 10),
    (HOME, 9, 19, "culture", "邻里读书会", "文安路社区图书角", 15),
    ("210102002002", 4, 9, "society", "三好街垃圾分类宣传", "三好街社区广场", 12),
    ("210102001001", 6, 15, "party_building", "党史学习分享会", "中华路社区党群服务站", 30),
    (OTHER, 3, 9, "warmth", "青年大街助残理发", "青年大街社区服务站", 4),
    ("210105001001", 7, 9, "harmony", "北塔社区邻里调解日", "北塔社区调解室", 6),
]


def demo_event_fields(days, hour, category, title, venue, capacity):
    start = from_local(datetime.combine(local_today() + timedelta(days=days), time(hour)))
    return dict(
        title=title,
        category=category,
        venue=venue,
        capacity=capacity,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        description="欢迎社区居民和在职党员报名参加。",
    )


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Load only when the database has no users.")
@with_appcontext
@reports_errors
def demo_command(if_empty):
    """Load the demo city (idempotent) and print the demo logins."""
    if if_empty and accounts.has_users():
        click.echo(_("The database already has users; the demo city was not loaded."))
    else:
        load_demo()
    click.echo(_("Demo logins (password for all: %(password)s):", password=PASSWORD))
    width = max(_display_width(who) for who, _shown, _logins in LOGINS)
    for who, shown, _logins in LOGINS:
        click.echo(f"  {who}{' ' * (width - _display_width(who))}  {shown}")


def _display_width(text):
    """Columns on a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def load_demo():
    """Create the demo city, people and events; a second run adds nothing."""
    areas.import_areas(AREAS_CSV)
    stations.import_stations(STATIONS_CSV)
    if accounts.user_exists("admin@example.org"):
        return
    for email, name, role, community, phone in ACCOUNTS:
        accounts.create_user(
            email=email,
            password=PASSWORD,
            name=name,
            role=role,
            community_code=community,
            phone=phone,
        )
    party = accounts.user_by_email("party@example.org")
    party_members.declare_party_membership(
        party,
        branch="沈阳市税务局第三党支部",
        work_unit="沈阳市税务局",
        community_code=HOME,
        grid_code=HOME + "01",
        reported_on=date(2026, 3, 5),
    )
    codes = [code for street in areas.community_choices().values() for code, _name in street]
    residents = [
        accounts.create_user(
            email=f"resident{n:02d}@example.org",
            password=PASSWORD,
            name=name,
            role="volunteer",
            community_code=codes[n % len(codes)],
        )
        for n, name in enumerate(RESIDENTS, start=1)
    ]
    _demo_organisations(residents)
    _demo_events(residents)
    _demo_foundation()
    _demo_mutual_aid()


def _demo_organisations(residents):
    """A volunteer team run by coordinator@, with a draft waiting for staff; a social
    organisation coordinated by them too; a resident's application for staff to decide; and a
    Party organisation led by party@, reporting in to the community with posts it took on."""
    staff = accounts.user_by_email("staff@example.org")
    team = organisations.register(
        staff,
        name="文安路社区红马甲志愿服务队",
        kind="volunteer_team",
        community_code=HOME,
        contact_name="林晓",
        contact_phone="024-2345 6789",
        description="每周六上午清扫楼道、看望独居老人。",
    )
    coordinator = accounts.user_by_email("coordinator@example.org")
    organisations.add_member(staff, team.id, coordinator.id, "leader")
    organisations.add_member(staff, team.id, accounts.user_by_email("volunteer@example.org").id)
    choir = organisations.register(
        staff,
        name="夕阳红合唱团",
        kind="social_org",
        community_code=HOME,
        credit_code="91350100M000100Y43",
    )
    organisations.add_member(staff, choir.id, coordinator.id, "coordinator")
    _demo_party_organisation(staff)
    organisations.register(residents[0], name="邻里书法社", kind="social_org", community_code=HOME)
    start = from_local(datetime.combine(local_today() + timedelta(days=9), time(9)))
    events.create_event(
        coordinator,
        community_code=HOME,
        organisation_id=team.id,
        title="红马甲：看望独居老人",
        category="warmth",
        venue="文安路社区党群服务站",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=8,
    )


def _demo_party_organisation(staff):
    """双报到: the tax bureau's Party branch reports in to 文安路社区 and takes on two of the
    posts the community keeps; staff confirmed it. party@ leads it (and reported in as a
    member too), so it is listed under it."""
    leader = accounts.user_by_email("party@example.org")
    branch = organisations.register(
        staff,
        name="沈阳市税务局第三党支部",
        kind="party_org",
        community_code=HOME,
        contact_name="陈红",
        contact_phone="024-2288 1234",
    )
    organisations.add_member(staff, branch.id, leader.id, "leader")
    posts = [
        party_reporting.add_post(
            staff, community_code=HOME, name=name, people_needed=needed, description=about
        )
        for name, needed, about in (
            ("楼道清扫", 6, "每月第一个周六上午"),
            ("老年人助餐", 4, "工作日中午送餐到家"),
            ("政策宣讲", 2, "税收政策进社区"),
        )
    ]
    report = party_reporting.report_in(
        leader,
        branch.id,
        community_code=HOME,
        starts_on=date(local_today().year, 1, 1),
        ends_on=date(local_today().year + 1, 12, 31),
        contact_name="陈红",
        contact_email="party@example.org",
        contact_phone="024-2288 1234",
        claims={posts[0].id: 4, posts[2].id: 2},
    )
    party_reporting.review(staff, report.id, confirm=True)


def _room(title):
    """The id of the room the demo event with this title takes, or None."""
    if title not in ROOMS:
        return None
    code, name = ROOMS[title]
    return next(room.id for room in stations.get_station(code).rooms if room.name == name)


def _demo_events(residents):
    admin = accounts.user_by_email("admin@example.org")
    staff = accounts.user_by_email("staff@example.org")
    for community, *fields in EVENTS:
        event = events.create_event(
            admin,
            community_code=community,
            room_id=_room(fields[3]),
            **demo_event_fields(*fields),
        )
        events.publish_event(admin, event.id)
    # Two full events with people waiting.
    listed, _cursor = events.list_events(events.EventFilter(), limit=100)
    for event in listed:
        if event.capacity <= 4:
            for person in residents[: event.capacity + 3]:
                events.sign_up(person, event.id)
    # Dedication Day: the 5th of every month, half a year ahead.
    today = local_today()
    first = date(today.year + (today.month == 12), today.month % 12 + 1, 5)
    start = from_local(datetime.combine(first, time(9)))
    series = events.create_series(
        staff,
        community_code=HOME,
        frequency="monthly",
        count=6,
        title="社区奉献日：在职党员进社区",
        category="party_building",
        venue="文安路社区党群服务站",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=40,
        room_id=_room("社区奉献日：在职党员进社区"),
        dedication_day=True,
        description="在职党员回社区报到服务：环境整治、政策宣传、走访困难群众。",
    )
    for event in series:
        events.publish_event(staff, event.id)
    # Starting in a few hours with the demo volunteer on it: the scheduler sends a reminder.
    soon = demo_event_fields(0, 0, "harmony", "小区环境整治", "文安路社区小广场", 20)
    soon["starts_at"] = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=4)
    soon["ends_at"] = soon["starts_at"] + timedelta(hours=2)
    event = events.create_event(staff, community_code=HOME, **soon)
    events.publish_event(staff, event.id)
    events.sign_up(accounts.user_by_email("volunteer@example.org"), event.id)
    # An activity that already happened, recorded by staff: who came, then the hours.
    past = demo_event_fields(-7, 9, "warmth", "重阳节慰问高龄老人", "文安路社区", 10)
    event = events.create_event(staff, community_code=HOME, **past)
    events.publish_event(staff, event.id)
    came = ["volunteer@example.org", "party@example.org"] + [p.email for p in residents[:3]]
    for email in came:
        attendance.walk_in(staff, event.id, email)
    attendance.all_present(staff, event.id)
    completion.complete_event(staff, event.id)
    pending = hours.records_to_confirm(staff)
    hours.review(staff, [r.id for r in pending[:-1]], confirm=True)  # one left to confirm
    volunteer = accounts.user_by_email("volunteer@example.org")
    hours.submit_service(
        volunteer,
        activity="社区图书角整理",
        place="文安路社区图书角",
        organiser="文安路社区",
        served_on=local_today() - timedelta(days=3),
        minutes=90,
    )


def _demo_foundation():
    """Funds, donations and subsidies at every step, so each foundation role has work."""
    preparer, approver, cashier = (
        accounts.user_by_email(f"{role}@example.org")
        for role in ("preparer", "approver", "cashier")
    )
    foundation.create_fund(
        approver,
        code="GEN",
        name="社区发展基金",
        kind="unrestricted",
        purpose="社区公益项目",
        opening_balance="50000.00",
    )
    foundation.create_fund(
        approver, code="EDU", name="助学基金", kind="restricted", purpose="资助困难家庭学生"
    )
    foundation.create_fund(
        approver,
        code="CARE-LI",
        name="李奶奶受托代理资金",
        kind="custodial",
        purpose="捐赠人指定资助独居老人李奶奶",
        beneficiary_name="李秀英",
    )
    today = local_today()
    gifts = [
        ("GEN", "2000.00", "沈阳市某科技有限公司", "organisation", True),
        ("EDU", "5000.00", "王先生", "person", True),
        ("EDU", "800.00", None, "person", False),
        ("CARE-LI", "1200.00", "李奶奶的老同事", "person", False),
    ]
    for code, amount, donor, kind, consent in gifts:
        foundation.record_donation(
            preparer,
            fund_code=code,
            amount=amount,
            received_on=today - timedelta(days=10),
            donor_name=donor,
            donor_kind=kind,
            anonymous=donor is None,
            publish_consent=consent,
            channel="bank_transfer",
        )
    paid = foundation.prepare_subsidy(
        preparer,
        fund_code="EDU",
        amount="1500.00",
        beneficiary_name="张小明",
        reason="高中学费资助",
        id_number="21010220080101001X",
        category="低保家庭",
        household_size=3,
    )[0]
    foundation.approve_subsidy(approver, paid.id)
    foundation.pay_subsidy(cashier, paid.id)
    waiting = foundation.prepare_subsidy(
        preparer,
        fund_code="CARE-LI",
        amount="300.00",
        beneficiary_name="李秀英",
        reason="冬季取暖费",
        household_size=1,
    )[0]
    foundation.approve_subsidy(approver, waiting.id)  # the cashier's to pay
    foundation.prepare_subsidy(
        preparer,
        fund_code="GEN",
        amount="600.00",
        beneficiary_name="赵大爷",
        reason="助残器具",
        household_size=2,
    )  # the approver's to decide


# (title, category, value, how far it gets: submitted, rejected, fresh (Party members first),
# published, claimed, fulfilled, confirmed)
WISHES = [
    ("一个新的电水壶", "daily", "80", "submitted"),
    ("想要一台平板电脑", "daily", "200", "rejected"),
    ("孙子上学用的新书包", "study", "120", "fresh"),
    ("一副老花镜", "health", "60", "published"),
    ("修好卫生间漏水的水龙头", "repair", "50", "claimed"),
    ("周末有人陪我去公园走走", "company", "20", "fulfilled"),
    ("冬天用的电热毯", "daily", "150", "confirmed"),
]
SHOP = [("大米 5kg", 50, 20), ("食用油 1.8L", 40, 15), ("洗衣液", 25, 30), ("毛巾", 10, 50)]


def _demo_photo():
    """A picture for the demo's fulfilled wish: a warm blanket's stripes."""
    image = Image.new("RGB", (640, 480), (246, 238, 226))
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(((200, 60, 50), (230, 150, 60), (240, 200, 120)) * 4):
        draw.rectangle((40, 60 + i * 30, 600, 80 + i * 30), fill=colour)
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def _demo_mutual_aid():
    """Micro-wishes at every step for an old resident without a phone of her own, and a stocked
    love supermarket; the volunteer's confirmed wish earns points, some spent at the counter."""
    staff = accounts.user_by_email("staff@example.org")
    volunteer = accounts.user_by_email("volunteer@example.org")
    elder = accounts.create_user(
        email="elder@example.org",
        password=PASSWORD,
        name="张桂芳",
        role="volunteer",
        community_code=HOME,
    )
    for title, category, value, step in WISHES:
        wish = aid.post_wish(
            staff,
            title=title,
            description="社区工作人员代独居老人张阿姨登记。",
            category=category,
            value_cap=value,
            for_user_id=elder.id,
        )
        if step == "submitted":
            continue
        if step == "rejected":
            aid.vet(staff, wish.id, publish=False, note="不属于微心愿范围，已转交社区救助。")
            continue
        aid.vet(staff, wish.id, publish=True)
        if step == "fresh":
            continue
        with transaction():  # on the wall for two days: past the Party members' first hours
            db_wish = aid.public_wish(wish.id)
            db_wish.published_at -= timedelta(days=2)
        if step == "published":
            continue
        aid.claim(volunteer, wish.id)
        if step == "claimed":
            continue
        aid.fulfil(volunteer, wish.id, note="已办好，张阿姨很满意。")
        if step == "confirmed":
            aid.confirm(staff, wish.id, minutes=120)
            # Its photo, on the wall: staff noted that she agreed in person.
            aid.add_photo(volunteer, wish.id, _demo_photo())
            aid.set_consent(staff, wish.id, consent=True)
    for name, points, stock in SHOP:
        aid.add_item(staff, community_code=HOME, name=name, points=points, stock=stock)
    aid.settle_everyone()
    towel = next(item for item in aid.items(staff) if item.name == "毛巾")
    aid.redeem(staff, item_id=towel.id, user_id=volunteer.id)

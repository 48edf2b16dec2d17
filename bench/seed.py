"""A city-sized PostgreSQL database for load tests, made by COPY in a few minutes.

    .venv/bin/python bench/seed.py [--scale 1.0|0.1] [--database-url URL]

The database (--database-url, else BENCH_DATABASE_URL, else
postgresql://postgres@127.0.0.1/neighbors_city, or .../neighbors_city_tenth at --scale 0.1) is
dropped and made anew, its schema by the migrations. At scale 1.0 it then holds what DESIGN.md
sizes the platform for: 13 districts, 110 streets, 955 communities and 14,265 grids; 1,000,000
volunteers (u1@example.org … u1000000@example.org, user id = the number) with their "volunteer"
role, 156,000 of them Party members; one staff member per community (staff0001@example.org …,
in community id order), admin@example.org and preparer@ / approver@ / cashier@ /
accountant@example.org; 11,000 organisations (social organisations, volunteer teams, Party
organisations and work units, 11 or 12 a community, each with a leader, a coordinator and three
members; a fifth of a community's events run by one of them, their service records naming it);
1,850 Party and mass service stations (ST00001 …), each serving 3 or 4
neighbouring communities, with three rooms (60, 30 and 20 places); 200,000 events from a year
ago to a year ahead, those at a community's 党群服务站 in a room of a station serving it when one
is big enough and free (never two at once: the exclusion constraint stays during the load);
5,000,000 sign-ups;
2,000,000 service records; 1,000,000 ledger vouchers (two postings each) over six funds, with
their donations, paid subsidies and beneficiaries. Any other scale divides the counts (the
areas and the special accounts stay). Every account's password is "bench-password", hashed
once by the app's own hasher with the production parameters.

What holds: every constraint and foreign key of the schema (they are dropped for the load and
made again after it, which checks every row); one active sign-up per person and event;
confirmed_count, waitlist_count and waitlist_seq equal to the sign-up rows, never above
capacity, and a waitlist only on a full event; completed events have check-ins (about 85 %),
no-shows marked, and a service record for each person checked in, minutes as the app computes
them; each fund's balance equals its bank postings and never went below zero on the way; the
ledger's hash chain is the app's (entry_hash), so `flask --app wsgi neighbors ledger verify`
passes, and ledger_head ends it; the gap-free counters (vouchers, acknowledgements) continue
after the numbers used. Sequences are set past the ids, so the app can insert afterwards.

Left out: audit entries, API tokens, login sessions, certificates, outbox messages, event
series and reminders (the scheduler will send reminders for events in the next 24 hours on its
first run), corrections of service records, walk-ins.

Also writes bench/.city-<database>.json (git-ignored) with what load scripts need: the URL,
scale, counts, the password, 200 volunteers with confirmed sign-ups on upcoming events and
confirmed service records, 20 staff, 1,000 upcoming published events and a "hot" one.
Not part of the test suite. Never point it at a database you want to keep.
"""

import argparse
import hashlib
import itertools
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from array import array
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"  # noqa: S105 (printed for the load scripts to use)
DEFAULT_URL = "postgresql://postgres@127.0.0.1/neighbors_city"
PROTECTED = {"test", "test_hostile", "test_keys", "postgres", "template0", "template1"}

FULL = {
    "users": 1_000_000,
    "events": 200_000,
    "signups": 5_000_000,
    "records": 2_000_000,
    "entries": 1_000_000,
    "beneficiaries": 21_000,
    "stations": 1_850,
    "organisations": 11_000,
}
# Kinds of organisation and their shares of the city's 11,000 (with a name's ending).
ORGANISATION_KINDS = (
    ("social_org", 0.6, "邻里互助会"),
    ("volunteer_team", 0.25, "志愿服务队"),
    ("party_org", 0.1, "机关党支部"),
    ("work_unit", 0.05, "驻区单位"),
)
ORGANISATION_MEMBERS = 5  # a leader, a coordinator and three members each
ORGANISED_SHARE = 0.2  # events of a community with organisations that one of them runs
# A station's rooms: (name, capacity). Events at a community's 党群服务站 take one of them.
ROOMS = (("多功能厅", 60), ("活动室", 30), ("会议室", 20))
PARTY_SHARE = 0.156  # 156,000 Party members in a million accounts
CHECK_IN = 0.85  # confirmed people of a completed event who checked in
CANCELLED_SIGNUPS = 0.06
OFF_PLATFORM = 0.10  # service records submitted by volunteers, not from events
AUTO_COMPLETE = timedelta(hours=12)  # config AUTO_COMPLETE_AFTER_HOURS
HOT_CAPACITY, HOT_SIGNUPS = 500, 100

DISTRICTS = [
    ("210102", "和平区"),
    ("210103", "沈河区"),
    ("210104", "大东区"),
    ("210105", "皇姑区"),
    ("210106", "铁西区"),
    ("210111", "苏家屯区"),
    ("210112", "浑南区"),
    ("210113", "沈北新区"),
    ("210114", "于洪区"),
    ("210115", "辽中区"),
    ("210123", "康平县"),
    ("210124", "法库县"),
    ("210181", "新民市"),
]
STREETS, COMMUNITIES, GRIDS = 110, 955, 14_265
PLACE_WORDS = (  # noqa: SIM905 (one line, not 48)
    "文安 青年 中华 南京 北塔 长青 三好 太原 新华 光明 和平 幸福 民主 友谊 胜利 建设 团结 振兴 "
    "兴华 南湖 五里河 万柳塘 砂山 泰山 长白 望湖 滨河 富民 春晖 朝阳 晨光 丽都 金山 银河 翠竹 "
    "桃园 松山 柳林 白塔 龙江 北陵 东陵 浑河 沈州 吉祥 安康 和睦 育才"
).split()
PLACE_ENDINGS = ["路", "街", "里", "苑", "园", "湾", "城"]
NUMERALS = "零一二三四五六七八九十"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红鹏辉建国文斌宇浩凯健俊峰帆鑫波宁琳雪梅晶婷颖慧佳欣怡晨阳昊然博睿子轩浩宇梓涵一诺雨桐"  # noqa: E501
CATEGORIES = [
    ("party_building", 15),
    ("warmth", 25),
    ("technology", 10),
    ("society", 20),
    ("harmony", 15),
    ("culture", 15),
]
TITLES = {
    "party_building": [
        "党史学习分享会",
        "在职党员社区报到日",
        "主题党日：重温入党誓词",
        "党员先锋岗志愿服务",
        "社区奉献日党员集中服务",
        "红色观影与讨论",
    ],
    "warmth": [
        "为独居老人上门送餐",
        "助残理发",
        "陪伴空巢老人聊天",
        "慢病老人健康随访",
        "困难家庭入户慰问",
        "老年食堂帮厨",
    ],
    "technology": [
        "教老人用手机挂号",
        "防范电信诈骗讲座",
        "智能手机课堂",
        "网上办事指导",
        "青少年编程体验",
        "家电义务维修",
    ],
    "society": [
        "垃圾分类宣传",
        "社区环境大扫除",
        "共享书屋整理",
        "便民集市服务",
        "小区绿化养护",
        "文明养犬宣传",
    ],
    "harmony": [
        "楼道安全隐患排查",
        "邻里调解日",
        "消防安全演练",
        "夜间平安巡逻",
        "法律咨询进社区",
        "电动车充电安全检查",
    ],
    "culture": [
        "邻里读书会",
        "社区广场舞展演",
        "书法与剪纸课堂",
        "少儿暑期课堂",
        "重阳节文艺汇演",
        "社区合唱团排练",
    ],
}
VENUES = ["党群服务站", "老年活动室", "广场", "图书角", "会议室", "各楼栋", "食堂", "文化活动中心"]
DESCRIPTIONS = [
    "欢迎社区居民和在职党员报名参加。",
    "请提前十分钟到场签到，穿着方便活动的衣服。",
    "活动提供茶水，请自带水杯。",
    "",
]
CANCEL_REASONS = ["天气原因，活动取消", "场地临时占用，另行通知", "报名人数不足"]
OFF_ACTIVITIES = [
    ("为邻居老人代买药品", "邻居家中"),
    ("小区门口交通疏导", "小区南门"),
    ("学校门口护学岗", "附近小学门口"),
    ("协助核酸检测点秩序维护", "社区卫生服务站"),
    ("社区义务献血宣传", "街道服务中心"),
    ("帮助残疾人办理证件", "区政务服务中心"),
]
WORK_UNITS = [
    "沈阳市第一人民医院",
    "和平区教育局",
    "沈阳地铁集团",
    "国网沈阳供电公司",
    "沈阳市税务局",
    "辽宁大学",
    "沈阳机床集团",
    "华晨宝马沈阳工厂",
    "沈河区市场监管局",
    "中国建设银行沈阳分行",
]
ORGANISATIONS = ["沈阳某某商贸有限公司", "爱心企业联合会", "和平区工商联", "某某物业服务公司"]
SUBSIDY_REASONS = ["大病医疗救助", "困难家庭生活补助", "助学金", "残疾人生活补贴", "临时困难救助"]
# code, name, kind, purpose
FUNDS = [
    ("GEN", "社区发展基金", "unrestricted", ""),
    ("ELDER", "助老专项基金", "restricted", "为困难老人提供助餐、助医"),
    ("EDU", "助学专项基金", "restricted", "资助困难家庭学生"),
    ("RELIEF", "大病救助基金", "restricted", "大病医疗救助"),
    ("DEDICATION", "奉献日专项基金", "restricted", "社区奉献日活动"),
    ("CUST-LI", "受托代理：李某家庭", "custodial", "捐赠人指定受益人"),
]
CHANNELS = ("bank_transfer", "cash", "wechat", "alipay", "other")
# The chart of accounts (neighbors.foundation.ledger): income, net assets, spending per kind.
INCOME = {"unrestricted": "4101", "restricted": "4102", "custodial": "2201"}
NET_ASSETS = {"unrestricted": "3101", "restricted": "3102", "custodial": "2201"}
SPENDING = {"unrestricted": "5101", "restricted": "5101", "custodial": "2201"}
BANK = "1002"
GENESIS = "0" * 64

# COPY column types (binary COPY needs them): name:type, text when no type is given.
TYPES = {"": "text", "int": "int4", "time": "timestamptz", "bool": "bool", "date": "date"}
TYPES["numeric"] = "numeric"


def database_url(args):
    if args.database_url:
        return args.database_url
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    return DEFAULT_URL if args.scale == 1 else DEFAULT_URL + "_tenth"


def database_name(url):
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in PROTECTED:
        raise SystemExit(f"refusing to drop and remake the database {name!r}")
    return name


def reset_database(url, name):
    admin = re.sub(r"/[^/?]*(\?|$)", r"/postgres\1", url, count=1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")


def migrate(url):
    env = {**os.environ, "DATABASE_URL": url, "NEIGHBORS_ENV": "development"}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def app_facts(url):
    """The app's hash of PASSWORD (production argon2 parameters), settings the rows must match,
    and its ledger hash function to check ours against."""
    sys.path.insert(0, str(ROOT))
    import config
    from neighbors import create_app
    from neighbors.accounts.credentials import hash_password
    from neighbors.foundation.ledger import entry_hash

    app = create_app(
        {
            "ENV": "development",
            "DATABASE_URL": url,
            "PASSWORD_TIME_COST": config.Config.PASSWORD_TIME_COST,
            "PASSWORD_MEMORY_COST": config.Config.PASSWORD_MEMORY_COST,
            "PASSWORD_PARALLELISM": config.Config.PASSWORD_PARALLELISM,
        }
    )
    with app.app_context():
        return {
            "password_hash": hash_password(PASSWORD),
            "zone": ZoneInfo(app.config["DISPLAY_TIMEZONE"]),
            "privacy_version": app.config["PRIVACY_NOTICE_VERSION"],
            "entry_hash": entry_hash,
        }


class Loader:
    """COPY (binary) into one table per transaction, timing each; the table is emptied by
    TRUNCATE in the same transaction, so COPY FREEZE writes the rows frozen and all-visible."""

    def __init__(self, conn):
        self.conn = conn
        self.stats = {}

    def copy(self, table, columns, rows, freeze=True):
        """COPY the rows (tuples) into the columns, given as "id:int name created_at:time"."""
        names, _colon, kinds = zip(
            *(column.partition(":") for column in columns.split()), strict=True
        )
        types = [TYPES[kind] for kind in kinds]
        started = time.perf_counter()
        count = 0
        with self.conn.transaction():
            if freeze:
                self.conn.execute(f"TRUNCATE {table}")
            options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
            sql = f"COPY {table} ({', '.join(names)}) FROM STDIN WITH ({options})"
            with self.conn.cursor().copy(sql) as copy:
                copy.set_types(list(types))
                for count, row in enumerate(rows, 1):
                    copy.write_row(row)
                    if count % 1_000_000 == 0:
                        rate = count / (time.perf_counter() - started)
                        print(f"    {table}: {count:,} rows, {rate:,.0f} rows/s", flush=True)
        seconds = time.perf_counter() - started
        self.stats[table] = (count, seconds)
        print(
            f"  {table:<18}{count:>11,} rows {seconds:7.1f} s {count / seconds:>11,.0f} rows/s",
            flush=True,
        )
        return count


class Schema:
    """The foreign keys, unique constraints and secondary indexes, dropped for the load and
    made again from their own definitions afterwards (which checks every row against them)."""

    def __init__(self, conn):
        self.conn = conn
        self.constraints = conn.execute(
            """SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
               FROM pg_constraint WHERE connamespace = 'public'::regnamespace
               AND contype IN ('f', 'u') ORDER BY contype DESC, conrelid, conname"""
        ).fetchall()
        self.indexes = conn.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
               FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
               WHERE t.relnamespace = 'public'::regnamespace AND NOT EXISTS (
                   SELECT 1 FROM pg_constraint k
                   WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
               ORDER BY t.relname, 1"""
        ).fetchall()

    def drop(self):
        with self.conn.transaction():
            for table, name, _kind, _definition in self.constraints:  # foreign keys first
                self.conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
            for name, _definition in self.indexes:
                self.conn.execute(f"DROP INDEX {name}")

    def restore(self, url, workers=2):
        """Indexes and unique constraints first, then the foreign keys (which need nothing
        but the primary keys), each phase on `workers` connections at once."""
        started = time.perf_counter()
        took = []
        first = [(name, definition) for name, definition in self.indexes]
        then = []
        for table, name, kind, definition in self.constraints:
            step = (name, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            (then if kind == "f" else first).append(step)
        for phase in (first, then):
            queue = list(reversed(phase))
            with ThreadPoolExecutor(workers) as pool:
                for result in pool.map(self._work, [url] * workers, [queue] * workers):
                    took.extend(result)
        seconds = time.perf_counter() - started
        slowest = ", ".join(f"{name} {s:.1f} s" for s, name in sorted(took, reverse=True)[:4])
        print(
            f"  {len(self.indexes)} indexes and {len(self.constraints)} constraints made again "
            f"in {seconds:.1f} s on {workers} connections (slowest: {slowest})",
            flush=True,
        )
        return seconds

    @staticmethod
    def _work(url, queue):
        """Take steps off the shared queue until it is empty; a deadlock (two foreign keys
        locking the same tables) is tried again."""
        took = []
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET work_mem = '256MB'")
            while True:
                try:
                    name, sql = queue.pop()
                except IndexError:
                    return took
                begun = time.perf_counter()
                for attempt in range(5):
                    try:
                        conn.execute(sql)
                        break
                    except psycopg.errors.DeadlockDetected:
                        if attempt == 4:
                            raise
                took.append((time.perf_counter() - begun, name))


# -- the plan: who lives where, which events, how many sign-ups -------------------------------


class Event:
    __slots__ = (
        "id",
        "community",
        "category",
        "title",
        "venue",
        "starts",
        "ends",
        "capacity",
        "status",
        "created",
        "published",
        "changed",
        "demand",
        "noise",
        "signups",
        "cancelled",
        "confirmed",
        "waiting",
        "closes",
        "cutoff",
        "dedication",
        "description",
        "room",
        "organisation",
    )


class City:
    def __init__(self, scale, facts, seed=20261127):
        self.rng = random.Random(seed)  # noqa: S311 (made-up data, reproducible)
        self.facts = facts
        self.zone = facts["zone"]
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.astimezone(self.zone).date()
        self.scale = scale
        self.n = {key: max(1, round(value * scale)) for key, value in FULL.items()}
        self.n["beneficiaries"] = max(100, self.n["beneficiaries"])
        self.areas()
        self.people()

    def local(self, day, hour=0, minute=0):
        """A wall-clock time in the display zone, as an aware UTC time."""
        return datetime.combine(day, clock(hour, minute), self.zone).astimezone(UTC)

    def areas(self):
        self.districts, self.streets, self.communities, self.grids = [], [], [], []
        street_no = community_no = 0
        for d, (code, name) in enumerate(DISTRICTS, 1):
            for s in range(9 if d <= 6 else 8):
                street_no += 1
                word = PLACE_WORDS[(street_no * 7) % len(PLACE_WORDS)]
                scode = f"{code}{s + 1:03d}"
                self.streets.append((street_no, scode, f"{word}街道", d))
                for c in range(9 if street_no <= 75 else 8):
                    community_no += 1
                    word = PLACE_WORDS[community_no % len(PLACE_WORDS)]
                    ending = PLACE_ENDINGS[community_no // len(PLACE_WORDS) % len(PLACE_ENDINGS)]
                    again = community_no // (len(PLACE_WORDS) * len(PLACE_ENDINGS))
                    cname = f"{word}{ending}{NUMERALS[again + 1] if again else ''}社区"
                    self.communities.append((community_no, f"{scode}{c + 1:03d}", cname, street_no))
            self.districts.append((d, code, name))
        assert (len(self.streets), len(self.communities)) == (STREETS, COMMUNITIES)
        self.community_grids = []
        for number, ccode, _name, _street in self.communities:
            first = len(self.grids) + 1
            for g in range(15 if number <= GRIDS - 14 * COMMUNITIES else 14):
                name = f"第{NUMERALS[g + 1] if g < 10 else '十' + NUMERALS[g - 9]}网格"
                self.grids.append((len(self.grids) + 1, f"{ccode}{g + 1:02d}", name, number))
            self.community_grids.append((first, len(self.grids) - first + 1))
        assert len(self.grids) == GRIDS

    def people(self):
        rng, volunteers = self.rng, self.n["users"]
        # Communities differ in size: a weight from 0.5 to 1.5 each.
        weights = [0.5 + rng.random() for _ in range(COMMUNITIES)]
        self.community_weights = weights
        homes = rng.choices(range(COMMUNITIES), weights=weights, k=volunteers)
        self.home = array("H", homes)  # volunteer i (user id i + 1) lives in community index
        self.residents = [array("i") for _ in range(COMMUNITIES)]
        for user_id, community in enumerate(homes, 1):
            self.residents[community].append(user_id)
        names = [s + g for s in SURNAMES for g in GIVEN]
        names += [s + g + h for s in SURNAMES[:40] for g in GIVEN[:40] for h in GIVEN[40:80]]
        rng.shuffle(names)
        self.names = names
        self.admin = volunteers + 1
        self.foundation = {
            role: volunteers + 2 + k
            for k, role in enumerate(("preparer", "approver", "cashier", "accountant"))
        }
        self.first_staff = volunteers + 6  # staff of community index k: first_staff + k
        self.accounts = volunteers + 5 + COMMUNITIES

    def name(self, user_id):
        return self.names[(user_id * 7919) % len(self.names)]

    # -- events ---------------------------------------------------------------------------

    def plan_events(self):
        rng, now, today = self.rng, self.now, self.today
        kinds = [c for c, _w in CATEGORIES]
        weights = [w for _c, w in CATEGORIES]
        places = range(COMMUNITIES)
        community_weights = list(itertools.accumulate(self.community_weights))
        category_weights = list(itertools.accumulate(weights))
        events = []
        for _number in range(self.n["events"]):
            e = Event()
            e.community = rng.choices(places, cum_weights=community_weights)[0]
            e.category = rng.choices(kinds, cum_weights=category_weights)[0]
            e.title = rng.choice(TITLES[e.category])
            e.venue = self.communities[e.community][2] + rng.choice(VENUES)
            e.description = rng.choice(DESCRIPTIONS)
            day = today + timedelta(days=rng.randint(-365, 365))
            e.starts = self.local(day, rng.choice((8, 9, 9, 10, 14, 14, 15, 16, 18, 19)))
            e.starts += timedelta(minutes=rng.choice((0, 30)))
            e.ends = e.starts + timedelta(minutes=rng.choice((90, 120, 120, 150, 180, 240)))
            e.dedication = day.day == 5
            e.capacity = rng.choice((10, 12, 15, 20, 20, 25, 30, 30, 35, 40, 50, 60))
            e.created = e.starts - timedelta(days=rng.uniform(7, 30))
            if e.created > now - timedelta(hours=1):
                e.created = now - timedelta(hours=rng.uniform(1, 45 * 24))
            e.created = e.created.replace(microsecond=0)
            e.closes = e.starts - timedelta(hours=2) if rng.random() < 0.5 else None
            e.cutoff = e.starts - timedelta(hours=24) if rng.random() < 0.3 else None
            draw = rng.random()
            if e.ends < now - AUTO_COMPLETE:
                e.status = "cancelled" if draw < 0.03 else "completed"
                e.demand = e.capacity * rng.lognormvariate(0, 0.35)
            else:
                e.status = "cancelled" if draw < 0.03 else "draft" if draw < 0.07 else "published"
                if e.starts <= now:
                    e.status = "published"  # under way: nobody cancels it now
                ahead = max((e.starts - now).total_seconds() / 86400, 0)
                fill = 0.9 * math.exp(-ahead / 200) + 0.3
                e.demand = e.capacity * fill * rng.lognormvariate(0, 0.35)
            if e.status == "draft":
                e.demand, e.published = 0.0, None
            else:
                published = e.created + timedelta(minutes=rng.randint(5, 120))
                e.published = min(published, now - timedelta(minutes=1))
            e.noise = (rng.random(), rng.random())
            e.changed = e.published or e.created
            events.append(e)
        hot = events[0]
        hot.community, hot.category, hot.title = 0, "warmth", "社区奉献日：万人助老服务"
        hot.venue = self.communities[0][2] + "党群服务站"
        hot.starts = self.local(today + timedelta(days=7), 9)
        hot.ends, hot.capacity, hot.status = (
            hot.starts + timedelta(hours=3),
            HOT_CAPACITY,
            "published",
        )
        hot.created = now - timedelta(days=2)
        hot.published = hot.changed = hot.created + timedelta(hours=1)
        hot.closes = hot.cutoff = None
        hot.demand = 0.0
        events.sort(key=lambda e: (e.created, e.starts))
        for number, e in enumerate(events, 1):
            e.id = number
        self.events, self.hot = events, hot
        self.plan_organisations()
        self.plan_stations()
        self.plan_signups()

    def plan_organisations(self):
        """Organisations spread over the communities, each with a leader, a coordinator and
        members; a share of each community's events run by one of its organisations (their
        service records name it). A random stream of its own: the rest of the city is the
        same with or without them."""
        rng, count = random.Random(20261202), self.n["organisations"]  # noqa: S311
        self.organisations, self.organisation_members, by_community = [], [], {}
        kinds = list(itertools.accumulate(share for _k, share, _e in ORGANISATION_KINDS))
        for k in range(1, count + 1):
            index = (k - 1) % COMMUNITIES
            community = self.communities[index]
            golden = (k * 0.618034) % 1  # spreads the kinds evenly over the numbers
            kind, _share, ending = ORGANISATION_KINDS[
                next((i for i, top in enumerate(kinds) if golden < top), 3)
            ]
            created = self.now - timedelta(days=rng.randint(30, 900))
            self.organisations.append(
                (
                    k,
                    f"{community[2]}第{(k - 1) // COMMUNITIES + 1}{ending}",
                    kind,
                    community[0],
                    "联系人",
                    f"024-{rng.randint(2000_0000, 8999_9999)}",
                    "",
                    "active",
                    self.first_staff + index,
                    created,
                )
            )
            by_community.setdefault(index, []).append(k)
            people = rng.sample(range(1, self.n["users"] + 1), ORGANISATION_MEMBERS)
            for position, user_id in enumerate(people):
                role = ("leader", "coordinator")[position] if position < 2 else "member"
                self.organisation_members.append(
                    (len(self.organisation_members) + 1, k, user_id, role, "active", created)
                )
        for e in self.events:
            own = by_community.get(e.community)
            e.organisation = rng.choice(own) if own and rng.random() < ORGANISED_SHARE else None

    def plan_stations(self):
        """Stations, each serving 3 or 4 neighbouring communities, with three rooms each; an
        event at a community's 党群服务站 takes the first room of a station serving it that is
        big enough and free at its time (the database's exclusion constraint checks it)."""
        count = self.n["stations"]
        self.stations, self.station_communities, self.rooms = [], [], []
        serving = {}  # community index -> [station number]
        for k in range(1, count + 1):
            first = (k - 1) * COMMUNITIES // count
            served = [(first + i) % COMMUNITIES for i in range(3 + k % 2)]
            community = self.communities[first]
            self.stations.append(
                (
                    k,
                    f"ST{k:05d}",
                    f"{community[2]}党群服务站",
                    f"沈阳市{community[2]}{k % 200 + 1}号",
                    "周一至周日 8:30–20:00",
                    self.now,
                )
            )
            for index in served:
                self.station_communities.append((k, self.communities[index][0]))
                serving.setdefault(index, []).append(k)
            for name, capacity in ROOMS:
                self.rooms.append((len(self.rooms) + 1, k, name, capacity))
        held = {}  # room id -> [(starts, ends)]
        for e in self.events:
            e.room = None
            if e.status == "cancelled" or not e.venue.endswith("党群服务站"):
                continue
            for station in serving.get(e.community, ()):
                for offset, (_name, capacity) in enumerate(ROOMS):
                    room = (station - 1) * len(ROOMS) + offset + 1
                    times = held.setdefault(room, [])
                    if capacity >= e.capacity and all(
                        e.ends <= starts or ends <= e.starts for starts, ends in times
                    ):
                        times.append((e.starts, e.ends))
                        e.room = room
                        break
                if e.room:
                    break

    def _fill(self, events, scale):
        """Sign-ups for these events at this scale of their demand (in place); returns the
        sign-up count and the confirmed people of completed events."""
        total = confirmed_completed = 0
        for e in events:
            e.signups = int(scale * e.demand + e.noise[0])
            e.cancelled = int(e.signups * CANCELLED_SIGNUPS + e.noise[1])
            active = e.signups - e.cancelled
            e.confirmed = min(active, e.capacity)
            e.waiting = active - e.confirmed
            total += e.signups
            if e.status == "completed":
                confirmed_completed += e.confirmed
        return total, confirmed_completed

    def plan_signups(self):
        """Past events take the sign-ups that give (with CHECK_IN) the service records from
        events; upcoming ones the rest, nearer events fuller, full ones with a waitlist."""
        now, rng = self.now, self.rng
        past = [e for e in self.events if e.ends < now - AUTO_COMPLETE]
        upcoming = [e for e in self.events if e.ends >= now - AUTO_COMPLETE and e is not self.hot]
        wanted = self.n["records"] * (1 - OFF_PLATFORM) / CHECK_IN
        low, high = 0.0, 4.0
        for _ in range(24):
            middle = (low + high) / 2
            _total, confirmed = self._fill(past, middle)
            low, high = (middle, high) if confirmed < wanted else (low, middle)
        past_total, _confirmed = self._fill(past, low)
        hot = self.hot
        hot.signups, hot.cancelled, hot.confirmed, hot.waiting = HOT_SIGNUPS, 0, HOT_SIGNUPS, 0
        rest = self.n["signups"] - past_total - HOT_SIGNUPS
        demand = sum(e.demand for e in upcoming)
        if rest <= 0 or demand <= 0:
            raise SystemExit("too few sign-ups for this scale")
        total, _confirmed = self._fill(upcoming, rest / demand)
        open_ = [e for e in upcoming if e.demand > 0]
        while total != rest:  # off by rounding: one sign-up more or less on random events
            e = rng.choice(open_)
            step = 1 if total < rest else -1
            if e.signups + step < 0:
                continue
            e.signups += step
            active = e.signups - e.cancelled
            if active < 0:
                e.signups -= step
                continue
            e.confirmed, e.waiting = min(active, e.capacity), max(active - e.capacity, 0)
            total += step

    def event_rows(self):
        for e in self.events:
            cancelled = e.status == "cancelled"
            changed = e.changed
            if cancelled:
                changed = min(e.starts, self.now) - timedelta(hours=self.rng.randint(2, 48))
                changed = max(changed, e.published + timedelta(minutes=1))
            yield (
                e.id,
                self.communities[e.community][0],
                e.category,
                e.title,
                e.description,
                e.venue,
                e.room,
                e.organisation,
                e.starts,
                e.ends,
                e.capacity,
                e.confirmed,
                e.waiting,
                e.waiting,
                e.closes,
                e.cutoff,
                e.dedication,
                e.status,
                self.rng.choice(CANCEL_REASONS) if cancelled else None,
                self.first_staff + e.community,
                e.created,
                e.published,
                {"draft": 0, "cancelled": 2}.get(e.status, 1),
                changed,
            )

    # -- sign-ups and the service records they give ---------------------------------------

    def signup_rows(self):
        """Each event's sign-ups in the order they came: the cancelled among the first, then
        seats, then the waitlist (tickets 1, 2, …). Records the check-ins of completed events
        for service_record_rows."""
        rng, now, volunteers = self.rng, self.now, self.n["users"]
        self.attended_user, self.attended_event = array("i"), array("i")
        self.attended_minutes = array("h")
        signup_id = 0
        minute = timedelta(minutes=1)
        for index, e in enumerate(self.events):
            if not e.signups:
                continue
            pool = self.residents[e.community]
            local = min(round(e.signups * 0.85), len(pool) // 2)
            people = rng.sample(pool, local)
            chosen = set(people)
            while len(people) < e.signups:
                user_id = rng.randint(1, volunteers)
                if user_id not in chosen:
                    chosen.add(user_id)
                    people.append(user_id)
            rng.shuffle(people)
            head = min(e.signups, e.capacity + e.cancelled)
            cancelled = set(rng.sample(range(head), e.cancelled))
            start = e.published
            end = min(e.closes or e.starts, e.starts - timedelta(hours=1), now)
            cancel_by = min(end, e.cutoff or end)
            step = max(end - start, minute) / (e.signups + 1)
            completed = e.status == "completed"
            seats = tickets = 0
            for k, user_id in enumerate(people):
                signup_id += 1
                at = start + step * (k + 1)
                ticket = checked_in = checked_out = None
                no_show = False
                if k in cancelled:
                    status, confirmed_at = "cancelled", at
                    cancelled_at = at + (cancel_by - at) / 2 if cancel_by > at else at
                elif seats < e.capacity:
                    seats += 1
                    status, confirmed_at, cancelled_at = "confirmed", at, None
                    if completed:
                        if rng.random() < CHECK_IN:
                            checked_in = e.starts + minute * rng.randint(-15, 20)
                            if rng.random() < 0.8:
                                checked_out = e.ends + minute * rng.randint(-30, 15)
                            begin = max(checked_in, e.starts)
                            until = min(checked_out or e.ends, e.ends)
                            self.attended_user.append(user_id)
                            self.attended_event.append(index)
                            self.attended_minutes.append(int((until - begin).total_seconds() // 60))
                        else:
                            no_show = True
                else:
                    tickets += 1
                    status, ticket, confirmed_at, cancelled_at = "waitlisted", tickets, None, None
                yield (
                    signup_id,
                    e.id,
                    user_id,
                    status,
                    ticket,
                    at,
                    confirmed_at,
                    cancelled_at,
                    checked_in,
                    checked_out,
                    False,
                    no_show,
                )
            assert (seats, tickets) == (e.confirmed, e.waiting), e.id

    def _review(self, served_on, recorded_at, days_pending=14):
        """(status, reviewed_at, note) for a record of that day, as staff would have left it."""
        rng = self.rng
        recent = (self.today - served_on).days <= days_pending
        draw = rng.random()
        if recent and draw < 0.6 or not recent and draw < 0.015:
            return "pending", None, None
        reviewed = recorded_at + timedelta(hours=rng.uniform(4, 240))
        reviewed = max(min(reviewed, self.now - timedelta(minutes=1)), recorded_at)
        if draw > 0.99:
            return "rejected", reviewed, "未见签到记录，请补充说明"
        return "confirmed", reviewed, None

    def service_record_rows(self):
        rng, record_id = self.rng, 0
        for user_id, index, minutes in zip(
            self.attended_user, self.attended_event, self.attended_minutes, strict=True
        ):
            e = self.events[index]
            record_id += 1
            staff = self.first_staff + e.community
            recorded_at = e.ends + AUTO_COMPLETE + timedelta(seconds=rng.randint(0, 3600))
            served_on = e.starts.astimezone(self.zone).date()
            status, reviewed_at, note = self._review(served_on, recorded_at)
            yield (
                record_id,
                user_id,
                e.id,
                e.organisation,
                self.communities[e.community][0],
                e.category,
                e.title,
                e.venue,
                self.communities[e.community][2],
                served_on,
                minutes,
                status,
                note,
                staff if rng.random() < 0.3 else None,
                recorded_at,
                staff if reviewed_at else None,
                reviewed_at,
            )
        self.event_records = record_id
        for _ in range(max(self.n["records"] - record_id, 0)):
            record_id += 1
            user_id = rng.randint(1, self.n["users"])
            community = self.home[user_id - 1]
            activity, place = rng.choice(OFF_ACTIVITIES)
            served_on = self.today - timedelta(days=rng.randint(1, 365))
            recorded_at = self.local(served_on, 20) + timedelta(hours=rng.uniform(0, 72))
            recorded_at = min(recorded_at, self.now - timedelta(minutes=5)).replace(microsecond=0)
            status, reviewed_at, note = self._review(served_on, recorded_at)
            yield (
                record_id,
                user_id,
                None,
                None,
                self.communities[community][0],
                None,
                activity,
                place,
                self.communities[community][2],
                served_on,
                rng.randrange(30, 241, 15),
                status,
                note,
                user_id,
                recorded_at,
                self.first_staff + community if reviewed_at else None,
                reviewed_at,
            )

    # -- people ---------------------------------------------------------------------------

    def user_rows(self):
        now, volunteers = self.now, self.n["users"]
        hashed, version = self.facts["password_hash"], self.facts["privacy_version"]
        span = timedelta(days=700) / volunteers
        oldest = now - timedelta(days=1100)
        for user_id in range(1, volunteers + 1):
            community = self.home[user_id - 1]
            first, count = self.community_grids[community]
            created = (oldest + span * user_id).replace(microsecond=0)
            yield (
                user_id,
                self.name(user_id),
                f"u{user_id}@example.org",
                hashed,
                self.communities[community][0],
                first + user_id % count,
                "en" if user_id % 20 == 0 else None,
                version,
                created,
                created,
            )
        specials = [("admin@example.org", "王磊", None)]
        specials += [(f"{role}@example.org", name, None) for role, name in self.foundation_names()]
        specials += [
            (f"staff{k + 1:04d}@example.org", self.name(self.first_staff + k), k)
            for k in range(COMMUNITIES)
        ]
        for offset, (email, name, community) in enumerate(specials):
            yield (
                self.admin + offset,
                name,
                email,
                hashed,
                None if community is None else self.communities[community][0],
                None,
                None,
                None,
                None,
                oldest - timedelta(days=30),
            )
        assert self.admin + len(specials) - 1 == self.accounts

    def foundation_names(self):
        return [
            ("preparer", "赵敏"),
            ("approver", "孙强"),
            ("cashier", "周芳"),
            ("accountant", "吴刚"),
        ]

    def role_rows(self):
        volunteers = self.n["users"]
        for user_id in range(1, volunteers + 1):
            yield (user_id, user_id, "volunteer", None)
        yield (volunteers + 1, self.admin, "admin", None)
        for k, (role, _name) in enumerate(self.foundation_names()):
            yield (volunteers + 2 + k, self.foundation[role], role, None)
        for k in range(COMMUNITIES):
            yield (
                volunteers + 6 + k,
                self.first_staff + k,
                "staff",
                self.communities[k][0],
            )

    def party_rows(self):
        rng, now = self.rng, self.now
        for user_id in range(1, self.n["users"] + 1):
            if rng.random() >= PARTY_SHARE:
                continue
            community = self.home[user_id - 1]
            first, count = self.community_grids[community]
            unit = rng.choice(WORK_UNITS)
            declared = now - timedelta(days=rng.uniform(1, 900))
            draw = rng.random()
            status = "declared" if draw < 0.08 else "rejected" if draw < 0.1 else "confirmed"
            reviewed = (
                None if status == "declared" else declared + timedelta(days=rng.uniform(0, 5))
            )
            if reviewed and reviewed > now:
                reviewed = now
            yield (
                user_id,
                f"{unit}第{NUMERALS[rng.randint(1, 9)]}党支部",
                unit,
                self.communities[community][0],
                first + user_id % count,
                declared.astimezone(self.zone).date(),
                status,
                declared.replace(microsecond=0),
                self.first_staff + community if reviewed else None,
                reviewed.replace(microsecond=0) if reviewed else None,
            )

    # -- the foundation's ledger ----------------------------------------------------------

    def plan_ledger(self):
        """Vouchers in posting order over the last three years: each fund's opening, then
        donations (mostly), subsidies paid while the fund holds the money, and now and then a
        reversal of a recent donation. Kept as columns; every ledger table is made from them."""
        rng, entries = self.rng, self.n["entries"]
        self.kind, self.fund = array("b"), array("b")
        self.cents, self.reversed_index = array("q"), array("i")
        balance = [0] * len(FUNDS)
        funds, weights = range(len(FUNDS)), list(itertools.accumulate([40, 20, 15, 12, 8, 5]))
        recent = []  # donations that may still be reversed
        for index in range(entries):
            reverses = -1
            if index < len(FUNDS):
                kind, fund, cents = OPENING, index, rng.randint(50_000, 500_000) * 100
            else:
                draw = rng.random()
                fund = rng.choices(funds, cum_weights=weights)[0]
                kind, cents = DONATION, self._donation_cents()
                if draw < 0.12:
                    kind, cents = SUBSIDY, rng.randint(200, 5000) * 100
                elif draw > 0.999 and recent:
                    reverses = recent.pop(rng.randrange(len(recent)))
                    kind, fund, cents = REVERSAL, self.fund[reverses], self.cents[reverses]
                if kind in (SUBSIDY, REVERSAL) and balance[fund] < cents:
                    kind, cents, reverses = DONATION, self._donation_cents(), -1
            balance[fund] += cents if kind in (OPENING, DONATION) else -cents
            if kind == DONATION:
                recent.append(index)
                if len(recent) > 200:
                    del recent[0]
            self.kind.append(kind)
            self.fund.append(fund)
            self.cents.append(cents)
            self.reversed_index.append(reverses)
        self.balances = balance
        self.first_day = self.today - timedelta(days=3 * 365)
        self.days = (self.today - self.first_day).days + 1

    def _donation_cents(self):
        rng, draw = self.rng, self.rng.random()
        if draw < 0.8:
            return rng.randint(2, 40) * 500  # 10 to 200 yuan
        if draw < 0.98:
            return rng.randint(200, 2000) * 100
        return rng.randint(20, 500) * 10_000

    def day_of(self, index):
        return self.first_day + timedelta(days=index * self.days // self.n["entries"])

    @staticmethod
    def lines(kind, fund, cents):
        """(account, debit cents, credit cents) per line, as the app's services post them."""
        fund_kind = FUNDS[fund][2]
        if kind == OPENING:
            return ((BANK, cents, 0), (NET_ASSETS[fund_kind], 0, cents))
        if kind == DONATION:
            return ((BANK, cents, 0), (INCOME[fund_kind], 0, cents))
        if kind == SUBSIDY:
            return ((SPENDING[fund_kind], cents, 0), (BANK, 0, cents))
        return ((BANK, 0, cents), (INCOME[fund_kind], cents, 0))  # a donation's mirror

    def donor(self, entry_id):
        """The donor of a donation entry, or None for an anonymous one (the same every time)."""
        key = (entry_id * 2654435761) % 1000
        if key < 100:
            return None
        if key < 280:
            return ORGANISATIONS[entry_id % len(ORGANISATIONS)]
        return self.name(entry_id)

    def fund_rows(self):
        created = self.now - timedelta(days=3 * 365 + 1)
        for number, (code, name, kind, purpose) in enumerate(FUNDS, 1):
            yield (number, code, name, kind, purpose, amount(self.balances[number - 1]), created)

    def entry_rows(self):
        """The vouchers, each hash-chained to the one before exactly as the app chains them."""
        zone, entries = self.zone, self.n["entries"]
        prev, counters, day, subsidies = GENESIS, {}, None, 0
        self.voucher_number, self.posted_at = array("i"), array("q")
        actors = {
            OPENING: self.foundation["approver"],
            DONATION: self.foundation["preparer"],
            SUBSIDY: self.foundation["cashier"],
            REVERSAL: self.foundation["approver"],
        }
        for index in range(entries):
            kind, fund, cents = self.kind[index], self.fund[index], self.cents[index]
            on = self.day_of(index)
            if on != day:
                day, rank = on, 0
                base = datetime.combine(on, clock(9), zone).astimezone(UTC)
            rank += 1
            posted = base + timedelta(seconds=rank * 20)
            number = counters[on.year] = counters.get(on.year, 0) + 1
            voucher = f"JZ{on.year}-{number:06d}"
            self.voucher_number.append(number)
            self.posted_at.append(int(posted.timestamp()))
            reverses = reason = None
            if kind == OPENING:
                summary, label = f"{FUNDS[fund][0]} 期初余额", "opening"
            elif kind == DONATION:
                summary, label = f"收到 {self.donor(index + 1) or '匿名捐赠人'} 捐赠", "donation"
            elif kind == SUBSIDY:
                subsidies += 1
                summary, label = f"支付第 {subsidies} 号资助", "subsidy"
            else:
                original = self.reversed_index[index]
                reverses, label = original + 1, "reversal"
                year = self.day_of(original).year
                summary = f"冲销 JZ{year}-{self.voucher_number[original]:06d} 号凭证"
                reason = "金额录入错误，冲销后重新入账"
            (first, debit1, credit1), (second, debit2, credit2) = self.lines(kind, fund, cents)
            lines = (
                f'[1,"{first}",{fund + 1},"{money(debit1)}","{money(credit1)}"],'
                f'[2,"{second}",{fund + 1},"{money(debit2)}","{money(credit2)}"]'
            )
            content = (  # neighbors.foundation.ledger.entry_hash's canonical JSON, sorted keys
                f'{{"actor":{actors[kind]},"date":"{on.isoformat()}","kind":"{label}",'
                f'"lines":[{lines}],"posted_at":"{posted.isoformat()}",'
                f'"reason":{"null" if reason is None else quoted(reason)},'
                f'"reverses":{"null" if reverses is None else reverses},'
                f'"summary":{quoted(summary)},"voucher":"{voucher}"}}'
            )
            digest = hashlib.sha256((prev + content).encode()).hexdigest()
            yield (
                index + 1,
                voucher,
                on,
                posted,
                summary,
                label,
                actors[kind],
                reverses,
                reason,
                prev,
                digest,
            )
            prev = digest
        self.last_hash, self.voucher_counters = prev, counters

    def posting_rows(self):
        posting_id = 0
        for index in range(self.n["entries"]):
            kind, fund, cents = self.kind[index], self.fund[index], self.cents[index]
            for line, (account, debit, credit) in enumerate(self.lines(kind, fund, cents), 1):
                posting_id += 1
                yield (
                    posting_id,
                    index + 1,
                    line,
                    account,
                    fund + 1,
                    amount(debit),
                    amount(credit),
                )

    def donation_rows(self):
        rng, counters, donation_id = self.rng, {}, 0
        preparer = self.foundation["preparer"]
        for index in range(self.n["entries"]):
            if self.kind[index] != DONATION:
                continue
            donation_id += 1
            on = self.day_of(index)
            number = counters[on.year] = counters.get(on.year, 0) + 1
            donor = self.donor(index + 1)
            receipt = rng.random() < 0.3
            yield (
                donation_id,
                f"{on.year}-{number:06d}",
                "organisation" if donor in ORGANISATIONS else "person",
                donor,
                donor is None,
                donor is not None and rng.random() < 0.5,
                on,
                rng.choice(CHANNELS),
                amount(self.cents[index]),
                self.fund[index] + 1,
                "",
                f"2101{on.year}" if receipt else None,
                f"{number:08d}" if receipt else None,
                min(on + timedelta(days=3), self.today) if receipt else None,
                index + 1,
                preparer,
                datetime.fromtimestamp(self.posted_at[index], UTC),
            )
        self.ack_counters = counters

    def beneficiary_rows(self):
        rng, oldest = self.rng, self.now - timedelta(days=3 * 365 + 30)
        for number in range(1, self.n["beneficiaries"] + 1):
            yield (
                number,
                self.name(number * 31 + 7),
                self.communities[rng.randrange(COMMUNITIES)][0],
                rng.choice((1, 1, 2, 2, 3, 3, 4, 5)),
                oldest + timedelta(minutes=number * 7),
            )

    def subsidy_rows(self):
        """Paid subsidies, one per subsidy voucher; then a few waiting for approval or payment,
        and some rejected."""
        rng, f = self.rng, self.foundation
        subsidy_id, beneficiaries = 0, self.n["beneficiaries"]
        for index in range(self.n["entries"]):
            if self.kind[index] != SUBSIDY:
                continue
            subsidy_id += 1
            paid = datetime.fromtimestamp(self.posted_at[index], UTC)
            yield (
                subsidy_id,
                rng.randint(1, beneficiaries),
                self.fund[index] + 1,
                amount(self.cents[index]),
                rng.choice(SUBSIDY_REASONS),
                False,
                "paid",
                f["preparer"],
                paid - timedelta(days=3),
                f["approver"],
                paid - timedelta(days=1),
                f["cashier"],
                paid,
                None,
                None,
                None,
                index + 1,
            )
        waiting = max(5, round(200 * self.scale))
        for status in ["prepared"] * waiting + ["approved"] * waiting + ["rejected"] * waiting:
            subsidy_id += 1
            prepared = self.now - timedelta(hours=rng.uniform(2, 240))
            later = prepared + (self.now - prepared) / 2
            approved = later if status == "approved" else None
            rejected = later if status == "rejected" else None
            yield (
                subsidy_id,
                rng.randint(1, beneficiaries),
                1 + rng.randrange(len(FUNDS) - 1),  # not the custodial fund
                amount(rng.randint(200, 3000) * 100),
                rng.choice(SUBSIDY_REASONS),
                False,
                status,
                f["preparer"],
                prepared,
                f["approver"] if approved else None,
                approved,
                None,
                None,
                f["approver"] if rejected else None,
                rejected,
                "材料不全，请补充后重新提交" if rejected else None,
                None,
            )


OPENING, DONATION, SUBSIDY, REVERSAL = range(4)
DECIMALS = {}


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


ESCAPED = re.compile(r'["\\\x00-\x1f]')


def quoted(text):
    """A JSON string as json.dumps(text, ensure_ascii=False) writes it."""
    return json.dumps(text, ensure_ascii=False) if ESCAPED.search(text) else f'"{text}"'


def amount(cents):
    """A Decimal of two places (cached: amounts repeat)."""
    value = DECIMALS.get(cents)
    if value is None:
        value = DECIMALS[cents] = Decimal(money(cents))
    return value


# -- the run ----------------------------------------------------------------------------------


def load_areas(load, city):
    load.copy("districts", "id:int code name", city.districts)
    load.copy("streets", "id:int code name district_id:int", city.streets)
    load.copy("communities", "id:int code name street_id:int", city.communities)
    load.copy("grids", "id:int code name community_id:int", city.grids)


def load_people(load, city):
    load.copy(
        "users",
        (
            "id:int name email password_hash home_community_id:int grid_id:int locale "
            "privacy_consent_version privacy_consent_at:time created_at:time"
        ),
        city.user_rows(),
    )
    load.copy(
        "role_grants",
        "id:int user_id:int role community_id:int",
        city.role_rows(),
    )
    load.copy(
        "party_members",
        (
            "user_id:int branch work_unit community_id:int grid_id:int reported_on:date "
            "status declared_at:time reviewed_by_id:int reviewed_at:time"
        ),
        city.party_rows(),
    )


def load_events(load, city):
    started = time.perf_counter()
    city.plan_events()
    print(f"  (events and sign-ups planned in {time.perf_counter() - started:.1f} s)", flush=True)
    load.copy(
        "organisations",
        "id:int name kind community_id:int contact_name contact_phone description status "
        "created_by_id:int created_at:time",
        city.organisations,
    )
    load.copy(
        "organisation_members",
        "id:int organisation_id:int user_id:int role status created_at:time",
        city.organisation_members,
    )
    load.copy("stations", "id:int code name address opening_hours created_at:time", city.stations)
    load.copy("station_communities", "station_id:int community_id:int", city.station_communities)
    load.copy("rooms", "id:int station_id:int name capacity:int", city.rooms)
    load.copy(
        "events",
        (
            "id:int community_id:int category title description venue room_id:int "
            "organisation_id:int starts_at:time "
            "ends_at:time capacity:int confirmed_count:int waitlist_count:int "
            "waitlist_seq:int signup_closes_at:time cancel_cutoff_at:time "
            "dedication_day:bool status cancel_reason created_by_id:int created_at:time "
            "published_at:time revision:int changed_at:time"
        ),
        city.event_rows(),
    )
    load.copy(
        "signups",
        (
            "id:int event_id:int user_id:int status waitlist_seq:int created_at:time "
            "confirmed_at:time cancelled_at:time checked_in_at:time checked_out_at:time "
            "walk_in:bool no_show:bool"
        ),
        city.signup_rows(),
    )
    load.copy(
        "service_records",
        (
            "id:int user_id:int event_id:int organisation_id:int community_id:int category "
            "activity place "
            "organiser served_on:date minutes:int status review_note recorded_by_id:int "
            "recorded_at:time reviewed_by_id:int reviewed_at:time"
        ),
        city.service_record_rows(),
    )


def load_ledger(load, city):
    started = time.perf_counter()
    city.plan_ledger()
    print(f"  (ledger planned in {time.perf_counter() - started:.1f} s)", flush=True)
    load.copy(
        "funds",
        "id:int code name kind purpose balance:numeric created_at:time",
        city.fund_rows(),
    )
    # The append-only triggers refuse TRUNCATE, so these two are loaded without FREEZE.
    load.copy(
        "journal_entries",
        (
            "id:int voucher entry_date:date posted_at:time summary kind actor_id:int "
            "reverses_id:int reason prev_hash hash"
        ),
        city.entry_rows(),
        freeze=False,
    )
    load.copy(
        "postings",
        "id:int entry_id:int line:int account fund_id:int debit:numeric credit:numeric",
        city.posting_rows(),
        freeze=False,
    )
    load.copy(
        "donations",
        (
            "id:int ack_number donor_kind donor_name anonymous:bool publish_consent:bool "
            "received_on:date channel amount:numeric fund_id:int notes receipt_code "
            "receipt_number receipt_date:date entry_id:int created_by_id:int "
            "created_at:time"
        ),
        city.donation_rows(),
    )
    load.copy(
        "beneficiaries",
        "id:int name community_id:int household_size:int created_at:time",
        city.beneficiary_rows(),
    )
    load.copy(
        "subsidies",
        (
            "id:int beneficiary_id:int fund_id:int amount:numeric reason related_party:bool "
            "status prepared_by_id:int prepared_at:time approved_by_id:int approved_at:time "
            "paid_by_id:int paid_at:time rejected_by_id:int rejected_at:time "
            "rejection_reason entry_id:int"
        ),
        city.subsidy_rows(),
    )
    conn = load.conn
    with conn.transaction():
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO counters (name, year, last) VALUES (%s, %s, %s)",
                [("voucher", year, last) for year, last in city.voucher_counters.items()]
                + [("ack", year, last) for year, last in city.ack_counters.items()],
            )
        conn.execute(
            "UPDATE ledger_head SET last_hash = %s, entries = %s WHERE id = 1",
            (city.last_hash, city.n["entries"]),
        )


def check_chain(conn, entry_hash):
    """Our hashes against the app's entry_hash, on a sample of every kind of voucher (read in
    two scans: the tables have no indexes yet)."""
    from types import SimpleNamespace

    rows = conn.execute(
        """SELECT id, voucher, entry_date, summary, kind, reverses_id, reason, actor_id,
                  posted_at, prev_hash, hash FROM journal_entries
           WHERE id <= 10 OR id % 997 = 0 OR kind = 'reversal' ORDER BY id LIMIT 2000"""
    ).fetchall()
    lines = {}
    for entry_id, *line in conn.execute(
        "SELECT entry_id, line, account, fund_id, debit, credit FROM postings "
        "WHERE entry_id = ANY(%s) ORDER BY entry_id, line",
        ([row[0] for row in rows],),
    ):
        fields = ("line", "account", "fund_id", "debit", "credit")
        lines.setdefault(entry_id, []).append(
            SimpleNamespace(**dict(zip(fields, line, strict=True)))
        )
    names = ("voucher", "entry_date", "summary", "kind", "reverses_id", "reason", "actor_id")
    names += ("posted_at",)
    for row in rows:
        entry = SimpleNamespace(**dict(zip(names, row[1:9], strict=True)), lines=lines[row[0]])
        if entry_hash(entry, row[9]) != row[10]:
            raise SystemExit(f"entry {row[0]}: our hash differs from the app's entry_hash")
    return len(rows)


def set_sequences(conn):
    """Each id sequence past the largest id, so the app's inserts follow on."""
    owned = conn.execute(
        """SELECT s.seqrelid::regclass::text, t.relname, a.attname
           FROM pg_sequence s
           JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype = 'a'
           JOIN pg_class t ON t.oid = d.refobjid
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid"""
    ).fetchall()
    for sequence, table, column in owned:
        conn.execute(
            f"SELECT setval('{sequence}', coalesce(max({column}), 0) + 1, false) FROM {table}"
        )
    return len(owned)


def samples(conn):
    """What the load scripts need, read back from the database."""
    volunteers = [
        email
        for (email,) in conn.execute(
            """WITH upcoming AS (
                   SELECT DISTINCT s.user_id FROM signups s JOIN events e ON e.id = s.event_id
                   WHERE s.status = 'confirmed' AND e.status = 'published'
                     AND e.starts_at > now() + interval '1 day')
               SELECT u.email FROM upcoming JOIN users u ON u.id = upcoming.user_id
               WHERE EXISTS (SELECT 1 FROM service_records r
                             WHERE r.user_id = upcoming.user_id AND r.status = 'confirmed')
               ORDER BY md5(u.email) LIMIT 200"""
        )
    ]
    events = [
        event_id
        for (event_id,) in conn.execute(
            """SELECT id FROM events WHERE status = 'published'
                 AND starts_at > now() + interval '1 day'
                 AND (signup_closes_at IS NULL OR signup_closes_at > now() + interval '1 day')
               ORDER BY md5(id::text) LIMIT 1000"""
        )
    ]
    step = COMMUNITIES // 20
    staff = [f"staff{k + 1:04d}@example.org" for k in range(0, step * 20, step)]
    return volunteers, staff, events


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1.0: the city (default); 0.1: a tenth"
    )
    parser.add_argument("--database-url", help="default: BENCH_DATABASE_URL, or neighbors_city")
    args = parser.parse_args()
    if not 0 < args.scale <= 2:
        parser.error("--scale is a number above 0, at most 2")
    url = database_url(args)
    name = database_name(url)
    started = time.perf_counter()
    print(f"Seeding {name} at scale {args.scale:g}", flush=True)
    reset_database(url, name)
    migrate(url)
    facts = app_facts(url)
    print(f"  schema by migrations, password hashed: {time.perf_counter() - started:.1f} s")
    city = City(args.scale, facts)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        schema = Schema(conn)
        schema.drop()
        load = Loader(conn)
        load_areas(load, city)
        load_people(load, city)
        load_events(load, city)
        load_ledger(load, city)
        begun = time.perf_counter()
        checked = check_chain(conn, facts["entry_hash"])
        print(
            f"  {checked} vouchers' hashes equal the app's entry_hash "
            f"({time.perf_counter() - begun:.1f} s)",
            flush=True,
        )
        restore = schema.restore(url)
        set_sequences(conn)
        begun = time.perf_counter()
        conn.execute("VACUUM (ANALYZE)")
        vacuum = time.perf_counter() - begun
        print(f"  VACUUM (ANALYZE) in {vacuum:.1f} s", flush=True)
        begun = time.perf_counter()
        volunteers, staff, events = samples(conn)
        print(f"  samples for the load scripts in {time.perf_counter() - begun:.1f} s", flush=True)
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    total = time.perf_counter() - started
    counts = {table: rows for table, (rows, _s) in load.stats.items()}
    facts_file = ROOT / "bench" / f".city-{name}.json"
    facts_file.write_text(
        json.dumps(
            {
                "url": url,
                "database": name,
                "scale": args.scale,
                "seeded_at": city.now.isoformat(),
                "password": PASSWORD,
                "counts": counts,
                "volunteer_email_pattern": "u{id}@example.org",
                "volunteer_ids": [1, city.n["users"]],
                "volunteer_emails": volunteers,
                "staff_emails": staff,
                "admin_email": "admin@example.org",
                "foundation_emails": {role: f"{role}@example.org" for role in city.foundation},
                "upcoming_event_ids": events,
                "hot_event_id": city.hot.id,
                "hot_event_capacity": HOT_CAPACITY,
                "seconds": round(total, 1),
                "database_bytes": size,
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    rows = sum(counts.values())
    copy_seconds = sum(s for _r, s in load.stats.values())
    print(
        f"\n{name}: {rows:,} rows in {total:.0f} s ({copy_seconds:.0f} s COPY at "
        f"{rows / copy_seconds:,.0f} rows/s, {restore:.0f} s indexes and constraints, "
        f"{vacuum:.0f} s VACUUM ANALYZE); database {size / 2**30:.2f} GiB.\n"
        f"Facts for load scripts: {facts_file.relative_to(ROOT)}",
        flush=True,
    )


if __name__ == "__main__":
    main()

"""Importing areas: idempotent, reports what changed, line-numbered errors, all or nothing."""

import pytest
from sqlalchemy import func, select

from neighbors.areas import services as areas
from neighbors.areas.models import Community, District, Grid, Street
from neighbors.core.tabular import ImportFailed
from neighbors.extensions import db
from tests.factories import DEMO_AREAS

HEADER = (
    "district_code,district_name,street_code,street_name,community_code,community_name,"
    "grid_code,grid_name\n"
)


def write(tmp_path, body, name="areas.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes((HEADER + body).encode(encoding))
    return path


def counts():
    return tuple(
        db.session.scalar(select(func.count()).select_from(m))
        for m in (District, Street, Community, Grid)
    )


def test_import_creates_the_hierarchy_and_a_second_run_changes_nothing(ctx):
    report = areas.import_areas(DEMO_AREAS)
    assert report.counts["district"]["created"] == 3
    assert report.counts["community"]["created"] == 14
    assert report.counts["grid"]["created"] == 28
    assert counts() == (3, 7, 14, 28)
    community = areas.community_by_code("210102002001")
    assert (community.name, community.street.name, community.street.district.name) == (
        "文安路社区",
        "南湖街道",
        "和平区",
    )

    again = areas.import_areas(DEMO_AREAS)
    assert not again.changed
    assert again.counts["grid"] == {"created": 0, "updated": 0, "unchanged": 28}
    assert counts() == (3, 7, 14, 28)


def test_renames_are_reported_and_grids_are_optional(ctx, tmp_path):
    areas.import_areas(write(tmp_path, "d1,和平区,s1,南湖街道,c1,文安路社区,g1,第一网格\n"))
    report = areas.import_areas(write(tmp_path, "d1,和平区,s1,南湖街道,c1,文安路社区(新),,\n"))
    assert report.counts["community"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert areas.community_by_code("c1").name == "文安路社区(新)"
    assert counts() == (1, 1, 1, 1)


def test_errors_name_their_lines_and_nothing_is_written(ctx, tmp_path):
    path = write(
        tmp_path,
        "d1,和平区,s1,南湖街道,c1,文安路社区,g1,第一网格\n"
        "d1,和平区,s1,南湖街道,,文安路社区,,\n"
        "d1,和平区,s1,南湖街道,c2,三好街社区,g2,\n"
        "d2,沈河区,s1,南湖街道,c3,青年社区,,\n",
    )
    with pytest.raises(ImportFailed) as failure:
        areas.import_areas(path)
    lines = [line for line, _message in failure.value.errors]
    assert lines == [3, 4, 5]
    assert "community_code" in failure.value.errors[0][1]
    assert "line 2" in failure.value.errors[2][1]  # s1 first appeared under d1 on line 2
    assert counts() == (0, 0, 0, 0)


def test_moving_an_area_to_another_parent_is_refused(ctx, tmp_path):
    areas.import_areas(write(tmp_path, "d1,和平区,s1,南湖街道,c1,文安路社区,,\n"))
    with pytest.raises(ImportFailed) as failure:
        areas.import_areas(write(tmp_path, "d1,和平区,s2,北市场街道,c1,文安路社区,,\n"))
    assert failure.value.errors[0][0] == 2
    assert areas.community_by_code("c1").street.code == "s1"
    assert counts() == (1, 1, 1, 0)


def test_wrong_header_is_reported_on_line_one(ctx, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("district,name\nd1,和平区\n", encoding="utf-8")
    with pytest.raises(ImportFailed) as failure:
        areas.import_areas(path)
    assert failure.value.errors[0][0] == 1
    assert "district_code" in failure.value.errors[0][1]


def test_excel_style_gb18030_with_bom_free_text_is_read(ctx, tmp_path):
    path = write(tmp_path, "d1,和平区,s1,南湖街道,c1,文安路社区,,\n", encoding="gb18030")
    areas.import_areas(path)
    assert areas.community_by_code("c1").name == "文安路社区"

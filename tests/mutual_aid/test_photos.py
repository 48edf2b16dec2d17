"""The photo of a fulfilled wish: checked by its bytes, re-encoded without its metadata (never
where it was taken), kept in the configured folder, and on the wall only with the asker's
consent; from the services, the pages and the API."""

import io
import re

import pytest
from PIL import Image

from neighbors.core.errors import Conflict, Invalid, NotAllowed, NotFound
from neighbors.extensions import db
from neighbors.mutual_aid import services as aid
from neighbors.mutual_aid.models import Wish
from neighbors.mutual_aid.photos import folder
from tests.clients import EN, bearer, log_in, post_form, token_for
from tests.factories import photo_bytes


def fulfilled(hood):
    wish_id = hood.wish(age_hours=25)
    aid.claim(hood.volunteer, wish_id)
    aid.fulfil(hood.volunteer, wish_id, note="送到家了")
    return wish_id


def stored(wish_id):
    name = db.session.get(Wish, wish_id).photo_name
    return Image.open(io.BytesIO((folder() / name).read_bytes()))


def test_the_claimer_adds_a_photo_that_keeps_no_metadata_and_waits_for_consent(hood):
    wish_id = hood.wish(age_hours=25)
    aid.claim(hood.volunteer, wish_id)
    with pytest.raises(Conflict):  # not fulfilled yet
        aid.add_photo(hood.volunteer, wish_id, photo_bytes())
    aid.fulfil(hood.volunteer, wish_id, note="送到家了")
    original = Image.open(io.BytesIO(photo_bytes()))
    assert original.getexif().get_ifd(0x8825)  # the upload says where it was taken
    wish = aid.add_photo(hood.volunteer, wish_id, photo_bytes())
    kept = stored(wish_id)
    assert kept.format == "JPEG" and kept.size == (64, 48)
    assert not kept.getexif() and "exif" not in kept.info and "icc_profile" not in kept.info
    assert not aid.shown(None, wish)  # not on the wall before the asker agrees
    assert aid.shown(hood.volunteer, wish) and aid.shown(hood.staff, wish)
    assert aid.shown(hood.resident, wish)
    with pytest.raises(NotFound):
        aid.photo_path(hood.member, wish)
    aid.set_consent(hood.resident, wish_id, consent=True)
    assert aid.photo_path(None, wish).is_file()
    aid.set_consent(hood.staff, wish_id, consent=False)  # staff, for an asker without a phone
    assert not aid.shown(hood.member, wish)


def test_only_the_claimer_or_the_community_staff_add_it_and_only_the_asker_or_staff_consent(
    hood,
):
    wish_id = fulfilled(hood)
    with pytest.raises(NotAllowed):
        aid.add_photo(hood.member, wish_id, photo_bytes())
    with pytest.raises(NotAllowed):
        aid.set_consent(hood.volunteer, wish_id, consent=True)
    first = aid.add_photo(hood.staff, wish_id, photo_bytes()).photo_name
    second = aid.add_photo(hood.volunteer, wish_id, photo_bytes("PNG", (3000, 2000))).photo_name
    assert not (folder() / first).exists() and (folder() / second).exists()  # replaced
    assert stored(wish_id).size == (1600, 1067)  # made small enough for a phone


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><script>alert(1)</script></html>",
        b"\xff\xd8\xff" + b"not really a jpeg" * 10,  # a JPEG's first bytes, then nothing
        b"GIF89a" + b"\x00" * 40,  # a picture, but not a kind we take
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but a sound
        None,
    ],
)
def test_anything_but_a_photo_is_refused_by_its_bytes(hood, data):
    wish_id = fulfilled(hood)
    with pytest.raises(Invalid) as refused:
        aid.add_photo(hood.volunteer, wish_id, data)
    assert "photo" in refused.value.fields
    assert aid.visible_wish(hood.staff, wish_id).photo_name is None


def test_a_photo_too_large_in_bytes_or_pixels_is_refused(hood, app, monkeypatch):
    wish_id = fulfilled(hood)
    monkeypatch.setitem(app.config, "WISH_PHOTO_MAX_BYTES", 100)
    with pytest.raises(Invalid):
        aid.add_photo(hood.volunteer, wish_id, photo_bytes())
    monkeypatch.setitem(app.config, "WISH_PHOTO_MAX_BYTES", 8 * 1024 * 1024)
    monkeypatch.setitem(app.config, "WISH_PHOTO_MAX_PIXELS", 1000)
    with pytest.raises(Invalid):
        aid.add_photo(hood.volunteer, wish_id, photo_bytes())


def test_photos_go_to_the_configured_folder(hood, app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "WISH_PHOTO_DIR", str(tmp_path / "photos"))
    wish_id = fulfilled(hood)
    name = aid.add_photo(hood.volunteer, wish_id, photo_bytes()).photo_name
    assert (tmp_path / "photos" / name).is_file()


def test_the_pages_upload_the_photo_and_show_it_on_the_wall_after_consent(app, town_hall):
    hood = town_hall
    with app.app_context():
        wish_id = fulfilled(hood)
    volunteer, resident, anyone = app.test_client(), app.test_client(), app.test_client()
    log_in(volunteer, hood.volunteer_email)
    log_in(resident, hood.resident_email)
    page = volunteer.get(f"/wishes/{wish_id}", headers=EN).text
    assert 'enctype="multipart/form-data"' in page and "A photo of the wish come true" in page
    pdf = {"photo": (io.BytesIO(b"%PDF-1.7"), "photo.jpg", "image/jpeg")}
    wrong = post_form(volunteer, f"/wishes/{wish_id}/photo", pdf, headers=EN)
    assert wrong.status_code == 422 and "JPEG, PNG or WebP" in wrong.text  # a plain answer
    jpeg = {"photo": (io.BytesIO(photo_bytes()), "IMG_0001.JPG", "image/jpeg")}
    sent = post_form(volunteer, f"/wishes/{wish_id}/photo", jpeg)
    assert sent.status_code == 302
    assert anyone.get(f"/wishes/{wish_id}/photo.jpg").status_code == 404
    assert volunteer.get(f"/wishes/{wish_id}/photo.jpg").status_code == 200
    asked = resident.get(f"/wishes/{wish_id}", headers=EN).text
    assert "I agree: show the photo on the wall" in asked
    post_form(resident, f"/wishes/{wish_id}/photo-consent/yes", {})
    shown = anyone.get(f"/wishes/{wish_id}/photo.jpg")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert b"Exif" not in shown.data and b"PhoneMaker" not in shown.data
    wall = anyone.get("/wishes?status=fulfilled").text
    assert re.search(rf'<img src="/wishes/{wish_id}/photo.jpg"', wall)
    post_form(resident, f"/wishes/{wish_id}/photo-consent/no", {})
    assert anyone.get(f"/wishes/{wish_id}/photo.jpg").status_code == 404


def test_the_api_takes_the_photo_as_the_body_and_the_consent(app, client, town_hall):
    hood = town_hall
    with app.app_context():
        wish_id = fulfilled(hood)

    volunteer = bearer(token_for(client, hood.volunteer_email))
    resident = bearer(token_for(client, hood.resident_email))
    bad = client.post(f"/api/v1/wishes/{wish_id}/photo", data=b"GIF89a", headers=volunteer)
    assert bad.status_code == 422 and "photo" in bad.json["error"]["fields"]
    sent = client.post(f"/api/v1/wishes/{wish_id}/photo", data=photo_bytes("WEBP"),
                       headers={**volunteer, "Content-Type": "image/webp"})  # fmt: skip
    assert sent.status_code == 201 and sent.json["photo"].endswith(f"/wishes/{wish_id}/photo.jpg")
    assert sent.json["photo_consent"] is False
    agreed = client.put(f"/api/v1/wishes/{wish_id}/photo-consent", json={"consent": True},
                        headers=resident)  # fmt: skip
    assert agreed.status_code == 200 and agreed.json["photo_consent"] is True
    assert client.get(f"/wishes/{wish_id}/photo.jpg").status_code == 200  # on the wall now

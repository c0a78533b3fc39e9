"""The photos of a bid: POST /api/v1/bids/{id}/photos/, DELETE …/photos/{photo_id}/, the bid's
payload and the files served at /media/. Every image is made here with Pillow."""

import io
import random
import re
import struct
import zlib
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, features

from vendors.models import BidPhoto

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bid_id(vendor_client, customer, publish, subscribe):
    subscribe(vendor_client.vendor)
    intent = publish(customer)
    response = vendor_client.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3750.00", "currency": "GBP"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def photos_url(bid_id):
    return f"/api/v1/bids/{bid_id}/photos/"


def image_bytes(fmt, size=(64, 48), mode="RGB", colour="red", **save):
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def jpeg_with_gps():
    """A 64×48 JPEG that says it was taken rotated (orientation 6) at a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 26.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
    }
    data = image_bytes("JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(data)) as check:  # the input really carries them
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    return data


def png_declaring(width, height):
    """A PNG of a few bytes whose header declares ``width`` × ``height`` pixels."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def upload(data, name="car.jpg", content_type="image/jpeg"):
    return {"photo": SimpleUploadedFile(name, data, content_type=content_type)}


def post_photo(client, bid_id, data, **kwargs):
    return client.post(photos_url(bid_id), upload(data, **kwargs), format="multipart")


def stored_image(photo_id):
    photo = BidPhoto.objects.get(pk=photo_id)
    with photo.image.open("rb") as file:
        return Image.open(io.BytesIO(file.read()))


def test_jpeg_is_stored_upright_without_any_metadata(vendor_client, bid_id):
    response = post_photo(vendor_client, bid_id, jpeg_with_gps(), name="IMG_0001 home address.jpg")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["content_type"] == "image/jpeg"
    assert (body["width"], body["height"]) == (48, 64)  # turned by its orientation first
    stored = stored_image(body["id"])
    assert stored.format == "JPEG" and stored.size == (48, 64)
    assert len(stored.getexif()) == 0
    assert not {"exif", "icc_profile", "xmp", "comment", "photoshop"} & set(stored.info)
    # A random name: nothing of the client's file name, the bid or the vendor.
    assert re.fullmatch(r"/media/bid-photos/[A-Za-z0-9_-]{32}\.jpg", urlsplit(body["url"]).path)


@pytest.mark.parametrize(
    ("data", "stored_type"),
    [
        pytest.param(image_bytes("PNG"), "image/jpeg", id="png"),
        pytest.param(image_bytes("PNG", mode="RGBA", colour=(0, 0, 255, 128)), "image/webp", id="png-transparent"),
        pytest.param(image_bytes("PNG", mode="P"), "image/jpeg", id="png-palette"),
        pytest.param(image_bytes("WEBP") if features.check("webp") else b"", "image/jpeg", id="webp"),
    ],
)
def test_png_and_webp_are_accepted(vendor_client, bid_id, data, stored_type):
    response = post_photo(vendor_client, bid_id, data, name="photo.bin", content_type="application/octet-stream")
    assert response.status_code == 201, response.json()
    assert response.json()["content_type"] == stored_type
    assert stored_image(response.json()["id"]).get_format_mimetype() == stored_type


def test_large_photo_is_scaled_down(vendor_client, bid_id, settings):
    settings.INTENTCAST = {**settings.INTENTCAST, "PHOTO_MAX_EDGE": 100}
    response = post_photo(vendor_client, bid_id, image_bytes("JPEG", size=(400, 200)))
    assert response.status_code == 201
    assert (response.json()["width"], response.json()["height"]) == (100, 50)


def noise_png(size):
    """A PNG that does not compress: its bytes grow with its pixels."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("size", [(60, 60), (200, 200)], ids=["over-the-limit", "far-over-the-limit"])
def test_oversized_photo_is_413_on_photo(vendor_client, bid_id, settings, size):
    settings.INTENTCAST = {**settings.INTENTCAST, "PHOTO_MAX_BYTES": 5_000}
    data = noise_png(size)
    assert len(data) > 5_000
    response = post_photo(vendor_client, bid_id, data, name="car.png", content_type="image/png")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and "photo" in error["fields"]
    assert not BidPhoto.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<!doctype html><html><script>alert(document.cookie)</script></html>", id="html"),
        pytest.param(
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>', id="svg"
        ),
        pytest.param(b"just some text, honestly a photo", id="text"),
        pytest.param(image_bytes("GIF"), id="gif"),
        pytest.param(image_bytes("BMP"), id="bmp"),
        pytest.param(image_bytes("JPEG")[:200], id="truncated-jpeg"),
        pytest.param(b"", id="empty"),
    ],
)
def test_a_file_that_is_not_an_accepted_image_is_400_on_photo(vendor_client, bid_id, data):
    response = post_photo(vendor_client, bid_id, data, name="car.jpg", content_type="image/jpeg")
    assert response.status_code == 400, response.json()
    assert "photo" in response.json()["error"]["fields"]
    assert not BidPhoto.objects.exists()


def test_missing_photo_field_is_400_on_photo(vendor_client, bid_id):
    response = vendor_client.post(photos_url(bid_id), {"picture": "x"}, format="multipart")
    assert response.status_code == 400 and "photo" in response.json()["error"]["fields"]


def test_json_body_is_415(vendor_client, bid_id):
    response = vendor_client.post(photos_url(bid_id), {"photo": "aGVsbG8="}, format="json")
    assert response.status_code == 415 and "error" in response.json()


@pytest.mark.parametrize(
    ("width", "height"),
    [(20_000, 20_000), (7_000, 7_000)],  # past Pillow's own bomb limit; past ours (40 MP) only
)
def test_decompression_bomb_is_refused_before_decoding(vendor_client, bid_id, width, height):
    data = png_declaring(width, height)
    assert len(data) < 200
    response = post_photo(vendor_client, bid_id, data, name="tiny.png", content_type="image/png")
    assert response.status_code == 400, response.json()
    assert "pixels" in response.json()["error"]["fields"]["photo"][0]
    assert not BidPhoto.objects.exists()


def test_ninth_photo_is_refused(vendor_client, bid_id):
    for n in range(8):
        assert post_photo(vendor_client, bid_id, image_bytes("PNG", colour=(n * 30, 0, 0))).status_code == 201
    response = post_photo(vendor_client, bid_id, image_bytes("PNG"))
    assert response.status_code == 400
    assert "8 photos" in response.json()["error"]["fields"]["photo"][0]
    assert BidPhoto.objects.count() == 8


def test_removed_photo_frees_its_place_and_its_file(vendor_client, bid_id, django_capture_on_commit_callbacks):
    first = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    second = post_photo(vendor_client, bid_id, image_bytes("PNG")).json()
    photo = BidPhoto.objects.get(pk=first["id"])
    storage, name = photo.image.storage, photo.image.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = vendor_client.delete(f"{photos_url(bid_id)}{first['id']}/")
    assert response.status_code == 204
    assert not storage.exists(name)
    assert [p["id"] for p in vendor_client.get(f"/api/v1/bids/{bid_id}/").json()["photos"]] == [second["id"]]
    assert vendor_client.delete(f"{photos_url(bid_id)}{first['id']}/").status_code == 404
    third = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    assert BidPhoto.objects.get(pk=third["id"]).position == 0  # the freed place


def test_another_vendor_can_neither_add_nor_remove(vendor_client, bid_id, make_vendor_client):
    photo = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    other = make_vendor_client()
    response = post_photo(other, bid_id, image_bytes("JPEG"))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert other.delete(f"{photos_url(bid_id)}{photo['id']}/").status_code == 404
    assert BidPhoto.objects.count() == 1


def test_photo_of_another_bid_cannot_be_removed_through_this_one(
    vendor_client, bid_id, customer, publish, subscribe, make_vendor_client
):
    photo = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    other = make_vendor_client()
    subscribe(other.vendor)
    intent = publish(customer, title="Another Yaris")
    other_bid = other.post(
        "/api/v1/bids/", {"intent": str(intent.pk), "amount": "3000.00", "currency": "GBP"}, format="json"
    ).json()["id"]
    assert other.delete(f"{photos_url(other_bid)}{photo['id']}/").status_code == 404
    assert BidPhoto.objects.filter(pk=photo["id"]).exists()


def test_photo_on_a_withdrawn_bid_is_refused(vendor_client, bid_id):
    photo = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    assert vendor_client.delete(f"/api/v1/bids/{bid_id}/").status_code == 200
    response = post_photo(vendor_client, bid_id, image_bytes("JPEG"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "bid_not_active"
    assert vendor_client.delete(f"{photos_url(bid_id)}{photo['id']}/").status_code == 409
    assert BidPhoto.objects.count() == 1


def test_bid_payload_lists_its_photos(vendor_client, bid_id):
    added = [post_photo(vendor_client, bid_id, image_bytes(fmt)).json() for fmt in ("JPEG", "PNG")]
    photos = vendor_client.get(f"/api/v1/bids/{bid_id}/").json()["photos"]
    assert photos == added
    assert set(photos[0]) == {"id", "url", "width", "height", "content_type"}
    listed = vendor_client.get("/api/v1/bids/").json()["results"][0]["photos"]
    assert [p["id"] for p in listed] == [p["id"] for p in added]


def test_inbox_and_intent_show_the_latest_bid_with_its_photos(vendor_client, bid_id):
    """The inbox reads photos only for bids that have some: the one with photos lists them in
    order, in the inbox as in the intent's own view."""
    added = [post_photo(vendor_client, bid_id, image_bytes(fmt)).json() for fmt in ("JPEG", "PNG")]
    inbox = vendor_client.get("/api/v1/intents/").json()["results"]
    assert [item["bid"]["photos"] for item in inbox] == [added]
    intent = vendor_client.get(f"/api/v1/intents/{inbox[0]['id']}/").json()
    assert intent["bid"]["photos"] == added


def test_served_photo_has_safe_headers(vendor_client, bid_id, api_client):
    photo = post_photo(vendor_client, bid_id, image_bytes("JPEG")).json()
    response = api_client.get(urlsplit(photo["url"]).path)  # no key needed: the name is the secret
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "inline"
    assert "sandbox" in response["Content-Security-Policy"]
    content = b"".join(response.streaming_content)
    response.close()
    assert Image.open(io.BytesIO(content)).format == "JPEG"


def test_media_serves_only_photos(api_client, settings):
    (settings.MEDIA_ROOT / "bid-photos").mkdir(parents=True)
    (settings.MEDIA_ROOT / "bid-photos" / "page.html").write_text("<script>alert(1)</script>")
    assert api_client.get("/media/bid-photos/page.html").status_code == 404
    assert api_client.get("/media/../settings.py").status_code == 404

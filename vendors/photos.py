"""The photos of a bid: what a vendor shows of what it offers, at most ``BidPhoto.MAX_PER_BID``.

An upload is never stored as it came. It must be a JPEG, PNG or WebP by its content (Pillow reads
the header; the file's name and the client's content type are not trusted); the pixels it declares
are counted before anything is decoded, so a small file that unpacks into gigabytes (a
decompression bomb) is refused; then it is decoded, turned upright by its EXIF orientation,
scaled down to ``PHOTO_MAX_EDGE`` and encoded again from the bare pixels, so nothing of the
original's metadata (EXIF with its GPS position, XMP, comments, colour profiles) survives. What is
stored is a JPEG (or a WebP when the photo has transparency) under a random name.

The limits are settings in ``INTENTCAST``: ``PHOTO_MAX_BYTES``, ``PHOTO_MAX_PIXELS``,
``PHOTO_MAX_EDGE``, ``PHOTO_QUALITY``.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from broker.core.errors import BidNotActive, IntentClosed, NotFound
from vendors.models import Bid, BidPhoto, Vendor

FIELD = "photo"
# What Pillow may even try to read an upload as: its own format names.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_TYPES = {"JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class _Encoded:
    data: bytes
    width: int
    height: int
    content_type: str
    extension: str


def _limit(name: str) -> int:
    return int(settings.INTENTCAST[name])


def _refuse(message: str, code: str) -> ValidationError:
    return ValidationError({FIELD: ValidationError(message, code=code)})


def _read(upload: File[bytes], max_bytes: int) -> bytes:
    """The upload's bytes, refusing it as soon as it is larger than ``max_bytes``."""
    if upload.size is not None and upload.size > max_bytes:
        raise _too_large(max_bytes)
    upload.seek(0)
    data = bytes(upload.read(max_bytes + 1))
    if len(data) > max_bytes:
        raise _too_large(max_bytes)
    if not data:
        raise _refuse("The photo is empty.", "empty")
    return data


def _too_large(max_bytes: int) -> ValidationError:
    return _refuse(f"The photo is larger than {max_bytes // (1024 * 1024)} MB.", "too_large")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """The image in ``data``, its header read and its size checked, not yet decoded."""
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(max_pixels) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _refuse("The photo must be a JPEG, PNG or WebP image.", "not_an_image") from error
    width, height = image.size
    if width < 1 or height < 1:
        raise _refuse("The photo must be a JPEG, PNG or WebP image.", "not_an_image")
    if width * height > max_pixels:
        raise _too_many_pixels(max_pixels)
    return image


def _too_many_pixels(max_pixels: int) -> ValidationError:
    return _refuse(f"The photo has more than {max_pixels / 1_000_000:g} million pixels.", "too_many_pixels")


def _encode(data: bytes) -> _Encoded:
    """Decode, turn upright, scale down and encode again from the pixels alone."""
    max_pixels, max_edge = _limit("PHOTO_MAX_PIXELS"), _limit("PHOTO_MAX_EDGE")
    # The pixels were counted from the header (``_open``) before anything is decoded; Pillow's own
    # bomb check (Image.MAX_IMAGE_PIXELS) stays on behind it and is a refusal too.
    with _open(data, max_pixels) as image:
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (max_edge, max_edge))  # decode a large JPEG at a reduced scale
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except Image.DecompressionBombError as error:
            raise _too_many_pixels(max_pixels) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise _refuse("The photo is damaged or incomplete.", "damaged") from error
    upright.thumbnail((max_edge, max_edge), Image.Resampling.LANCZOS)
    transparent = upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info)
    pixels = upright.convert("RGBA" if transparent else "RGB")
    # A new image from the pixels alone: no info, no EXIF, no XMP, no ICC profile, no comment.
    bare = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    quality = _limit("PHOTO_QUALITY")
    stored = "WEBP" if transparent else "JPEG"
    if stored == "WEBP":
        bare.save(out, format="WEBP", quality=quality, method=4)
    else:
        bare.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    content_type, extension = STORED_TYPES[stored]
    return _Encoded(out.getvalue(), bare.width, bare.height, content_type, extension)


def _check_bid(bid: Bid, vendor: Vendor) -> None:
    if bid.vendor_id != vendor.pk:
        raise NotFound("No such bid.")
    if bid.status != Bid.Status.ACTIVE:
        raise BidNotActive(f"This bid is {bid.status}; only an active bid's photos can change.")
    if not bid.intent.is_open:
        raise IntentClosed("This request is closed; the bid can no longer change.")


def _lock_bid(bid: Bid, vendor: Vendor) -> Bid:
    locked = Bid.objects.select_for_update().select_related("intent").filter(pk=bid.pk).first()
    if locked is None:
        raise NotFound("No such bid.")
    _check_bid(locked, vendor)
    return locked


def _free_position(bid: Bid) -> int:
    taken = set(BidPhoto.objects.filter(bid=bid).values_list("position", flat=True))
    free = [position for position in range(BidPhoto.MAX_PER_BID) if position not in taken]
    if not free:
        raise _refuse(f"A bid carries at most {BidPhoto.MAX_PER_BID} photos.", "too_many_photos")
    return free[0]


def add_photo(*, vendor: Vendor, bid: Bid, upload: File[bytes]) -> BidPhoto:
    """Add a photo to the vendor's own active bid, in its first free place. Raises
    ``ValidationError`` on ``photo`` for what is wrong with the file (too large, not a JPEG, PNG or
    WebP, too many pixels, damaged) or when the bid has its photos already; ``NotFound``,
    ``BidNotActive`` or ``IntentClosed`` for the bid."""
    current = Bid.objects.select_related("intent").filter(pk=bid.pk).first()
    if current is None:
        raise NotFound("No such bid.")
    _check_bid(current, vendor)  # fail fast, before the work of decoding
    encoded = _encode(_read(upload, _limit("PHOTO_MAX_BYTES")))
    with transaction.atomic():
        locked = _lock_bid(bid, vendor)
        photo = BidPhoto(
            bid=locked,
            width=encoded.width,
            height=encoded.height,
            content_type=encoded.content_type,
            byte_size=len(encoded.data),
            position=_free_position(locked),
        )
        # A random name: nothing of the client's file name, the bid, the vendor or the customer.
        photo.image.save(f"{secrets.token_urlsafe(24)}.{encoded.extension}", ContentFile(encoded.data), save=False)
        try:
            photo.save(force_insert=True)
        except BaseException:
            if photo.image.name:
                photo.image.storage.delete(photo.image.name)  # no row, no file
            raise
    return photo


@transaction.atomic
def remove_photo(*, vendor: Vendor, bid: Bid, photo_id: UUID | str) -> None:
    """Remove a photo from the vendor's own active bid; its file is deleted once this commits."""
    locked = _lock_bid(bid, vendor)
    photo = BidPhoto.objects.filter(bid=locked, pk=photo_id).first()
    if photo is None:
        raise NotFound("No such photo.")
    photo.delete()  # the file goes after commit (vendors.models: the post_delete receiver)


def photo_by_name(*, name: str) -> BidPhoto | None:
    """The photo stored under ``name`` (what the demo's media view serves), or None."""
    return BidPhoto.objects.filter(image=name).first()

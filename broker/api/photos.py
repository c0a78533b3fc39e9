"""The photos of a bid in the vendor API, and (with local storage) the server of the stored files.

The API parses JSON only, except here: a photo comes as ``multipart/form-data`` with one file
field, ``photo``. What is wrong with the file is an error on ``photo`` in the API's one error
shape; a file too large is a 413.
"""

from __future__ import annotations

from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broker.api import serializers as s
from broker.api.base import ApiMixin
from broker.api.errors import TOO_LARGE, ApiError, error_body
from vendors import selectors
from vendors.models import Vendor
from vendors.payloads import photo_for_vendor
from vendors.photos import FIELD, add_photo, photo_by_name, remove_photo

# Room for the multipart envelope around the file (boundaries, part headers).
MULTIPART_ALLOWANCE = 64 * 1024
# The only types a stored photo is served as (vendors.photos stores nothing else).
SERVED_TYPES = {"image/jpeg", "image/webp"}

_ERRORS = {
    400: OpenApiResponse(
        s.ApiErrorOutput,
        description="Not a JPEG, PNG or WebP image, too many pixels, damaged, or the bid has its 8 photos "
        "already: `fields.photo` says which.",
    ),
    404: OpenApiResponse(s.ApiErrorOutput, description="No such bid (or photo) of yours."),
    409: OpenApiResponse(s.ApiErrorOutput, description="The bid is not active, or its request is closed."),
}


def _vendor(request: Request) -> Vendor:
    return cast(Vendor, request.user)


def _too_large(message: str) -> Response:
    return Response(error_body(TOO_LARGE, message, {FIELD: [message]}), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


class BidPhotoList(ApiMixin, APIView):
    parser_classes = [MultiPartParser]

    def initial(self, request: Request, *args, **kwargs) -> None:
        """An upload larger than the limit is refused before its body is read."""
        max_bytes = int(settings.INTENTCAST["PHOTO_MAX_BYTES"])
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.method == "POST" and length > max_bytes + MULTIPART_ALLOWANCE:
            message = f"The photo is larger than {max_bytes // (1024 * 1024)} MB."
            raise ApiError(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, TOO_LARGE, message, {FIELD: [message]})
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="bids_photos_create",
        request={"multipart/form-data": s.BidPhotoInput},
        responses={
            201: s.BidPhotoOutput,
            **_ERRORS,
            413: OpenApiResponse(s.ApiErrorOutput, description="The photo is larger than the limit (8 MB)."),
            415: OpenApiResponse(s.ApiErrorOutput, description="Not multipart/form-data."),
        },
    )
    def post(self, request: Request, bid_id: str) -> Response:
        """Add a photo to your active bid (at most 8). It is stored re-encoded (JPEG, or WebP when
        it has transparency), at most 2048 px on its longest edge, without any metadata."""
        bid = selectors.vendor_bid(vendor=_vendor(request), bid_id=bid_id)
        data = s.BidPhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            photo = add_photo(vendor=_vendor(request), bid=bid, upload=data.validated_data["photo"])
        except DjangoValidationError as error:
            problems = getattr(error, "error_dict", {}).get(FIELD, [])
            if any(problem.code == "too_large" for problem in problems):
                return _too_large(" ".join(problems[0].messages))
            raise
        return Response(photo_for_vendor(photo), status=status.HTTP_201_CREATED)


class BidPhotoDetail(ApiMixin, APIView):
    @extend_schema(operation_id="bids_photos_destroy", request=None, responses={204: None, **_ERRORS})
    def delete(self, request: Request, bid_id: str, photo_id: str) -> Response:
        """Remove a photo from your active bid."""
        bid = selectors.vendor_bid(vendor=_vendor(request), bid_id=bid_id)
        remove_photo(vendor=_vendor(request), bid=bid, photo_id=photo_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


@require_safe
def serve_photo(request: HttpRequest, name: str) -> FileResponse:
    """A stored photo, when the files are kept on this machine (``MEDIA_STORAGE=local``). Only a
    file that is a bid's photo is served, as the image type recorded for it, shown in place, never
    sniffed or run as anything else."""
    photo = photo_by_name(name=name)
    if photo is None or not photo.image.name:
        raise Http404("No such photo.")
    try:
        file = photo.image.storage.open(photo.image.name, "rb")
    except FileNotFoundError as error:
        raise Http404("No such photo.") from error
    content_type = photo.content_type if photo.content_type in SERVED_TYPES else "application/octet-stream"
    response = FileResponse(file, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=3600"
    return response

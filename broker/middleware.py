from django.http import HttpResponseBadRequest, JsonResponse

from broker.api.errors import error_body


class RejectNulCharactersMiddleware:
    """A NUL character in the query string is never meaningful and PostgreSQL refuses it in
    text; answer 400 (in the API's format under /api/) before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            message = "The query must not contain NUL characters."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("parse_error", message), status=400)
            return HttpResponseBadRequest(message)
        return self.get_response(request)

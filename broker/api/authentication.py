from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from vendors.services import authenticate_key


class VendorKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <API key>``. ``request.user`` is the Vendor.

    Written here rather than taken from djangorestframework-api-key because that package
    checks keys in a permission class and has no notion of the key's owner as the principal.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <API key>'.")
        api_key = authenticate_key(parts[1])
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        return api_key.vendor, api_key

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="intentcast"'


class VendorKeyScheme(OpenApiAuthenticationExtension):
    target_class = "broker.api.authentication.VendorKeyAuthentication"
    name = "VendorApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A vendor API key."}

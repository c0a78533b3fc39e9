from rest_framework.permissions import BasePermission

from vendors.models import Vendor


class IsVendor(BasePermission):
    message = "Authenticate with a vendor API key."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.user, Vendor)


class IsApprovedVendor(IsVendor):
    message = "Your vendor account is not approved (pending or suspended)."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.is_approved

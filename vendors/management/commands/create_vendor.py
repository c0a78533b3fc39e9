from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from vendors.services import create_vendor, issue_api_key


class Command(BaseCommand):
    help = "Create a vendor and print its API key (shown once) as the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--email", required=True, help="The vendor's contact email")
        parser.add_argument("--approve", action="store_true", help="Approve it at once")

    def handle(self, *args, name: str, email: str, approve: bool, **options):
        name = name.strip()
        if not name:
            raise CommandError("Give the vendor a name.")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not a valid email address.") from None
        vendor = create_vendor(name=name, contact_email=email, approve=approve)
        api_key, raw_key = issue_api_key(vendor=vendor)
        self.stdout.write(f"Vendor {vendor.name} (id {vendor.pk}) created, status {vendor.status}.")
        if not approve:
            self.stdout.write("It cannot use the API until an admin approves it.")
        self.stdout.write(f"API key (prefix {api_key.prefix}); keep it, it will not be shown again:")
        self.stdout.write(raw_key)

"""Where Django looks for template libraries (the installed app is ``broker``): the website's
vendor-login tag, defined in ``broker.website.templatetags.accounts``."""

from broker.website.templatetags.accounts import register

__all__ = ["register"]

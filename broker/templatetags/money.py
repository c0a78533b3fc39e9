"""Where Django looks for template libraries (the installed app is ``broker``): the website's
money filter, defined in ``broker.website.templatetags.money``."""

from broker.website.templatetags.money import register

__all__ = ["register"]

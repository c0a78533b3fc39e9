"""Where Django looks for template libraries (the installed app is ``broker``): the website's
unread-notifications tag, defined in ``broker.website.templatetags.notifications``."""

from broker.website.templatetags.notifications import register

__all__ = ["register"]

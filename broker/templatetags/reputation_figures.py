"""Where Django looks for template libraries (the installed app is ``broker``): the website's
reputation figures, defined in ``broker.website.templatetags.reputation_figures``."""

from broker.website.templatetags.reputation_figures import register

__all__ = ["register"]

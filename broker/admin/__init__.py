"""Django admin for every app, on the edge floor (it calls services of every app below it).
Django imports ``broker.admin`` at start-up; each module registers its app's models."""

from broker.admin import core, intents, moderation, overview, reputation, vendors

__all__ = ["core", "intents", "moderation", "overview", "reputation", "vendors"]

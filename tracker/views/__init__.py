"""Blueprints, one per area. ``BLUEPRINTS`` lists the modules whose ``bp`` the app registers."""

BLUEPRINTS: tuple[str, ...] = (
    "tracker.views.auth",
    "tracker.views.main",
    "tracker.views.admin",
    "tracker.views.inbox",
    "tracker.views.catalogue",
    "tracker.views.calendar",
    "tracker.views.sources",
    "tracker.views.projects",
    "tracker.views.organisations",
    "tracker.views.funders",
    "tracker.views.delegations",
    "tracker.views.reports",
    "tracker.views.strategy",
    "tracker.views.digests",
    "tracker.views.partners",
)

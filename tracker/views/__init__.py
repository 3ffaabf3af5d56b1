"""Blueprints, one per area. ``BLUEPRINTS`` lists the modules whose ``bp`` the app registers."""

BLUEPRINTS: tuple[str, ...] = (
    "tracker.views.auth",
    "tracker.views.main",
    "tracker.views.admin",
    "tracker.views.sources",
)

"""tracker: EU funding opportunity tracker for Swedish municipalities."""

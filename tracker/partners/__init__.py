"""Consortium building: the partner rules a call sets, read from its text (pure functions,
no database and no Flask)."""

"""Scheduled jobs: thin wrappers that open a session and call services."""

"""WSGI entry point for production: ``gunicorn tracker.wsgi:app``."""

from tracker.app import create_app

app = create_app()

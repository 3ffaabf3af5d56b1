"""WSGI entry point for production: ``gunicorn -c python:tracker.gunicorn_conf`` (which names
``tracker.wsgi:app``; see tracker/gunicorn_conf.py)."""

from tracker.app import create_app

app = create_app()

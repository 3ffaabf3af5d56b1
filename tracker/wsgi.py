"""WSGI entry point for production: ``gunicorn -c python:tracker.gunicorn_conf`` (which names
``tracker.wsgi:app``; see tracker/gunicorn_conf.py)."""

from tracker.app import create_app, settle_startup_heap

app = create_app()
# Each gunicorn worker imports this module (no preload): the worker's own startup heap.
settle_startup_heap()

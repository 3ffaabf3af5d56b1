"""gunicorn's settings for production: ``gunicorn -c python:tracker.gunicorn_conf``.

Threaded workers (``gthread``): a sync worker serves one connection from the first byte to
the last, so four clients sending slowly froze a four-worker server. A gthread worker waits
for idle connections in its event loop and serves requests from a pool of threads, so a slow
client holds at most one thread and ``/healthz`` still answers. A reverse proxy in front
(nginx buffers whole requests) remains the real protection against slow clients.

Options given on the command line win over these, e.g. ``--bind 0.0.0.0:8000`` or
``--threads 16``; ``WEB_CONCURRENCY`` sets the number of worker processes.
"""

from __future__ import annotations

import os

wsgi_app = "tracker.wsgi:app"
bind = ["127.0.0.1:8000"]
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = 8
# Seconds a worker may stay silent before it is replaced (gthread workers keep signalling
# while their threads serve long requests such as an upload check).
timeout = 60
graceful_timeout = 30
# Seconds an idle keep-alive connection is kept (behind a proxy that reuses connections).
keepalive = 5
# Replace each worker after about a thousand requests, so memory never creeps up for weeks.
max_requests = 1000
max_requests_jitter = 100
accesslog = "-"

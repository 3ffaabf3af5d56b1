"""Source adapters: fetch bytes, parse them into `CallRecord`s.

No database and no Flask here. Every adapter has a pure ``parse_*`` function
over bytes or decoded JSON (tested on recorded payloads) and a ``fetch_*``
function taking the injected `requests.Session` from `tracker.feeds.http`.
`tracker.feeds.registry.fetch_source` picks the adapter for a source kind.
"""

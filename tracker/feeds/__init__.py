"""Source adapters: fetch bytes, parse them into `CallRecord`s.

No database and no Flask here. Every adapter has a pure ``parse_*`` function
over bytes or decoded JSON (tested on recorded payloads) and a ``fetch_*``
function taking the injected `requests.Session` from `tracker.feeds.http`.
Each adapter module ends with its ``ADAPTER`` (``tracker.feeds.adapter.FeedAdapter``);
`tracker.feeds.registry.ADAPTERS` is the table of them by source kind, and
`tracker.feeds.registry.fetch_source` fetches a source with its adapter.
"""

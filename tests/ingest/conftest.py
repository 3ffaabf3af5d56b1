"""The local HTTP server of the feed tests, for tests of the fetch runs."""

from tests.feeds.conftest import server as server

__all__ = ["server"]

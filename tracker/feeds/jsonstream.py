"""Read one large JSON object's item list a row at a time, in flat memory.

``{"totalResults": 123, "results": [{...}, {...}, ...]}``: the rows of the
list are built one by one (ijson's event parser, no prefixes: a row nested
100,000 levels deep costs time in proportion to its size, not its square) and
handed over as they come; the other top-level scalars (``totalResults``) are
reported too. A row nested deeper than `max_depth` is not built: it comes
back as `TOO_DEEP`, so the caller can quarantine that one row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
from ijson.common import ObjectBuilder

__all__ = ["MAX_DEPTH", "TOO_DEEP", "stream_array", "stream_object"]

MAX_DEPTH = 64


class _TooDeep:
    def __repr__(self) -> str:
        return "TOO_DEEP"


TOO_DEEP: Any = _TooDeep()
_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})


def stream_object(
    stream: IO[bytes], list_key: str, *, max_depth: int = MAX_DEPTH
) -> Iterator[tuple[str, Any]]:
    """Yield ``("list", list_key)`` when the list starts, ``("row", value)`` per element of
    it and ``("key", (name, value))`` per top-level scalar. Raises ``ValueError`` if the
    stream is not a JSON object, and ijson's ``JSONError`` if it is not valid JSON."""
    events = ijson.basic_parse(stream, use_float=True)
    first = next(events, None)
    if first is None or first[0] != "start_map":
        raise ValueError("not a JSON object")
    key: str | None = None
    for event, value in events:
        if event == "end_map":
            return
        if event == "map_key":
            key = str(value)
            continue
        if event in _OPEN:
            if key == list_key and event == "start_array":
                yield "list", list_key
                yield from _rows(events, max_depth)
            else:
                _skip(events)
            continue
        if key is not None:
            yield "key", (key, value)


def stream_array(
    stream: IO[bytes], path: tuple[str, ...], *, max_depth: int = MAX_DEPTH
) -> Iterator[Any]:
    """Yield each element of the list found at `path` (object keys from the top; ``()``
    for a list at the top), `TOO_DEEP` for an element nested deeper than `max_depth`.
    Nothing is yielded when there is no list there."""
    events = ijson.basic_parse(stream, use_float=True)
    first = next(events, None)
    if first is not None:
        yield from _descend(events, first[0], path, max_depth)


def _descend(
    events: Iterator[tuple[str, Any]], opened: str, path: tuple[str, ...], max_depth: int
) -> Iterator[Any]:
    if not path:
        if opened == "start_array":
            yield from (value for _kind, value in _rows(events, max_depth))
        elif opened in _OPEN:
            _skip(events)
        return
    if opened != "start_map":
        if opened in _OPEN:
            _skip(events)
        return
    key: str | None = None
    for event, value in events:
        if event == "end_map":
            return
        if event == "map_key":
            key = str(value)
        elif event in _OPEN:
            if key == path[0]:
                yield from _descend(events, event, path[1:], max_depth)
            else:
                _skip(events)


def _rows(events: Iterator[tuple[str, Any]], max_depth: int) -> Iterator[tuple[str, Any]]:
    for event, value in events:
        if event == "end_array":
            return
        if event not in _OPEN:
            yield "row", value
            continue
        builder: ObjectBuilder | None = ObjectBuilder()
        assert builder is not None
        builder.event(event, value)
        depth = 1
        for inner, inner_value in events:
            depth += 1 if inner in _OPEN else -1 if inner in _CLOSE else 0
            if builder is not None:
                if depth > max_depth:
                    builder = None  # stop building; keep counting to the row's end
                else:
                    builder.event(inner, inner_value)
            if depth == 0:
                break
        yield "row", builder.value if builder is not None else TOO_DEEP


def _skip(events: Iterator[tuple[str, Any]]) -> None:
    depth = 1
    for event, _value in events:
        depth += 1 if event in _OPEN else -1 if event in _CLOSE else 0
        if depth == 0:
            return

"""Translatable messages from code that must not import Flask (services, feeds).

``msg("a user with email %(email)s already exists", email=email)`` is an English string (what
the CLI and logs show) that also remembers its template and parameters, so a view can show it
in the user's language with ``tracker.web.translate``. Extraction picks up ``msg`` as a keyword.
"""

from __future__ import annotations

from typing import Any


class Message(str):
    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, params: dict[str, Any]) -> Message:
        text = template % params if params else template
        instance = super().__new__(cls, text)
        instance.template = template
        instance.params = params
        return instance


def msg(template: str, **params: Any) -> Message:
    return Message(template, params)

"""Signed one-click links in a digest ("not relevant", unsubscribe) and the addresses they open.

Every link starts with ``[mail] base_url``: the mail is read far from any request, so the
tracker's public address must come from the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer

from tracker.config import Settings, signing_key
from tracker.errors import TrackerError
from tracker.i18n import msg

__all__ = [
    "CALL_PATH",
    "NOT_RELEVANT_MAX_AGE",
    "NOT_RELEVANT_PATH",
    "NOT_RELEVANT_SALT",
    "SECTION_PATHS",
    "SETTINGS_PATH",
    "UNSUBSCRIBE_PATH",
    "UNSUBSCRIBE_SALT",
    "InvalidLink",
    "Links",
    "UndeliverableAddress",
    "make_not_relevant_token",
    "make_unsubscribe_token",
    "read_not_relevant_token",
    "read_unsubscribe_token",
]


NOT_RELEVANT_SALT = "tracker.digest.not-relevant"


UNSUBSCRIBE_SALT = "tracker.digest.unsubscribe"


# A "not relevant" link in a year-old mail no longer counts; unsubscribing always works.
NOT_RELEVANT_MAX_AGE = timedelta(days=365)


CALL_PATH = "/calls/{call_id}"


SETTINGS_PATH = "/settings/digest"


# Where the tracker lists what a section holds.
SECTION_PATHS = {
    "new": "/calls",
    "changed": "/calls?state=all",
    "closing": "/calls?deadline_within=30",
}


NOT_RELEVANT_PATH = "/digest/not-relevant/{token}"


UNSUBSCRIBE_PATH = "/digest/unsubscribe/{token}"


class UndeliverableAddress(TrackerError):
    """A stored address no message can be sent to (a line break in a mailbox, say)."""


class InvalidLink(TrackerError):
    """A one-click link whose signature does not match (tampered, or from another install)."""

    status_code = 400


def make_not_relevant_token(
    settings: Settings, subscription_id: int, call_id: int, focus_area_id: int | None
) -> str:
    serializer = URLSafeTimedSerializer(signing_key(settings), salt=NOT_RELEVANT_SALT)
    return serializer.dumps([subscription_id, call_id, focus_area_id])


def read_not_relevant_token(settings: Settings, token: str) -> tuple[int, int, int | None]:
    """(subscription id, call id, focus area id) of a valid token; InvalidLink otherwise."""
    serializer = URLSafeTimedSerializer(signing_key(settings), salt=NOT_RELEVANT_SALT)
    try:
        data = serializer.loads(token, max_age=int(NOT_RELEVANT_MAX_AGE.total_seconds()))
        subscription_id, call_id, focus_area_id = data
        return (
            int(subscription_id),
            int(call_id),
            None if focus_area_id is None else int(focus_area_id),
        )
    except (BadSignature, ValueError, TypeError):
        raise InvalidLink(msg("this link is not valid or has expired")) from None


def make_unsubscribe_token(settings: Settings, subscription_id: int) -> str:
    return URLSafeSerializer(signing_key(settings), salt=UNSUBSCRIBE_SALT).dumps(subscription_id)


def read_unsubscribe_token(settings: Settings, token: str) -> int:
    try:
        value = URLSafeSerializer(signing_key(settings), salt=UNSUBSCRIBE_SALT).loads(token)
        return int(value)
    except (BadSignature, ValueError, TypeError):
        raise InvalidLink(msg("this link is not valid")) from None


@dataclass(frozen=True)
class Links:
    base_url: str

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def home(self) -> str:
        return self._url("/")

    def section(self, key: str) -> str:
        return self._url(SECTION_PATHS.get(key, "/"))

    def call(self, call_id: int) -> str:
        return self._url(CALL_PATH.format(call_id=call_id))

    def settings(self) -> str:
        return self._url(SETTINGS_PATH)

    def not_relevant(self, token: str) -> str:
        return self._url(NOT_RELEVANT_PATH.format(token=token))

    def unsubscribe(self, token: str) -> str:
        return self._url(UNSUBSCRIBE_PATH.format(token=token))

"""Domain errors raised by services; views and the CLI translate them into messages."""

from collections.abc import Mapping


class TrackerError(Exception):
    """Base class of expected failures that carry a message for the user."""

    status_code = 400


class NotFound(TrackerError):
    status_code = 404


class ValidationFailed(TrackerError):
    """Input that breaks a business rule; ``errors`` maps field names to messages."""

    status_code = 422

    def __init__(self, message: str, errors: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.errors = dict(errors or {})


class InvalidTransition(TrackerError):
    status_code = 409


class PermissionDenied(TrackerError):
    status_code = 403


class Conflict(TrackerError):
    status_code = 409

"""The Chat space: one interface, two implementations (the local console, Google Chat)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .cards import Buttons

Message = dict[str, Any]  # a Chat API Message object: name, text, cardsV2, thread, ...


class ChatError(Exception):
    """A message could not be posted; `retryable` says whether trying again may help, and
    `rejected` that Chat refused this one message as invalid (400), not the space or the app."""

    def __init__(self, message: str, retryable: bool = True, rejected: bool = False):
        super().__init__(message)
        self.retryable, self.rejected = retryable, rejected


class ChatSpace(Protocol):
    buttons: Buttons  # how the cards' buttons name their action: a classic Chat app's way or an add-on's

    def create_message(self, space: str, message: Message, *, thread_key: str, request_id: str) -> Message:
        """Post `message` in the thread keyed `thread_key` (replying, or starting it).

        Returns the created Message (with `name` and `thread.name`). A second call with the same
        `request_id` returns the first message instead of posting again.
        """

    def update_message(self, name: str, message: Message) -> Message:
        """Replace the fields of the app's own message `name` that `message` has (`text`,
        `cardsV2`); the others stay. Raises ChatError when it cannot."""

    def answered(self, event: dict[str, Any], answer: dict[str, Any]) -> None:
        """The bot answered `event` synchronously with `answer`.

        Google applies such answers itself (this is a no-op there); the local space applies them
        to its stored messages the way Google would.
        """

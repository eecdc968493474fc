"""Chat interaction events, classic or Workspace add-on, turned into one plain shape; and answers
in the shape each kind of app expects."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ADDON_ACTION = "actionName"  # an add-on button's parameter that names its action (see cards.Buttons)
ADDON_PAYLOADS = {"messagePayload": "MESSAGE", "buttonClickedPayload": "CARD_CLICKED",
                  "addedToSpacePayload": "ADDED_TO_SPACE", "removedFromSpacePayload": "REMOVED_FROM_SPACE",
                  "appCommandPayload": "APP_COMMAND"}


class EventError(ValueError):
    """The body is not a Chat event the bot understands; the message says what is wrong."""


@dataclass(frozen=True)
class ChatEvent:
    kind: str
    user_id: str = ""
    user_name: str = ""
    action: str = ""
    params: dict[str, str] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    addon: bool = False
    command_id: str = ""  # a slash or quick command's configured id ("" for a plain message)
    direct: bool = False  # in a direct message with the bot
    space: str = ""  # the space's name (spaces/...): with many teams, whose event it is


def parse_event(body: Any) -> ChatEvent:
    if not isinstance(body, dict):
        raise EventError("a Chat event is a JSON object")
    if isinstance(body.get("type"), str):
        return _classic(body)
    if isinstance(body.get("chat"), dict):
        return _addon(body)
    raise EventError("not a Chat event: no 'type' (classic app) and no 'chat' object (add-on)")


def _classic(body: dict) -> ChatEvent:
    common, action = _dict(body.get("common")), _dict(body.get("action"))
    params = _string_map(common.get("parameters")) or {
        str(p.get("key")): str(p.get("value")) for p in _list(action.get("parameters")) if isinstance(p, dict)}
    message = _dict(body.get("message"))
    return ChatEvent(kind=body["type"], user_id=str(_dict(body.get("user")).get("name", "")),
                     user_name=str(_dict(body.get("user")).get("displayName", "")),
                     action=str(common.get("invokedFunction") or action.get("actionMethodName") or ""),
                     params=params, message=message, text=_argument_text(message),
                     command_id=_command_id(_dict(body.get("appCommandMetadata")), message),
                     direct=_direct(_dict(body.get("space")) or _dict(message.get("space"))),
                     space=_space_name(_dict(body.get("space")) or _dict(message.get("space"))))


def _addon(body: dict) -> ChatEvent:
    chat = body["chat"]
    kind = next((k for p, k in ADDON_PAYLOADS.items() if p in chat), "UNKNOWN")
    payload = next((_dict(chat[p]) for p in ADDON_PAYLOADS if p in chat), {})
    params = _string_map(_dict(body.get("commonEventObject")).get("parameters"))
    message = _dict(payload.get("message"))
    user = _dict(chat.get("user"))
    return ChatEvent(kind=kind, user_id=str(user.get("name", "")), user_name=str(user.get("displayName", "")),
                     action=params.pop(ADDON_ACTION, ""), params=params, message=message,
                     text=_argument_text(message), addon=True,
                     command_id=_command_id(_dict(payload.get("appCommandMetadata")), message),
                     direct=_direct(_dict(payload.get("space")) or _dict(message.get("space"))),
                     space=_space_name(_dict(payload.get("space")) or _dict(message.get("space"))))


def _argument_text(message: dict) -> str:
    text = message.get("argumentText")
    return str(text if isinstance(text, str) else message.get("text", "")).strip()


def _command_id(metadata: dict, message: dict) -> str:
    """The command's id as text: an int in APP_COMMAND metadata (a float in add-on payloads), a
    string in a MESSAGE's slashCommand."""
    raw = metadata.get("appCommandId", _dict(message.get("slashCommand")).get("commandId", ""))
    try:
        return str(int(float(raw)))
    except (TypeError, ValueError):
        return str(raw or "")


def _direct(space: dict) -> bool:
    return space.get("spaceType") == "DIRECT_MESSAGE" or space.get("type") == "DM" \
        or space.get("singleUserBotDm") is True


def _space_name(space: dict) -> str:
    name = space.get("name")
    return name if isinstance(name, str) else ""


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _string_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def update_answer(message: dict, addon: bool) -> dict:
    """Replace the clicked card in place (only valid for a click on the app's own message)."""
    if addon:
        return {"hostAppDataAction": {"chatDataAction": {"updateMessageAction": {"message": message}}}}
    return {"actionResponse": {"type": "UPDATE_MESSAGE"}, **message}


def reply_answer(message: dict, addon: bool, private_to: str = "") -> dict:
    """A new message in the event's thread; `private_to` makes it visible to that user only."""
    if private_to:
        message = {**message, "privateMessageViewer": {"name": private_to}}
    if addon:
        return {"hostAppDataAction": {"chatDataAction": {"createMessageAction": {"message": message}}}}
    return {"actionResponse": {"type": "NEW_MESSAGE"}, **message}

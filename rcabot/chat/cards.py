"""The messages the bot posts and the cards it answers clicks with (Chat API cardsV2 shapes).

Text from outside (ticket ids, titles) is HTML-escaped: card text is Chat's HTML subset.
Buttons carry the ticket id, the ping's attempt number and the ticket's cycle, so a click on an old
card (of an earlier ping, or of an earlier cycle of a reopened ticket) is recognised as such; how they name their action depends on the kind of Chat app (see `Buttons`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from html import escape
from typing import Any

from ..model import Ticket, TicketStatus
from .events import ADDON_ACTION

Message = dict[str, Any]
GREEN = {"red": 0.11, "green": 0.53, "blue": 0.25}


def plain(text: str) -> str:
    """Text from outside, made inert in a message's `text`, where Chat reads `<users/all>` as a
    mention of everyone and `<url|label>` as a link."""
    return text.replace("<", "\u2039").replace(">", "\u203a")


def thread_key(ticket_id: str) -> str:
    return f"rca-ticket-{ticket_id}"


@dataclass(frozen=True)
class Buttons:
    """How a button says what it does, which depends on how the Chat app is configured.

    A classic Chat app names the action in `function`, and Chat reports it back in the click
    event (`common.invokedFunction`, `action.actionMethodName`). An app built as a Google
    Workspace add-on is called at `function`, which must be its HTTP endpoint URL, and gets back
    only the button's parameters (`commonEventObject.parameters`): the action travels in an
    `actionName` parameter, as in Google's add-on samples.
    """

    addon_url: str = ""  # the add-on's endpoint URL; "" for a classic Chat app

    @property
    def addon(self) -> bool:
        return bool(self.addon_url)

    def action(self, name: str, parameters: list[dict]) -> dict:
        if self.addon:
            return {"function": self.addon_url, "parameters": [{"key": ADDON_ACTION, "value": name}] + parameters}
        return {"function": name, "parameters": parameters}


CLASSIC = Buttons()


def _button(text: str, action: str, ticket: Ticket, style: Buttons, attempt: int | None = None,
            **looks: Any) -> dict:
    parameters = [{"key": "ticket_id", "value": ticket.ticket_id}]
    if attempt is not None:
        parameters.append({"key": "attempt", "value": str(attempt)})
    if ticket.cycle:
        parameters.append({"key": "cycle", "value": ticket.cycle})
    return {"text": text, "onClick": {"action": style.action(action, parameters)}, **looks}


def _ticket_widget(ticket: Ticket) -> dict:
    title = f" {escape(ticket.title)}" if ticket.title else ""
    return {"decoratedText": {"topLabel": "Ticket", "text": f"<b>{escape(ticket.ticket_id)}</b>{title}",
                              "wrapText": True, "startIcon": {"knownIcon": "DESCRIPTION"}}}


def _link_button(ticket: Ticket) -> list[dict]:
    if not ticket.url:
        return []
    return [{"text": "Open ticket", "onClick": {"openLink": {"url": ticket.url}}, "type": "BORDERLESS"}]


def _card(ticket: Ticket, title: str, widgets: list[dict]) -> list[dict]:
    card = {"header": {"title": title, "subtitle": ticket.ticket_id},
            "sections": [{"widgets": [_ticket_widget(ticket)] + widgets}]}
    return [{"cardId": f"ping-{ticket.ticket_id}", "card": card}]


def ping_message(ticket: Ticket, manager_id: str, manager_name: str, attempt: int, deadline: datetime,
                 timeout_seconds: int, note: str = "", zone: tzinfo = timezone.utc,
                 style: Buttons = CLASSIC) -> Message:
    """The ping card; its deadline shows on its face, to the second, in `zone` (the team's TimeZone)."""
    buttons = [_button("Accept", "accept", ticket, style, attempt, color=GREEN),
               _button("Decline", "decline", ticket, style, attempt, type="OUTLINED")] + _link_button(ticket)
    widgets = [{"decoratedText": {"topLabel": "Manager on shift", "text": escape(manager_name),
                                  "startIcon": {"knownIcon": "PERSON"}}},
               _deadline_widget(deadline, zone, timeout_seconds, attempt)]
    if note:
        widgets.append({"textParagraph": {"text": escape(note)}})
    prefix = f"{plain(note)} " if note else ""
    return {"text": f"{prefix}<users/{manager_id.removeprefix('users/')}> RCA ticket {plain(ticket.ticket_id)} "
                    f"is ready for review.",
            "cardsV2": _card(ticket, "RCA ticket ready for review", widgets + [{"buttonList": {"buttons": buttons}}])}


def _deadline_widget(deadline: datetime, zone: tzinfo, timeout_seconds: int, attempt: int) -> dict:
    local = deadline.astimezone(zone)
    return {"decoratedText": {"topLabel": "Deadline", "startIcon": {"knownIcon": "CLOCK"},
                              "text": f"Answer by {local:%H:%M:%S} ({zone}), "
                                      f"{_duration(timeout_seconds)} to answer",
                              "bottomLabel": f"Ping {attempt} of this ticket"}}


def notice_message(text: str, mentions: tuple[str, ...] = ()) -> Message:
    """`text` made inert, after mentions of `mentions` (Chat ids the bot chose, never outside text)."""
    return {"text": " ".join([f"<{who}>" for who in mentions] + [plain(text)])}


def assigned_message(ticket: Ticket, style: Buttons = CLASSIC) -> Message:
    buttons = [_button("Done", "done", ticket, style)] + _link_button(ticket)
    return {"text": plain(f"RCA ticket {ticket.ticket_id}: assigned to {ticket.manager_name}."),
            "cardsV2": _card(ticket, f"Assigned to {ticket.manager_name}", [{"buttonList": {"buttons": buttons}}])}


def declined_message(ticket: Ticket) -> Message:
    return _closed_card(ticket, f"Declined by {ticket.manager_name}")


def completed_message(ticket: Ticket) -> Message:
    return _closed_card(ticket, f"Completed by {ticket.manager_name}")


def expired_message(ticket: Ticket | None, ticket_id: str) -> Message:
    now_with = ""
    if ticket is not None and ticket.manager_name:
        now_with = f" It is now with {ticket.manager_name}."
    shown = ticket or Ticket(ticket_id)
    return _closed_card(shown, "This ping has expired", f"RCA ticket {ticket_id}: this ping has expired.{now_with}")


def lapsed_message(shown: Ticket, lapsed_name: str, now: Ticket | None) -> Message:
    """A timed-out ping's card redrawn without its buttons: who let it lapse and where the ticket is
    `now` (None: out of the cycle). Only the card: the message's text keeps its mention."""
    if now is not None and now.status is TicketStatus.WAITING:
        title = "Timed out \u2014 waiting for someone free"
    elif now is not None and now.manager_name:
        title = f"Timed out \u2014 now with {now.manager_name}"
    else:
        title = "Timed out"
    widgets = [{"decoratedText": {"topLabel": "Timed out for", "text": escape(lapsed_name),
                                  "startIcon": {"knownIcon": "PERSON"}}}] + _link_widgets(shown)
    return {"cardsV2": _card(shown, title, widgets)}


def closed_message(ticket_id: str) -> Message:
    return _closed_card(Ticket(ticket_id), "No longer in the cycle",
                        f"RCA ticket {ticket_id} is not in the cycle any more.")


def _closed_card(ticket: Ticket, title: str, text: str = "") -> Message:
    return {"text": plain(text or f"RCA ticket {ticket.ticket_id}: {title[0].lower()}{title[1:]}."),
            "cardsV2": _card(ticket, title, _link_widgets(ticket))}


def _link_widgets(ticket: Ticket) -> list[dict]:
    links = _link_button(ticket)
    return [{"buttonList": {"buttons": links}}] if links else []


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"


def cover_request_message(name: str, shift: int, start: datetime, end: datetime, zone: tzinfo, instead_of: str,
                          requested: datetime, style: Buttons = CLASSIC) -> Message:
    """The `cover` command's answer in the space: who needs cover for which shift occurrence, and a
    Take button for whoever takes it. The button carries the whole request (day, shift, who), so a
    Take needs nothing remembered about it, and still works after a restart."""
    local = start.astimezone(zone)
    when = f"shift {shift} on {local:%a} {local.day} {local:%b} ({local:%H:%M} to {end.astimezone(zone):%H:%M} {zone})"
    parameters = [{"key": "day", "value": local.date().isoformat()}, {"key": "shift", "value": str(shift)},
                  {"key": "instead_of", "value": instead_of},
                  {"key": "requested", "value": requested.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}]
    take = {"text": "Take", "onClick": {"action": style.action("take", parameters)}, "color": GREEN}
    card = {"header": {"title": "Cover needed"},  # no subtitle: the console reads a subtitle as a ticket id
            "sections": [{"widgets": [{"textParagraph": {"text": f"{escape(name)} needs cover for {escape(when)}."}},
                                      {"buttonList": {"buttons": [take]}}]}]}
    return {"text": f"{plain(name)} needs cover for {when}.",
            "cardsV2": [{"cardId": f"cover-{local.date().isoformat()}-{shift}-{instead_of}", "card": card}]}


def cover_taken_message(name: str, covered_by: str, shift: int, day: str) -> Message:
    """The request's card once taken: no button left."""
    text = f"{escape(covered_by)} covers {escape(name)} on shift {shift} of {escape(day)}."
    card = {"header": {"title": "Covered"},
            "sections": [{"widgets": [{"textParagraph": {"text": text}}]}]}
    return {"text": f"{plain(covered_by)} covers {plain(name)} on shift {shift} of {day}.",
            "cardsV2": [{"cardId": f"cover-{day}-{shift}", "card": card}]}

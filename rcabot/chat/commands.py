"""Chat commands, mentioning the bot in the space or in a direct message: help, who, tickets,
dnd, back, stats. Each is answered synchronously from memory: no Chat or Sheets call here.

`dnd` and `back` change state, so they go through the bot as clicks do (journaled before the
answer, timers set). Words are case-insensitive, a leading slash is allowed, extra spaces are
tolerated; anything else gets the help.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from ..availability.plan import plan_day
from ..availability import CoverError, LeaveError
from ..model import DndChange
from ..shifts import ShiftError, parse_days
from . import answers, cards
from .cards import plain

MAX_DND = timedelta(hours=24)
DEFAULT_WINDOW = "7d"
MAX_WINDOW = timedelta(days=30)  # the bot keeps a month of the Tracker in memory
# The ids to give the commands when registering them as slash commands in the Chat app's configuration.
COMMAND_IDS = {"1": "help", "2": "who", "3": "tickets", "4": "dnd", "5": "back", "6": "stats"}

ABOUT = ("I route RCA tickets ready for review to the manager on shift. When I mention you on a ticket card, "
         "press Accept to take it or Decline to pass it on; press Done when the review is finished. If nobody "
         "answers in time, I ping the next manager on shift.")
HELP = ABOUT + """

Commands (mention me in the space, or message me directly):
• help: this list
• who: the current shift, who is on it (free, holding a ping, in DND until when, away) and who is next
• who tomorrow, who fri, who 2026-12-24: each shift of that day and exactly who would be pinged
• tickets: the tickets in the cycle and where each stands
• dnd 2h, dnd 30m, dnd 1h30m: no pings for you for that long (at most 24h; managers only)
• back: end your DND now
• away 2026-12-24 to 2026-12-31 [reason], away today, away tomorrow 13:00 to 17:00 [reason]: leave, \
written to the Away tab (managers only); away off: back now; away: your leave
• cover today, cover fri, cover 2026-12-03 shift 2: ask the team to cover your shift (a card with a Take button; \
the first Take goes into the Overrides tab); a lead can add for NAME; cover cancel <day> withdraws it
• stats, stats 24h, stats 30d: per manager over the last 7 days (or the window you give, at most 30d): \
pinged, accepted, declined, timed out, median time to accept"""
COVER_FORMAT = "Say cover today, cover fri or cover 2026-12-03 shift 2 (a lead may add for NAME): a card asks " \
               "the team, and the first to press Take covers that shift; cover cancel 2026-12-03 withdraws it."
AWAY_FORMAT = "Say away 2026-12-24 to 2026-12-31 Holiday, away today, away tomorrow 13:00 to 17:00 Dentist, " \
              "away off or away."
NOT_A_MANAGER_AWAY = ("Sorry, only managers listed in the Managers tab can set leave here, and you are not there. "
                      "Ask whoever keeps the sheet to add your GChat ID.")
SOURCES = {"sheet": "the Away tab", "chat": "this chat", "calendar": "your calendar"}
_TIME_WORD = re.compile(r"\d{1,2}:\d{2}")
WHO_FORMAT = "Say who, who today, who tomorrow, who fri or who 2026-12-24."
MAX_PLAN_DAYS = 366
DND_FORMAT = "Give hours and minutes, like dnd 2h, dnd 30m or dnd 1h30m (at most 24h)."
NOT_A_MANAGER = ("Sorry, only managers listed in the Managers tab can set or end DND, and you are not "
                 "there. Ask whoever keeps the sheet to add your GChat ID.")

_DND = re.compile(r"(?:(\d+)(?:h|hr|hrs|hours?))?(?:(\d+)(?:m|min|mins|minutes?))?")
_WINDOW = re.compile(r"(\d+)(h|hr|hrs|hours?|d|days?|w|weeks?)")
_HOURS = {"h": 1, "d": 24, "w": 24 * 7}


class CommandError(ValueError):
    """The command's words cannot be used; the message is the answer."""


@dataclass(frozen=True)
class Reply:
    text: str
    private: bool = False  # meant for the asker only: a refusal or a mistake
    card: dict | None = None  # a whole message with a card (the `cover` request), instead of the text


def parse(text: str, command_id: str = "") -> tuple[str, str]:
    """(command, its arguments). A registered slash command is known by its id, and its text then
    holds only the arguments; an empty name is the help, an unknown one is returned as it is."""
    words = text.split()
    if command_id in COMMAND_IDS:
        name = COMMAND_IDS[command_id]
        if words and words[0].lower().lstrip("/") == name:
            words = words[1:]
        return name, " ".join(words)
    if not words:
        return "help", ""
    return words[0].lower().lstrip("/").rstrip("?!.:") or "help", " ".join(words[1:])


def answer(bot, text: str, user_id: str, command_id: str = "") -> Reply:
    name, args = parse(text, command_id)
    try:
        if name == "help":
            return Reply(HELP)
        if name == "who":
            return _who(bot, args)
        if name == "tickets":
            return Reply(answers.tickets(bot.board()))
        if name == "stats":
            return _stats(bot, args)
        if name == "dnd":
            return _back(bot, user_id) if args.lower() in ("off", "end") else _dnd(bot, user_id, args)
        if name == "back":
            return _back(bot, user_id)
        if name == "away":
            return _away(bot, user_id, args)
        if name == "cover":
            return _cover(bot, user_id, args)
    except CommandError as exc:
        return Reply(str(exc), private=True)
    return Reply(f"I don't know “{plain(name[:40])}”.\n\n{HELP}", private=True)


def dnd_length(text: str) -> timedelta:
    compact = re.sub(r"\s+", "", text.lower())
    if not compact:
        raise CommandError(f"For how long? {DND_FORMAT}")
    match = _DND.fullmatch(compact)
    if not match or not any(match.groups()):
        raise CommandError(f"“{plain(text[:40])}” is not a length I can use. {DND_FORMAT}")
    minutes = int(match[1] or 0) * 60 + int(match[2] or 0)
    if minutes == 0:
        raise CommandError("A DND of no time at all ends at once: give at least 1m, or say back to take pings.")
    if minutes > MAX_DND.total_seconds() // 60:
        raise CommandError(f"DND goes up to 24h at a time, and {plain(text.strip()[:40])} is longer. {DND_FORMAT}")
    return timedelta(minutes=minutes)


def stats_window(text: str) -> tuple[timedelta, str]:
    """The window and how to say it: `7d` -> (7 days, "7 days")."""
    compact = re.sub(r"\s+", "", text.lower()) or DEFAULT_WINDOW
    match = _WINDOW.fullmatch(compact)
    usage = "Give a window like stats 24h, stats 7d or stats 30d (at most 30d)."
    if not match:
        raise CommandError(f"“{plain(text[:40])}” is not a window I can use. {usage}")
    number, unit = int(match[1]), match[2][0]
    if number == 0 or number * _HOURS[unit] > MAX_WINDOW.total_seconds() // 3600:
        raise CommandError(f"Stats cover between 1 hour and 30 days (I keep a month of the Tracker). {usage}")
    word = {"h": "hour", "d": "day", "w": "week"}[unit]
    return timedelta(hours=number * _HOURS[unit]), f"{number} {word}" + ("s" if number > 1 else "")


def _who(bot, args: str) -> Reply:
    """`who` now; `who today`, `who tomorrow`, `who mon`, `who 2026-12-24`: each shift of that day."""
    if not args.strip():
        return Reply(answers.who(bot.board()))
    schedule, managers, availability, now = bot.rota()
    day = day_named(args, now.astimezone(schedule.zone).date())
    return Reply(answers.who_on(plan_day(schedule, managers, availability, day, now), managers, schedule.zone))


def day_named(text: str, today: date) -> date:
    """`today`, `tomorrow`, a weekday (`mon`, `friday`: the next one, today included) or `2026-12-24`."""
    word = text.strip().lower()
    if word in ("today", "now"):
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    try:
        weekday = parse_days(word) if "-" not in word and "," not in word else None
    except ShiftError:
        weekday = None
    if weekday is not None and len(weekday) == 1:
        return today + timedelta(days=(next(iter(weekday)) - today.weekday()) % 7)
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise CommandError(f"“{plain(text.strip()[:40])}” is not a day I can use. {WHO_FORMAT}") from None
    if abs((day - today).days) > MAX_PLAN_DAYS:
        raise CommandError(f"I look at most a year ahead or back. {WHO_FORMAT}")
    return day


def _away(bot, user_id: str, args: str) -> Reply:
    words = args.split()
    if not words:
        return _my_leave(bot, user_id)
    if words[0].lower() in ("off", "end", "over"):
        ended = bot.end_away(user_id)
        if ended is False:
            return Reply(NOT_A_MANAGER_AWAY, private=True)
        if ended is None:
            return Reply("You're not away now: pings can come to you on your shifts.")
        return Reply(f"Welcome back: your leave (until {_day_time(bot, ended.end)}) is over from now. "
                     f"Leave you have set for later stands: say away to see it.")
    start, end, reason = away_words(words, bot.rota()[3].astimezone(bot.config.schedule.zone).date())
    try:
        absence = bot.add_away(user_id, start, end, reason)
    except LeaveError as exc:
        raise CommandError(f"I can't set that leave: {exc}. {AWAY_FORMAT}") from None
    if absence is None:
        return Reply(NOT_A_MANAGER_AWAY, private=True)
    return Reply(f"You're away from {_day_time(bot, absence.start)} to {_day_time(bot, absence.end)} "
                 f"({bot.config.schedule.zone}): no pings until then. It goes into the Away tab with the next "
                 f"save. Say away off to come back sooner.")


def away_words(words: list[str], today: date) -> tuple[str, str, str]:
    """`today`, `2026-12-24 to 2026-12-31 Holiday`, `tomorrow 13:00 to 17:00 Dentist`: the Away
    row's From, To and Reason (To blank: the end of From's day; a bare time: From's day)."""
    start, at = _when(words, 0, today)
    end = ""
    if at < len(words) and words[at].lower() in ("to", "until", "till", "-", "–"):
        if at + 1 < len(words) and _TIME_WORD.fullmatch(words[at + 1]):
            end, at = f"{start[:10]} {words[at + 1]}", at + 2  # `13:00 to 17:00`: the same day
        else:
            end, at = _when(words, at + 1, today)
    return start, end, " ".join(words[at:])[:200]


def _when(words: list[str], at: int, today: date) -> tuple[str, int]:
    if at >= len(words):
        raise CommandError(f"From when to when? {AWAY_FORMAT}")
    day = day_named(words[at], today).isoformat()
    if at + 1 < len(words) and _TIME_WORD.fullmatch(words[at + 1]):
        return f"{day} {words[at + 1]}", at + 2
    return day, at + 1


def _cover(bot, user_id: str, args: str) -> Reply:
    """`cover today`, `cover fri`, `cover 2026-12-03 shift 2`, and from a lead `... for Dana Kim`: a
    card in the space with a Take button."""
    words, for_whom = args.split(), ""
    cancel = bool(words) and words[0].lower() in ("cancel", "withdraw")
    words = words[1:] if cancel else words
    lowered = [w.lower() for w in words]
    if "for" in lowered:
        at = lowered.index("for")
        words, for_whom = words[:at], " ".join(words[at + 1:])
        if not for_whom:
            raise CommandError(f"For whom? {COVER_FORMAT}")
    if not words:
        raise CommandError(f"Which day? {COVER_FORMAT}")
    shift = None
    if len(words) == 3 and words[1].lower() == "shift" and words[2].isdecimal() and len(words[2]) < 4:
        shift = int(words[2])
    elif len(words) != 1:
        raise CommandError(f"I can't read that. {COVER_FORMAT}")
    day = day_named(words[0], bot.rota()[3].astimezone(bot.config.schedule.zone).date())
    try:
        request = (bot.cancel_cover if cancel else bot.cover_request)(user_id, day, shift, for_whom)
    except CoverError as exc:
        raise CommandError(f"I can't {'cancel' if cancel else 'ask for'} that cover: {exc}. {COVER_FORMAT}") from None
    slot = request.slot
    if cancel:
        local = slot.start.astimezone(request.zone)
        return Reply(f"Withdrawn: the request for cover of {plain(request.name)}'s shift {slot.shift} on "
                     f"{local:%a} {local.day} {local:%b} can no longer be taken. Say cover {local.date().isoformat()} "
                     f"to ask again.")
    return Reply("", card=cards.cover_request_message(request.name, slot.shift, slot.start, slot.end, request.zone,
                                                      request.instead_of, request.at, bot.chat.buttons))


def _my_leave(bot, user_id: str) -> Reply:
    now, ahead = bot.leave(user_id)
    if not ahead:
        return Reply(f"You have no leave set. {AWAY_FORMAT}")
    lines = ["Your leave (times in " + str(bot.config.schedule.zone) + "):"]
    for absence in ahead:
        why = f", {plain(absence.reason)}" if absence.reason else ""
        lines.append(f"• {_day_time(bot, absence.start)} to {_day_time(bot, absence.end)}{why} "
                     f"(from {SOURCES.get(absence.source, absence.source)})")
    return Reply("\n".join(lines) + "\nSay away off to end the one you are in now.")


def _day_time(bot, moment) -> str:
    local = moment.astimezone(bot.config.schedule.zone)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _stats(bot, args: str) -> Reply:
    window, label = stats_window(args)
    since, rows = bot.stats(window)
    return Reply(answers.stats(bot.board(), since, rows, label))


def _dnd(bot, user_id: str, args: str) -> Reply:
    length = dnd_length(args)
    change = bot.set_dnd(user_id, length)
    if change is None:
        return Reply(NOT_A_MANAGER, private=True)
    until = f"{_at(bot, change, change.until)} ({bot.config.schedule.zone})"
    text = f"You're in DND until {until}, {answers.span(length)} from now: no new pings until then. " \
           "Say back to end it sooner."
    return Reply(text + _still_holding(bot, change))


def _back(bot, user_id: str) -> Reply:
    change = bot.end_dnd(user_id)
    if change is None:
        return Reply(NOT_A_MANAGER, private=True)
    if change.was_until is None:
        text = "You're not in DND: pings can come to you already."
    else:
        text = f"Welcome back: your DND (until {_at(bot, change, change.was_until)}) is over."
    if change.pinged:
        text += f" {plain(', '.join(change.pinged))} was waiting and is now pinged to you: see its card."
    elif not change.on_shift:
        text += " You're not on the current shift, though: pings come to you on your own shifts."
    elif change.was_until is not None and change.holding is None:
        text += " The next ticket can go to you."
    return Reply(text + _still_holding(bot, change))


def _still_holding(bot, change: DndChange) -> str:
    held = change.holding
    if held is None or held.ticket_id in change.pinged:
        return ""
    lapse = f", or at {_at(bot, change, held.deadline)} it times out and goes to the next manager" \
        if held.deadline else ""
    return f" The open ping for {plain(held.ticket_id)} is still yours: answer it on its card{lapse}."


def _at(bot, change: DndChange, moment) -> str:
    return answers.clock_time(moment, change.at, bot.config.schedule.zone)

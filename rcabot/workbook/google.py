"""The workbook as a Google spreadsheet, through gspread.

Quota is the constraint (60 reads and 60 writes a minute for the one service account), so each
method is one request where the API allows it: a read is one values.batchGet, a state write is
one values.batchUpdate, a Tracker write is one values.batchUpdate to the numbered rows after the
last (so that a write carried out late and its retry land on the same cells). Everything is
written RAW, so a ticket id like `=IMPORTXML(...)` stays text. Throttling and server errors are
retried here a few times with backoff; after that the bot keeps the data queued and tries again
at its next flush.
"""
from __future__ import annotations

import logging
import random
import threading
import time
from typing import Callable, Mapping, Sequence, TypeVar

import gspread
import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEETS_API_V4_BASE_URL
from gspread.utils import absolute_range_name, rowcol_to_a1

from ..metrics import GoogleCalls
from . import Older, Reach, Rows, SpreadsheetFull, TabNotFound, WorkbookError, begins_older
from .cells import plain, trimmed

log = logging.getLogger(__name__)
TAB_LIST_SECONDS = 600
PREFETCH_SECONDS = 30  # what start-up read ahead is used within this time, or read again
FRESH_SECONDS = 5  # a tab list younger than this is taken as it is where the tabs must exist
T = TypeVar("T")

RETRIES = 4  # tries after the first: waits of about 1, 2, 4, 8 s
NEW_TAB_ROWS, NEW_TAB_COLUMNS = 1000, 26
GROWTH_MARGIN = 500  # blank rows left in a grid under which the next write is paced as two
MOST_NEW_ROWS = 50_000  # rows a growth adds at most (26 columns of them: 1.3 million cells)
# recent_rows reads back this many rows first, twice as many each time after, up to the most:
# a few requests for a month of history, and no answer of more than a few MB.
TAIL_ROWS, MOST_TAIL_ROWS = 5_000, 80_000
CELL_LIMIT = 10_000_000  # a spreadsheet's cells, counting every tab's whole grid
CELL_LIMIT_ANSWER = "above the limit of"  # in Sheets' 400 when a grid would pass it


def pause(seconds: float) -> None:
    """The backoff wait (the tests' fake Google replaces it)."""
    time.sleep(seconds)


def client_for(endpoint: str | None, calls: GoogleCalls | None = None) -> type[HTTPClient]:
    """gspread's HTTP client, aimed at `endpoint` instead of sheets.googleapis.com when given, and
    counting each request in `calls` (here, not per `_call`: opening the spreadsheet and reading
    the last rows take more than one request)."""
    base = endpoint.rstrip("/") + "/v4/spreadsheets" if endpoint else ""
    calls = calls or GoogleCalls()

    class CountingClient(HTTPClient):
        def request(self, method, endpoint, *args, **kwargs):
            if base and endpoint.startswith(SPREADSHEETS_API_V4_BASE_URL):
                endpoint = base + endpoint[len(SPREADSHEETS_API_V4_BASE_URL):]
            try:
                response = super().request(method, endpoint, *args, **kwargs)
            except APIError as exc:
                calls.count(exc.response.status_code)
                raise
            except requests.RequestException:
                calls.count(0)
                raise
            calls.count(response.status_code)
            return response

    return CountingClient


class GoogleWorkbook:
    rows_in_place = True  # a flush sends the TicketState rows that changed, not the whole tab

    def __init__(self, spreadsheet_id: str, credentials, *, endpoint: str | None = None, timeout: float = 30,
                 retries: int = RETRIES, sleep: Callable[[float], None] | None = None, tail_rows: int = TAIL_ROWS):
        self.spreadsheet_id = spreadsheet_id
        self.calls = GoogleCalls()  # for /metrics
        self._client = gspread.authorize(credentials, http_client=client_for(endpoint, self.calls))
        self._client.set_timeout(timeout)
        self._retries, self._sleep = retries, sleep or (lambda seconds: pause(seconds))
        self._spreadsheet = _Spreadsheet(self._client.http_client, spreadsheet_id)
        self._grids: dict[str, dict] | None = None  # title -> sheet properties, from the last metadata read
        self._grids_read = 0.0  # when (time.monotonic) the tab list was last read
        self._extent: dict[str, tuple[int, int]] = {}  # rows and columns the bot last saw in a tab
        self._lock = threading.Lock()
        self._tail_rows = tail_rows
        self.grid_growths = 0  # batchUpdates that grew a grid before a write (the flush counts them in its pace)
        self._prefetched: dict[tuple, dict] = {}  # (kind, tab, ...) -> a value range read ahead (see prefetch)
        self._prefetched_at = 0.0

    # --- the Workbook interface -------------------------------------------------------------

    def prefetch(self, whole: Sequence[str], firsts: Sequence[str], tail: str = "") -> None:
        """One values.batchGet for what start-up reads next, one by one: the tabs `whole`, the
        header rows of `firsts`, and the first chunk `recent_rows(tail)` reads back. The next
        read_tabs, ensure_tabs and recent_rows take their answers from it, once, within
        PREFETCH_SECONDS; tabs that do not exist are left out (their own calls say so)."""
        with self._lock:
            grids = self._metadata()
            ranges = {("whole", name): absolute_range_name(name) for name in whole if name in grids}
            ranges.update({("first", name): absolute_range_name(name, "1:1") for name in firsts if name in grids})
            if tail in grids:
                bottom = grids[tail].get("gridProperties", {}).get("rowCount", 0)
                top = max(bottom - self._tail_rows + 1, 1)
                if bottom >= 1:
                    ranges[("tail", tail, top, bottom)] = absolute_range_name(tail, f"{top}:{bottom}")
            if not ranges:
                return
            try:
                answer = self._call("read ahead " + ", ".join(sorted({key[1] for key in ranges})),
                                    lambda: self._sheet().values_batch_get(list(ranges.values())))
            except WorkbookError:
                return  # nothing lost: each read that follows makes its own request, and reports
            self._prefetched = dict(zip(ranges, answer.get("valueRanges", [])))
            self._prefetched_at = time.monotonic()

    def _ahead(self, key: tuple, keep: bool = False) -> dict | None:
        """A value range `prefetch` read, if still fresh (taken out unless `keep`)."""
        if time.monotonic() - self._prefetched_at > PREFETCH_SECONDS:
            self._prefetched = {}
        return self._prefetched.get(key) if keep else self._prefetched.pop(key, None)

    def read_tabs(self, names: Sequence[str], strict: bool = False) -> dict[str, Rows]:
        """One values.batchGet. Rows come padded to the tab's width, as a CSV export of it would
        be (Sheets leaves out trailing blank cells). Nothing in an answer is damage: `strict` has
        nothing to find here."""
        ranges = [absolute_range_name(name) for name in names]
        with self._lock:
            ahead = [self._ahead(("whole", name), keep=True) for name in names]
            if all(ahead):
                answer = {"valueRanges": [self._ahead(("whole", name)) for name in names]}
            else:
                try:
                    answer = self._call("read " + ", ".join(names),
                                        lambda: self._sheet().values_batch_get(ranges))
                except _UnknownRange:
                    self._raise_missing(names)
                    raise
        tables = {}
        for name, value_range in zip(names, answer.get("valueRanges", [])):
            rows = [[_text(cell) for cell in row] for row in value_range.get("values", [])]
            rows = [row for row in rows if any(cell.strip() for cell in row)]
            width = max(map(len, rows), default=0)
            tables[name] = [_pad(row, width) for row in rows]
            self._extent[name] = (len(value_range.get("values", [])), width)
        return tables

    def tab_names(self) -> set[str]:
        """The tab list, read again when older than TAB_LIST_SECONDS: a reload asks at each turn, and
        a tab ops add is seen within that time without a read per reload."""
        with self._lock:
            return set(self._metadata(refresh=time.monotonic() - self._grids_read > TAB_LIST_SECONDS))

    def ensure_tabs(self, headers: Mapping[str, Sequence[str]]) -> list[str]:
        with self._lock:
            # A tab list read a moment ago (start-up reads it just before) is the list now.
            grids = self._metadata(refresh=time.monotonic() - self._grids_read > FRESH_SECONDS)
            missing = [tab for tab in headers if tab not in grids]
            if missing:
                self._add_tabs(missing)
            present = [tab for tab in headers if tab not in missing]
            firsts = {tab: [_text(c) for c in (vr.get("values") or [[]])[0]] for tab in present
                      if (vr := self._ahead(("first", tab)) or self._ahead(("whole", tab), keep=True)) is not None}
            unknown = [tab for tab in present if tab not in firsts]
            if unknown:
                answer = self._call("read headers", lambda: self._sheet().values_batch_get(
                    [absolute_range_name(tab, "1:1") for tab in unknown]))
                firsts.update({tab: [_text(c) for c in (vr.get("values") or [[]])[0]]
                               for tab, vr in zip(unknown, answer.get("valueRanges", []))})
            repaired = [tab for tab in present if firsts.get(tab) != list(headers[tab])]
            for tab in missing + repaired:  # what was read ahead of them is not what they hold now
                self._prefetched = {key: vr for key, vr in self._prefetched.items() if key[1] != tab}
            for tab in missing:
                self._extent.pop(tab, None)  # deleted and made again: it holds only its header now
            writes = [{"range": absolute_range_name(tab, f"A1:{rowcol_to_a1(1, max(len(headers[tab]), len(firsts.get(tab, [])), 1))}"),
                       "values": [_pad(headers[tab], len(firsts.get(tab, [])))]}
                      for tab in missing + repaired]
            if writes:
                self._write_values("write headers", writes)
        for tab in missing:
            log.info("spreadsheet: created the %r tab", tab)
        for tab in repaired:
            log.warning("spreadsheet: rewrote the header row of %r (it differed from %s)", tab, list(headers[tab]))
        return missing + repaired

    def replace_tabs(self, tabs: Mapping[str, Sequence[Sequence[str]]]) -> None:
        self.write(tabs, {})

    def append_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        self.write({}, {tab: rows})

    def add_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        """values.append: Sheets finds the end of the tab's table when the rows arrive."""
        values = [[str(cell) for cell in row] for row in rows]
        if not values:
            return
        with self._lock:
            try:
                self._call(f"add rows to {tab}", lambda: self._sheet().values_append(
                    absolute_range_name(tab, "A1"), {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                    {"values": values}))
            except _UnknownRange:
                self._raise_missing([tab])
                raise
            self._extent.pop(tab, None)  # its end moved; a later read says where

    def write(self, replace: Mapping[str, Sequence[Sequence[str]]],
              append: Mapping[str, Sequence[Sequence[str]]],
              update: Mapping[str, Mapping[int, Sequence[str]]] | None = None) -> None:
        """One values.batchUpdate for all of it (growing grids first where they must).

        A replaced tab's rows beyond the new content are blanked. Appended rows go to the numbered
        rows just after the tab's last one, not through values.append: a write that Sheets carries
        out late (after a timeout, or after the process died) and the retry of it then fill the
        same cells with the same rows, instead of adding them twice. Updated rows are written in
        place, a range for each run of consecutive row numbers.
        """
        append = {tab: [[str(cell) for cell in row] for row in rows] for tab, rows in append.items() if rows}
        update = {tab: rows for tab, rows in (update or {}).items() if rows}
        if not replace and not append and not update:
            return
        with self._lock:
            try:
                shapes = self._write_once(replace, append, update)
            except _UnknownRange:
                # A tab went away since the last look (deleted by hand). Writes do not make tabs:
                # the bot does (ensure_tabs, with the header), says so, and writes the whole state.
                touched = {*replace, *append, *update}
                self._extent = {tab: e for tab, e in self._extent.items() if tab not in touched}
                self._raise_missing(list(touched))
                raise
            for tab, rows in replace.items():
                self._extent[tab] = (len(rows), shapes[tab][1])
            for tab in [*append, *update]:
                self._extent[tab] = shapes[tab]

    def _write_once(self, replace, append, update) -> dict[str, tuple[int, int]]:
        writes, shapes = self._writes(replace, append, update)
        self._grow(shapes)
        self._write_values("write " + ", ".join([*replace, *append, *update]), writes)
        return shapes

    def _writes(self, replace, append, update) -> tuple[list[dict], dict[str, tuple[int, int]]]:
        """The ranges and values of one write, and the grid each tab needs (rows, columns)."""
        writes, shapes = [], {}
        for tab, rows in update.items():
            old_rows, old_cols = self._extent.get(tab, (0, 0))
            width = max(old_cols, max(map(len, rows.values()), default=0), 1)
            for first, run in _runs(rows):
                last = first + len(run) - 1
                writes.append({"range": absolute_range_name(tab, f"A{first}:{rowcol_to_a1(last, width)}"),
                               "values": [_pad(row, width) for row in run]})
            shapes[tab] = (max(old_rows, max(rows)), width)
        for tab, rows in replace.items():
            old_rows, old_cols = self._extent.get(tab, (0, 0))
            width = max(old_cols, max(map(len, rows), default=0), 1)
            height = max(old_rows, len(rows), 1)
            values = [_pad(row, width) for row in rows] + [[""] * width] * (height - len(rows))
            writes.append({"range": absolute_range_name(tab, f"A1:{rowcol_to_a1(height, width)}"), "values": values})
            shapes[tab] = (height, width)
        for tab, rows in append.items():
            end, width = self._end_row(tab), max(map(len, rows))
            last = end + len(rows)
            writes.append({"range": absolute_range_name(tab, f"A{end + 1}:{rowcol_to_a1(last, width)}"),
                           "values": [_pad(row, width) for row in rows]})
            shapes[tab] = (last, max(width, self._extent.get(tab, (0, 0))[1]))
        return writes, shapes

    def grows_soon(self, tabs: Sequence[str]) -> bool:
        """Whether a write to `tabs` may first have to grow a grid (fewer than GROWTH_MARGIN blank
        rows left in one, by what the adapter knows without a request): the caller paces two writes."""
        grids = self._grids or {}
        return any(tab in self._extent and tab in grids and
                   grids[tab].get("gridProperties", {}).get("rowCount", 0) - self._extent[tab][0] < GROWTH_MARGIN
                   for tab in tabs)

    def _end_row(self, tab: str) -> int:
        """The number of the tab's last row with a value: known from the last read or write, else
        read (column A: the Tracker's Timestamp, never blank in a row the bot wrote)."""
        if tab not in self._extent:
            if tab not in self._metadata():
                self._raise_missing([tab])
            column = self._call(f"find the end of {tab}", lambda: self._sheet().values_get(
                absolute_range_name(tab, "A:A")))
            self._extent[tab] = (len(column.get("values", [])), 0)
        return self._extent[tab][0]

    # --- requests -----------------------------------------------------------------------------

    def _call(self, what: str, request: Callable[[], T]) -> T:
        """Run `request`, retrying throttling, server errors and network failures with backoff."""
        for attempt in range(self._retries + 1):
            try:
                return request()
            except APIError as exc:
                status = exc.response.status_code
                if status == 400 and "Unable to parse range" in str(exc):
                    raise _UnknownRange(str(exc)) from exc
                if status == 404:
                    raise WorkbookError(f"spreadsheet {self.spreadsheet_id} not found (check RCABOT_SPREADSHEET_ID)") \
                        from exc
                if status == 400 and CELL_LIMIT_ANSWER in str(exc):
                    message = self._full(what)
                    self._grids = None  # its grid sizes are the ones asked for, not what the tabs have
                    raise SpreadsheetFull(message) from exc
                if status != 429 and status < 500:
                    raise WorkbookError(_refusal(self.spreadsheet_id, what, exc)) from exc
                failure = f"{what}: Sheets answered {status}"
            except PermissionError as exc:  # gspread's answer to a 403 when opening
                raise WorkbookError(_refusal(self.spreadsheet_id, what, exc)) from exc
            except gspread.SpreadsheetNotFound as exc:
                raise WorkbookError(f"spreadsheet {self.spreadsheet_id} not found (check RCABOT_SPREADSHEET_ID)") \
                    from exc
            except requests.RequestException as exc:
                failure = f"{what}: {type(exc).__name__}"
            if attempt < self._retries:
                wait = min(2 ** attempt + random.random(), 32)
                log.warning("spreadsheet: %s; trying again in %.1f s", failure, wait)
                self._sleep(wait)
        raise WorkbookError(f"{failure} (gave up after {self._retries + 1} tries)", transient=True)

    def _full(self, what: str) -> str:
        """What the cell limit means for ops, with the largest grids (from the tab list as last
        read, with the growth just asked for)."""
        grids = sorted(((p.get("gridProperties", {}).get("rowCount", 0) * p.get("gridProperties", {}).get(
            "columnCount", 0), title) for title, p in (self._grids or {}).items()), reverse=True)
        total = sum(cells for cells, _ in grids)
        largest = ", ".join(f"{title!r} {cells:,}" for cells, title in grids[:3])
        sizes = f", and this would make {total:,} (largest tabs: {largest})" if grids else ""
        return (f"{what}: the spreadsheet is full: Google allows {CELL_LIMIT:,} cells in a spreadsheet, counting "
                f"every tab's whole grid{sizes}. Rolling the "
                f"Tracker over would not help: its archive tabs stay in this spreadsheet. Delete old archive tabs "
                f"or move them to another spreadsheet (and blank rows and columns of big tabs); a lower "
                f"TrackerMaxRows keeps each archive smaller. The Tracker rows stay queued until there is room")

    def _sheet(self) -> "_Spreadsheet":
        return self._spreadsheet

    def _metadata(self, refresh: bool = False) -> dict[str, dict]:
        if self._grids is None or refresh:
            answer = self._call("read the tab list", lambda: self._sheet().fetch_sheet_metadata())
            self._grids = {s["properties"]["title"]: s["properties"] for s in answer.get("sheets", [])}
            self._grids_read = time.monotonic()
        return self._grids

    def _raise_missing(self, names: Sequence[str]) -> None:
        grids = self._metadata(refresh=True)
        for name in names:
            if name not in grids:
                raise TabNotFound(name)

    def _add_tabs(self, titles: Sequence[str]) -> None:
        requests_ = [{"addSheet": {"properties": {"title": title, "gridProperties": {
            "rowCount": NEW_TAB_ROWS, "columnCount": NEW_TAB_COLUMNS}}}} for title in titles]
        answer = self._call("add tabs " + ", ".join(titles),
                            lambda: self._sheet().batch_update({"requests": requests_}))
        for reply in answer.get("replies", []):
            properties = reply.get("addSheet", {}).get("properties", {})
            if properties:
                self._grids[properties["title"]] = properties

    def _grow(self, shapes: Mapping[str, tuple[int, int]]) -> None:
        """Values writes do not extend a tab's grid: add rows or columns first where needed."""
        grids = self._metadata()
        if any(tab not in grids for tab in shapes):
            self._raise_missing(list(shapes))
        requests_ = []
        for tab, (rows, cols) in shapes.items():
            properties = self._grids[tab]
            grid = properties.get("gridProperties", {})
            for dimension, need, have in (("ROWS", rows, grid.get("rowCount", 0)),
                                          ("COLUMNS", cols, grid.get("columnCount", 0))):
                if need > have:
                    # Rows by a tenth more at a time (a growth is a write the flush's pace did not
                    # count): a Tracker of 100,000 rows grows every 10,000 rows, not every 1,000.
                    extra = max(need - have, min(max(NEW_TAB_ROWS, have // 10), MOST_NEW_ROWS)
                                if dimension == "ROWS" else 0)
                    requests_.append({"appendDimension": {"sheetId": properties["sheetId"],
                                                          "dimension": dimension, "length": extra}})
                    key = "rowCount" if dimension == "ROWS" else "columnCount"
                    properties.setdefault("gridProperties", {})[key] = have + extra
        if requests_:
            self._call("grow tabs", lambda: self._sheet().batch_update({"requests": requests_}))
            self.grid_growths += 1  # a write request beyond the one the caller paced

    def _write_values(self, what: str, data: list[dict]) -> None:
        body = {"valueInputOption": "RAW", "data": data}
        self._call(what, lambda: self._sheet().values_batch_update(body))

    def row_count(self, tab: str) -> int:
        """From the end the bot knows (a read or write set it); column A is read only when it does not."""
        with self._lock:
            return max(self._end_row(tab) - 1, 0)

    def roll_over(self, tab: str, archive: str, header: Sequence[str]) -> None:
        """One spreadsheets.batchUpdate, which Sheets carries out whole or not at all: the tab is
        renamed, and a new one, with an id chosen here, takes its name, its place and the header.
        An answer lost after Sheets carried it out makes the retry fail (the new id exists): the
        tab list then says whether it was done."""
        with self._lock:
            grids = self._metadata(refresh=True)
            if tab not in grids:
                raise TabNotFound(tab)
            if archive.casefold() in {title.casefold() for title in grids}:
                raise WorkbookError(f"cannot roll {tab} over: a tab named {archive!r} exists already")
            old, taken = grids[tab], {p["sheetId"] for p in grids.values()}
            new = next(n for n in iter(lambda: random.randrange(1, 2 ** 31), None) if n not in taken)
            width = max(len(header), 1)
            cells = [{"userEnteredValue": {"stringValue": plain(str(name))}} for name in header]
            body = {"requests": [
                {"updateSheetProperties": {"properties": {"sheetId": old["sheetId"], "title": archive},
                                           "fields": "title"}},
                {"addSheet": {"properties": {"sheetId": new, "title": tab, "index": old.get("index", 0),
                                             "gridProperties": {"rowCount": NEW_TAB_ROWS, "columnCount": width}}}},
                {"updateCells": {"rows": [{"values": cells}], "start": {"sheetId": new, "rowIndex": 0,
                                                                         "columnIndex": 0},
                                 "fields": "userEnteredValue"}}]}
            try:
                self._call(f"roll {tab} over to {archive}", lambda: self._sheet().batch_update(body))
            except WorkbookError:
                grids = self._metadata(refresh=True)
                if grids.get(archive, {}).get("sheetId") != old["sheetId"] or \
                        grids.get(tab, {}).get("sheetId") != new:
                    raise
            finally:
                self._grids = None  # titles and ids moved: the next look reads the tab list again
            moved = self._extent.pop(tab, None)
            if moved:
                self._extent[archive] = moved
            self._extent[tab] = (1, width)

    def last_rows(self, tab: str, count: int) -> Rows:
        with self._lock:
            return self._call(f"read the last rows of {tab}", lambda: self._last_rows(tab, count)[1])

    def _last_rows(self, tab: str, count: int) -> tuple[int, Rows]:
        """The number of the tab's last row, and its last `count` rows below the header. The end
        is known once the tab was read (at start-up, the Tracker's recent rows): column A, a
        million cells in a Tracker of years, is read only when it is not."""
        end = self._extent[tab][0] if tab in self._extent else \
            len(self._sheet().values_get(absolute_range_name(tab, "A:A")).get("values", []))
        first = max(end - count + 1, 2)
        return end, self._rows(tab, first, end - first + 1)

    def _rows(self, tab: str, first: int, count: int) -> Rows:
        if count < 1:
            return []
        found = self._sheet().values_get(absolute_range_name(tab, f"{first}:{first + count - 1}"))
        return [trimmed([_text(c) for c in row]) for row in found.get("values", [])]

    def recent_rows(self, tab: str, older: Older, reach: Reach | None = None) -> Rows:
        """Reads back from the end of the tab's grid (its row count, from the metadata read at
        start-up), by numbered ranges, a chunk twice as long each time. Sheets leaves out the
        trailing blank rows of an answer, so the first one that holds a row also says where the
        tab ends: the next Tracker append goes there without reading column A first."""
        with self._lock:
            grids = self._metadata()
            if tab not in grids:
                self._raise_missing([tab])
            bottom, size = grids[tab].get("gridProperties", {}).get("rowCount", 0), self._tail_rows
            rows: Rows = []
            end, width = 0, 0
            while bottom >= 1:
                top = max(bottom - size + 1, 1)
                chunk = self._chunk(tab, top, bottom)
                end = end or (top + len(chunk) - 1 if chunk else 0)
                width = max(width, max(map(len, chunk), default=0))
                chunk = [row for row in chunk[1 if top == 1 else 0:] if any(cell.strip() for cell in row)]
                rows[:0] = chunk
                if begins_older(chunk, older):
                    break
                guess = reach(rows) if reach and rows else None
                bottom, size = top - 1, min(size * 2 if guess is None else max(guess, self._tail_rows), MOST_TAIL_ROWS)
            self._extent[tab] = (end, width)
        return [trimmed(row) for row in rows]

    def _chunk(self, tab: str, top: int, bottom: int) -> Rows:
        ahead = self._ahead(("tail", tab, top, bottom))
        if ahead is not None:
            return [[_text(cell) for cell in row] for row in ahead.get("values", [])]
        try:
            found = self._call(f"read rows {top} to {bottom} of {tab}", lambda: self._sheet().values_get(
                absolute_range_name(tab, f"{top}:{bottom}")))
        except _UnknownRange:
            self._raise_missing([tab])
            raise
        return [[_text(cell) for cell in row] for row in found.get("values", [])]


class _Spreadsheet:
    """The requests the adapter sends, bound to one spreadsheet, through gspread's HTTP client.
    Not gspread's Spreadsheet: making one reads the whole metadata, a request more at every
    start-up, which the adapter reads itself when it needs the tab list."""

    def __init__(self, http, spreadsheet_id: str) -> None:
        self._http, self._id = http, spreadsheet_id

    def fetch_sheet_metadata(self) -> dict:
        return self._http.fetch_sheet_metadata(self._id)

    def values_get(self, range_name: str) -> dict:
        return self._http.values_get(self._id, range_name)

    def values_batch_get(self, ranges: list[str]) -> dict:
        return self._http.values_batch_get(self._id, ranges)

    def values_append(self, range_name: str, params: dict, body: dict) -> dict:
        return self._http.values_append(self._id, range_name, params, body)

    def values_batch_update(self, body: dict) -> dict:
        return self._http.values_batch_update(self._id, body)

    def batch_update(self, body: dict) -> dict:
        return self._http.batch_update(self._id, body)


class _UnknownRange(WorkbookError):
    """Sheets could not parse a range: a tab named in it does not exist."""


def _refusal(spreadsheet_id: str, what: str, exc: Exception) -> str:
    if isinstance(exc, PermissionError) or getattr(getattr(exc, "response", None), "status_code", 0) == 403:
        return (f"{what}: no access to spreadsheet {spreadsheet_id}; share it (Editor) with the service "
                f"account's e-mail address")
    return f"{what}: {exc}"


def _text(cell) -> str:
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    return "" if cell is None else plain(str(cell))


def _pad(row: Sequence, width: int) -> list[str]:
    cells = [plain(str(cell)) for cell in row]
    return cells + [""] * (width - len(cells))


def _runs(rows: Mapping[int, Sequence[str]]) -> list[tuple[int, list[Sequence[str]]]]:
    """Rows by number as runs of consecutive numbers: (first number, its rows)."""
    runs: list[tuple[int, list[Sequence[str]]]] = []
    for number in sorted(rows):
        if runs and runs[-1][0] + len(runs[-1][1]) == number:
            runs[-1][1].append(rows[number])
        else:
            runs.append((number, [rows[number]]))
    return runs

"""A stateful fake of the Google Sheets API v4 (the endpoints gspread and the bot use), in Google's shapes.

Serve it to the REAL gspread through `tests.fakes.transport.Router`:

    sheets = FakeSheets()
    sheets.add_tab("Tracker", [["Timestamp", "Ticket", "Status"]])
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        Router({"https://sheets.googleapis.com": sheets.handle}).install(rsps)
        gc = gspread.authorize(AnonymousCredentials())
        gc.open_by_key(sheets.spreadsheet_id).worksheet("Tracker").get_all_values()

What it models (../shared/reference/google-sheets.md and the recorded bodies in samples/sheets/):

- spreadsheets.get, values.get / batchGet / update / batchUpdate / append / clear / batchClear and
  spreadsheets.batchUpdate (addSheet, deleteSheet, updateSheetProperties, appendDimension,
  insertDimension, deleteDimension, updateSpreadsheetProperties, updateCells with userEnteredValue
  from a start; formatting-only requests are accepted and ignored); anything else is 404.
- The limit of cells (every tab's rowCount x columnCount; 10 million, `max_cells` to set it small): a
  batchUpdate request or an append that would pass it is 400 INVALID_ARGUMENT "Invalid
  requests[0].appendDimension: This action would increase the number of cells in the workbook above
  the limit of 10000000 cells." and changes nothing.
- A1 ranges with quoted, percent-encoded titles (`'It''s'!A1:C`, `Tab!A:A`, `Tab!A5:A`, `Tab!1:2`,
  `A1:B2` on the first visible tab); an unknown tab is 400 "Unable to parse range: ...". Titles match
  case-insensitively, as in Sheets. Echoed ranges quote titles the way the API does (`Sheet1!A1:B2`,
  `'Log Sheet'!A1`, `'D3'!A1:D1`) and are bounded by the grid; a single cell is `Tab!D4`.
- values writes (update, batchUpdate) never grow a tab's grid: past it they are 400 INVALID_ARGUMENT
  "Range ('Tab'!A1001) exceeds grid limits. ..."; appends grow it. A values.batchUpdate and a
  spreadsheets.batchUpdate are all or nothing. JSON null in `values` leaves a cell as it is, "" empties it.
- RAW stores strings / numbers / bools as sent (a string "=SUM(1,2)" stays text); USER_ENTERED parses like
  the UI: "=..." becomes a formula, "12" / "1,234.5" / "1e3" become numbers, "true" a bool, a leading
  apostrophe forces text and is dropped.
- values.append table detection (a model of the recorded behaviour; Google does not document the rule):
  the table is the block of non-empty cells grown like a spreadsheet's "current region" (while a filled
  cell touches the block, diagonals included, take it in). For a one-cell range (gspread's
  `table_range="A1"`, `insert_row`'s `A<n>`) the block starts at that cell and grows only down and right;
  if that cell is empty there is no table and the rows go there. For a larger range or a whole tab it
  starts at the range's last filled cell (reading order) and stays inside the range, which is how an
  append to a whole tab holding `["x", "", "z"]` finds `Sheet1!C1` and writes `C2:E2`, as recorded.
  Rows go after the table, starting at its first column; INSERT_ROWS inserts whole rows there, OVERWRITE
  (the default) writes over what is below; both add the rows/columns the data needs.
- Bearer-token check (401); per-minute read/write quotas over a sliding 60 s window (429 with Google's
  RATE_LIMIT_EXCEEDED details; reads = spreadsheets.get, values.get, values.batchGet, the rest are
  writes; a call refused by auth, a fault, a 404 or the quota itself is not charged, an invalid one is);
  latency; injected faults (`fail_next`, `hang_next`, `timeout_next`, `fail_after_post_next`); a call log
  (`calls`, `count`, `reads`, `writes`, `peak_writes_per_minute`). One lock guards all state; the
  sleeps (latency, hangs) happen outside it, so concurrent callers overlap as they would with Google.

Simplified (beware when a test leans on these):
- Formulas are stored, never computed: their FORMATTED_VALUE and UNFORMATTED_VALUE are the text
  "#FORMULA" (FORMULA gives the formula back).
- Locale en_US, time zone Etc/GMT. USER_ENTERED does not recognise dates, times, percentages or
  currencies (they stay text); numbers are shown in a plain "General" format (up to 15 significant
  digits, `1E+20`); dateTimeRenderOption is ignored.
- A read whose range starts inside the grid but runs past it is clipped to the grid; one that starts
  past it is 400 "exceeds grid limits". (Google's behaviour here is not documented.)
- No named ranges, R1C1 notation, data filters, cell formats or grid data: `fields`, `ranges` and
  `includeGridData` on spreadsheets.get are ignored; formatting-only batchUpdate requests are no-ops;
  other real batchUpdate requests it lacks are a 400 that says so; other endpoints are 404.
- The append table rule above is inferred from recordings, not specified by Google.
"""
from __future__ import annotations

import copy
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import requests

from .transport import STATUS_NAMES, FakeRequest, google_error, peak_per_minute

SPREADSHEETS_GET, VALUES_GET, VALUES_BATCH_GET = "spreadsheets.get", "values.get", "values.batchGet"
VALUES_UPDATE, VALUES_BATCH_UPDATE, VALUES_APPEND = "values.update", "values.batchUpdate", "values.append"
VALUES_CLEAR, VALUES_BATCH_CLEAR, BATCH_UPDATE = "values.clear", "values.batchClear", "spreadsheets.batchUpdate"
READS = frozenset({SPREADSHEETS_GET, VALUES_GET, VALUES_BATCH_GET})
WRITES = frozenset({VALUES_UPDATE, VALUES_BATCH_UPDATE, VALUES_APPEND, VALUES_CLEAR, VALUES_BATCH_CLEAR,
                    BATCH_UPDATE})
KINDS = READS | WRITES

FORMULA_SHOWN_AS = "#FORMULA"
MAX_CELLS = 10_000_000
MAX_COLUMNS = 18_278  # ZZZ
RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
INPUT_OPTIONS = ("RAW", "USER_ENTERED")
PROJECT = "000000000000"

UNAUTHENTICATED = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                   "or other valid authentication credential. See "
                   "https://developers.google.com/identity/sign-in/web/devconsole-project.")
MISSING_CREDENTIAL = ("Request is missing required authentication credential. Expected OAuth 2 access token, "
                      "login cookie or other valid authentication credential. See "
                      "https://developers.google.com/identity/sign-in/web/devconsole-project.")
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: UNAUTHENTICATED,
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    408: "Request timed out.",
    409: "Requested entity already exists",
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The service is currently unavailable.",
}
EXTRA_STATUS_NAMES = {408: "DEADLINE_EXCEEDED", 502: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
# spreadsheets.batchUpdate requests that only change formatting, filters, protection...: accepted, no effect.
IGNORED_REQUESTS = frozenset({
    "repeatCell", "updateBorders", "autoResizeDimensions", "updateDimensionProperties", "mergeCells",
    "unmergeCells", "setBasicFilter", "clearBasicFilter", "addConditionalFormatRule", "deleteConditionalFormatRule",
    "setDataValidation", "addProtectedRange", "deleteProtectedRange", "updateProtectedRange", "addBanding",
    "deleteBanding", "addFilterView", "deleteFilterView", "updateEmbeddedObjectPosition"})
# Real spreadsheets.batchUpdate requests this fake does not implement (400 saying so, not "Unknown name").
UNSUPPORTED_REQUESTS = frozenset({
    "appendCells", "duplicateSheet", "copyPaste", "cutPaste", "moveDimension", "insertRange",
    "deleteRange", "findReplace", "pasteData", "textToColumns", "sortRange", "randomizeRange", "trimWhitespace",
    "deleteDuplicates", "addNamedRange", "updateNamedRange", "deleteNamedRange", "addChart", "updateChartSpec",
    "addSlicer", "updateSlicerSpec", "addDimensionGroup", "deleteDimensionGroup", "updateDimensionGroup",
    "autoFill", "createDeveloperMetadata", "updateDeveloperMetadata", "deleteDeveloperMetadata",
    "addDataSource", "updateDataSource", "deleteDataSource", "refreshDataSource", "cancelDataSourceRefresh",
    "addTable", "updateTable", "deleteTable", "deleteEmbeddedObject", "updateFilterView",
    "duplicateFilterView", "updateConditionalFormatRule", "updateBanding"})
# What spreadsheets.get returns besides the tabs (recorded; see samples/sheets/spreadsheets_get.json).
DEFAULT_FORMAT = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM", "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {"foregroundColor": {}, "fontFamily": "arial,sans,sans-serif", "fontSize": 10, "bold": False,
                   "italic": False, "strikethrough": False, "underline": False,
                   "foregroundColorStyle": {"rgbColor": {}}},
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}}
THEME = {"primaryFontFamily": "Arial", "themeColors": [
    {"colorType": "TEXT", "color": {"rgbColor": {}}},
    {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
    {"colorType": "ACCENT1", "color": {"rgbColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}}},
    {"colorType": "ACCENT2", "color": {"rgbColor": {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}}},
    {"colorType": "ACCENT3", "color": {"rgbColor": {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}}},
    {"colorType": "ACCENT4", "color": {"rgbColor": {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}}},
    {"colorType": "ACCENT5", "color": {"rgbColor": {"red": 1, "green": 0.42745098, "blue": 0.003921569}}},
    {"colorType": "ACCENT6", "color": {"rgbColor": {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}}},
    {"colorType": "LINK", "color": {"rgbColor": {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}}}]}


class _Reject(Exception):
    """Raised inside a handler: answer with Google's error envelope, change nothing."""

    def __init__(self, code: int, message: str | None = None, status: str | None = None,
                 details: list | None = None):
        super().__init__(message)
        self.code, self.message = code, message or DEFAULT_MESSAGES.get(code, "Error")
        self.status, self.details = status or STATUS_NAMES.get(code, "UNKNOWN"), details

    def response(self) -> tuple[int, dict]:
        code, payload = google_error(self.code, self.message, self.status)
        if self.details:
            payload["error"]["details"] = self.details
        return code, payload


def _bad(message: str) -> _Reject:
    return _Reject(400, message, "INVALID_ARGUMENT")


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (USER_ENTERED "=..."). Never computed."""
    text: str


@dataclass
class SheetsCall:
    kind: str  # one of KINDS, or "unknown"
    method: str
    path: str  # percent-encoded, as on the wire
    query: dict[str, list[str]]
    body: Any  # parsed JSON, or None
    at: float = 0.0  # clock reading when the call arrived (seconds)
    status: int = 0  # 0: the client got no answer (timeout_next)
    bearer: str = ""
    charged: bool = False  # counted against the read or write quota
    response: dict = field(default_factory=dict, repr=False)

    @property
    def write(self) -> bool:
        return self.kind not in READS

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def param(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


class Cells(dict):
    """A tab's stored cells, (row, col) -> value, knowing how far they reach without a pass over
    millions of them at every read (a write can only push the extent out; a removal makes the next
    question look again)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._extent: tuple[int, int] | None = None if self else (0, 0)  # empty: kept as cells come

    def __setitem__(self, key: tuple[int, int], value) -> None:
        super().__setitem__(key, value)
        if self._extent is not None:
            self._extent = (max(self._extent[0], key[0]), max(self._extent[1], key[1]))

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._extent = None

    def pop(self, *args):
        self._extent = None
        return super().pop(*args)

    def extent(self) -> tuple[int, int]:
        if self._extent is None:
            self._extent = (max((r for r, _ in self), default=0), max((c for _, c in self), default=0))
        return self._extent


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: int = 1000  # gridProperties.rowCount
    cols: int = 26  # gridProperties.columnCount
    cells: dict[tuple[int, int], Any] = field(default_factory=Cells)  # (row, col), 1-based -> str/int/float/bool/Formula
    hidden: bool = False
    frozen_rows: int = 0
    frozen_cols: int = 0

    def extent(self) -> tuple[int, int]:
        if type(self.cells) is not Cells:  # a request that rebuilt them (insert, delete, resize)
            self.cells = Cells(self.cells)
        return self.cells.extent()

    def properties(self, index: int) -> dict:
        grid = {"rowCount": self.rows, "columnCount": self.cols}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        answer = {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                  "gridProperties": grid}
        if self.hidden:
            answer["hidden"] = True
        return answer

    def clone(self) -> "Tab":
        return Tab(self.sheet_id, self.title, self.rows, self.cols, Cells(self.cells), self.hidden,
                   self.frozen_rows, self.frozen_cols)


@dataclass
class _Fault:
    mode: str  # "fail" | "hang" | "after_post" | "timeout" | "timeout_after_post"
    kind: str | None
    count: int
    status: int = 0
    seconds: float = 0.0
    message: str | None = None

    def matches(self, kind: str) -> bool:
        if self.mode in ("after_post", "timeout_after_post") and self.kind is None:
            return kind in WRITES
        return self.kind is None or self.kind == kind


@dataclass
class _Range:
    """A parsed A1 range: the tab and 1-based inclusive bounds, clipped to nothing (may pass the grid)."""
    tab: Tab
    top: int
    left: int
    bottom: int
    right: int
    cells: str  # the part after '!' ("" for a whole tab)
    bounded: bool  # an explicit end was given (A1:B2), not A1 or a whole tab


@dataclass
class _Write:
    tab: Tab
    top: int
    left: int
    values: list[list]


class FakeSheets:
    """One spreadsheet, as the Sheets API v4 serves it to one user."""

    def __init__(self, spreadsheet_id: str = "1FakeSpreadsheetId0123456789abcdefghijklmn", title: str = "RCA Bot",
                 *, token: str | None = None, latency: float = 0.0, write_quota_per_minute: int | None = None,
                 read_quota_per_minute: int | None = None, clock: Callable[[], Any] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, seed: int = 0, max_cells: int = MAX_CELLS):
        self.spreadsheet_id, self.title, self.token = spreadsheet_id, title, token
        self.latency, self.clock, self.sleep = latency, clock, sleep
        self.write_quota_per_minute, self.read_quota_per_minute = write_quota_per_minute, read_quota_per_minute
        self.max_cells = max_cells  # Google's 10 million; a test may set it small
        self.tabs: list[Tab] = []
        self.calls: list[SheetsCall] = []
        self._faults: list[_Fault] = []
        self._random = random.Random(seed)
        self._first_id_issued = False
        self._charged: dict[bool, list[float]] = {True: [], False: []}  # is-a-read -> times of charged calls
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ state helpers

    def add_tab(self, title: str, rows: list[list] | None = None, row_count: int = 1000, col_count: int = 26) -> int:
        """Add a tab at the end holding `rows` (stored as given, like RAW); the grid grows to fit them.
        Returns its sheetId (0 for the first tab, as in a new spreadsheet)."""
        with self._lock:
            if self._find(title) is not None:
                raise ValueError(f"a tab named {title!r} exists already")
            rows = rows or []
            tab = Tab(self._new_id(), title, max(row_count, len(rows)),
                      max(col_count, max(map(len, rows), default=0)))
            tab.cells = Cells({(r, c): value for r, row in enumerate(rows, 1) for c, value in enumerate(row, 1)
                               if value not in ("", None)})  # one dict, not a million calls to Cells
            tab.cells.extent()  # worked out now, not in the first request that reads the tab
            self.tabs.append(tab)
            return tab.sheet_id

    def rows(self, title: str) -> list[list[str]]:
        """What a person sees: formatted strings, trailing empty rows and cells left out."""
        with self._lock:
            tab = self._tab(title)
            height, width = tab.extent()
            return [_trim([_formatted(tab.cells.get((r, c), "")) for c in range(1, width + 1)])
                    for r in range(1, height + 1)]

    def formula(self, title: str, a1: str) -> str | None:
        """The formula stored in a cell ("=SUM(A1:A2)"), None if the cell holds none."""
        with self._lock:
            tab = self._tab(title)
            row, col = _cell(a1) or (0, 0)
            if not row or not col:
                raise ValueError(f"not a cell: {a1!r}")
            value = tab.cells.get((row, col))
            return value.text if isinstance(value, Formula) else None

    def grid(self, title: str) -> tuple[int, int]:
        """(rowCount, columnCount) of a tab."""
        with self._lock:
            tab = self._tab(title)
            return tab.rows, tab.cols

    def tab_titles(self) -> list[str]:
        with self._lock:
            return [tab.title for tab in self.tabs]

    # ------------------------------------------------------------------ faults

    def fail_next(self, status: int = 429, count: int = 1, kind: str | None = None,
                  message: str | None = None) -> None:
        """The next `count` calls of `kind` (any call if None) answer `status` in Google's envelope and
        change nothing (a 429 looks like the quota's)."""
        self._add_fault(_Fault("fail", kind, count, status=status, message=message))

    def hang_next(self, seconds: float, count: int = 1, kind: str | None = None) -> None:
        """The next `count` calls of `kind` wait `seconds` (with the injected `sleep`) and are then served.
        Over WSGI the client's timeout fires (and a write still lands, as with Google); in process through
        `responses` the call is only slow — use `timeout_next` there."""
        self._add_fault(_Fault("hang", kind, count, seconds=seconds))

    def timeout_next(self, count: int = 1, kind: str | None = None, *, after_post: bool = False) -> None:
        """The next `count` calls of `kind` raise `requests.exceptions.ReadTimeout` into the client, as
        requests does when its read times out. With `after_post` only successful writes match, and they
        take effect first (Google wrote, the answer was lost). Logged with status 0. In process only."""
        if after_post and kind is not None and kind not in WRITES:
            raise ValueError(f"timeout_next(after_post=True) needs a write kind, not {kind!r}")
        self._add_fault(_Fault("timeout_after_post" if after_post else "timeout", kind, count))

    def fail_after_post_next(self, status: int = 503, count: int = 1, kind: str | None = None,
                             message: str | None = None) -> None:
        """The next `count` successful writes of `kind` (any write if None) take effect but answer `status`."""
        if kind is not None and kind not in WRITES:
            raise ValueError(f"fail_after_post_next needs a write kind, not {kind!r}")
        self._add_fault(_Fault("after_post", kind, count, status=status, message=message))

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.count for f in self._faults)

    def _add_fault(self, fault: _Fault) -> None:
        if fault.kind is not None and fault.kind not in KINDS:
            raise ValueError(f"unknown kind {fault.kind!r}; use one of {sorted(KINDS)}")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, mode: str, kind: str) -> _Fault | None:
        for fault in self._faults:
            if fault.mode == mode and fault.matches(kind):
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ call log

    def count(self, kind: str | None = None, status: int | None = None) -> int:
        with self._lock:
            return sum(1 for c in self.calls if (kind is None or c.kind == kind)
                       and (status is None or c.status == status))

    def reads(self) -> list[SheetsCall]:
        with self._lock:
            return [c for c in self.calls if c.kind in READS]

    def writes(self) -> list[SheetsCall]:
        """Every write call that reached the fake, whatever its outcome, in arrival order."""
        with self._lock:
            return [c for c in self.calls if c.kind in WRITES]

    def peak_writes_per_minute(self) -> int:
        """The most write calls (successful or not) that arrived within any 60 s window."""
        times = sorted(c.at for c in self.writes())
        return peak_per_minute(times)

    # ------------------------------------------------------------------ HTTP entry point

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        kind, spreadsheet, a1 = _route(request.method, request.segments)
        try:
            body = request.json() if request.body else None
        except ValueError:
            body = request.body.decode(errors="replace")
        call = SheetsCall(kind, request.method, request.path, {k: list(v) for k, v in request.query.items()},
                          body, at=self._now(), bearer=request.bearer)
        if self.latency:
            self.sleep(self.latency)
        with self._lock:
            hang = self._take_fault("hang", kind) if kind != "unknown" else None
        if hang:
            self.sleep(hang.seconds)
        with self._lock:
            self.calls.append(call)
            if kind != "unknown" and self._take_fault("timeout", kind):
                raise requests.exceptions.ReadTimeout("Read timed out. (fake Sheets: timeout_next)")
            try:
                status, payload = 200, self._serve(request, call, spreadsheet, a1, body)
            except _Reject as reject:
                status, payload = reject.response()
            call.status, call.response = status, payload
            if status == 200 and kind in WRITES and self._take_fault("timeout_after_post", kind):
                call.status = 0
                raise requests.exceptions.ReadTimeout("Read timed out. (fake Sheets: timeout_next after_post)")
            return status, copy.deepcopy(payload)

    def _serve(self, request: FakeRequest, call: SheetsCall, spreadsheet: str, a1: str, body) -> dict:
        if call.kind == "unknown":
            raise _Reject(404, f"The fake Sheets API does not serve {request.method} {request.path}.")
        self._authenticate(request)
        fault = self._take_fault("fail", call.kind)
        if fault:
            details = self._quota_details(call.kind) if fault.status == 429 else None
            message = fault.message or (self._quota_message(call.kind) if fault.status == 429 else None)
            raise _Reject(fault.status, message, EXTRA_STATUS_NAMES.get(fault.status), details=details)
        if spreadsheet != self.spreadsheet_id:
            raise _Reject(404, DEFAULT_MESSAGES[404])
        self._charge(call)
        if body is not None and not isinstance(body, dict):
            raise _bad("Invalid JSON payload received. Expected an object.")
        handler = {SPREADSHEETS_GET: self._get, VALUES_GET: self._values_get, VALUES_BATCH_GET: self._values_batch_get,
                   VALUES_UPDATE: self._values_update, VALUES_BATCH_UPDATE: self._values_batch_update,
                   VALUES_APPEND: self._values_append, VALUES_CLEAR: self._values_clear,
                   VALUES_BATCH_CLEAR: self._values_batch_clear, BATCH_UPDATE: self._batch_update}[call.kind]
        result = handler(request, a1, body or {})
        after = self._take_fault("after_post", call.kind) if call.kind in WRITES else None
        if after:
            raise _Reject(after.status, after.message, EXTRA_STATUS_NAMES.get(after.status))
        return result

    def _authenticate(self, request: FakeRequest) -> None:
        if self.token is None:
            return
        if not request.bearer:
            raise _Reject(401, MISSING_CREDENTIAL, "UNAUTHENTICATED")
        if request.bearer != self.token:
            raise _Reject(401, UNAUTHENTICATED, "UNAUTHENTICATED")

    def _charge(self, call: SheetsCall) -> None:
        limit = self.read_quota_per_minute if call.kind in READS else self.write_quota_per_minute
        charged = self._charged[call.kind in READS]
        charged[:] = [t for t in charged if t > call.at - 60]
        if limit is not None and len(charged) >= limit:
            raise _Reject(429, self._quota_message(call.kind), "RESOURCE_EXHAUSTED", self._quota_details(call.kind))
        charged.append(call.at)
        call.charged = True

    @staticmethod
    def _quota_message(kind: str) -> str:
        metric = "Read requests" if kind in READS else "Write requests"
        return (f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' of service "
                f"'sheets.googleapis.com' for consumer 'project_number:{PROJECT}'.")

    @staticmethod
    def _quota_details(kind: str) -> list[dict]:
        which = "read" if kind in READS else "write"
        return [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                 "domain": "googleapis.com",
                 "metadata": {"quota_metric": f"sheets.googleapis.com/{which}_requests",
                              "quota_limit": f"{which.capitalize()}RequestsPerMinutePerUser",
                              "service": "sheets.googleapis.com", "consumer": f"projects/{PROJECT}"}}]

    def _now(self) -> float:
        now = self.clock()
        return now.timestamp() if isinstance(now, datetime) else float(now)

    # ------------------------------------------------------------------ reads

    def _get(self, request: FakeRequest, a1: str, body: dict) -> dict:
        return self._metadata(self.tabs)

    def _metadata(self, tabs: list[Tab]) -> dict:
        return {"spreadsheetId": self.spreadsheet_id,
                "properties": {"title": self.title, "locale": "en_US", "autoRecalc": "ON_CHANGE",
                               "timeZone": "Etc/GMT", "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                               "spreadsheetTheme": copy.deepcopy(THEME)},
                "sheets": [{"properties": tab.properties(i)} for i, tab in enumerate(tabs)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"}

    def _values_get(self, request: FakeRequest, a1: str, body: dict) -> dict:
        render, major = _render_options(request.param("valueRenderOption"), request.param("majorDimension"))
        return self._read(self._range(a1), render, major)

    def _values_batch_get(self, request: FakeRequest, a1: str, body: dict) -> dict:
        render, major = _render_options(request.param("valueRenderOption"), request.param("majorDimension"))
        ranges = [self._range(one) for one in request.query.get("ranges", [])]  # all parsed first
        return {"spreadsheetId": self.spreadsheet_id, "valueRanges": [self._read(r, render, major) for r in ranges]}

    def _read(self, span: _Range, render: str, major: str = "ROWS") -> dict:
        tab = span.tab
        if span.top > tab.rows or span.left > tab.cols:
            raise self._past_grid(tab, span.top, span.left, span.top, span.left)
        bottom, right = min(span.bottom, tab.rows), min(span.right, tab.cols)
        height, width = tab.extent()  # nothing is stored past it: don't render those blanks
        grid = [[_rendered(tab.cells.get((r, c), ""), render) for c in range(span.left, min(right, width) + 1)]
                for r in range(span.top, min(bottom, height) + 1)]
        if major == "COLUMNS":
            grid = [list(column) for column in zip(*grid)]
        lines = [_trim(line) for line in grid]
        while lines and not lines[-1]:
            lines.pop()
        answer = {"range": _a1(tab.title, span.top, span.left, bottom, right), "majorDimension": major}
        if lines:
            answer["values"] = lines
        return answer

    # ------------------------------------------------------------------ values writes

    def _values_update(self, request: FakeRequest, a1: str, body: dict) -> dict:
        option = _input_option(request.param("valueInputOption"))
        write = self._plan(a1, body, "data")
        answer = self._apply(write, option)
        return self._with_data(answer, request.query.get, write)

    def _values_batch_update(self, request: FakeRequest, a1: str, body: dict) -> dict:
        option = _input_option(body.get("valueInputOption", ""))
        data = body.get("data", [])
        if not isinstance(data, list):
            raise _bad(f"Invalid value at 'data' (type.googleapis.com/google.apps.sheets.v4.ValueRange), {data!r}")
        writes = [self._plan(item.get("range", "") if isinstance(item, dict) else "", item, f"data[{n}]")
                  for n, item in enumerate(data)]  # every range checked before anything is written
        answer: dict = {"spreadsheetId": self.spreadsheet_id}
        if not writes:
            return answer
        options = {k: [v] for k, v in body.items() if isinstance(v, (str, bool))}
        responses = [self._with_data(self._apply(w, option), lambda k, d=None: options.get(k, d), w) for w in writes]
        rows = {(w.tab.sheet_id, r) for w in writes for r, row in enumerate(w.values, w.top)
                if any(v is not None for v in row)}
        cols = {(w.tab.sheet_id, c) for w in writes for row in w.values
                for c, v in enumerate(row, w.left) if v is not None}
        answer.update({"totalUpdatedRows": len(rows), "totalUpdatedColumns": len(cols),
                       "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
                       "totalUpdatedSheets": len({w.tab.sheet_id for w in writes}), "responses": responses})
        return answer

    def _values_append(self, request: FakeRequest, a1: str, body: dict) -> dict:
        option = _input_option(request.param("valueInputOption"))
        insert = request.param("insertDataOption", "OVERWRITE")
        if insert not in ("OVERWRITE", "INSERT_ROWS"):
            raise _bad(f"Invalid value at 'insert_data_option' (type.googleapis.com/"
                       f"google.apps.sheets.v4.InsertDataOption), \"{insert}\"")
        span = self._range(a1)
        values = _oriented(body, "data")
        tab = span.tab
        table = _table(tab, span)
        if table:
            top, left, bottom, right = table
            first, column = bottom + 1, left
        else:
            first, column = span.top, span.left
        height, width = len(values), max(map(len, values), default=0)
        if height:
            rows = max(tab.rows + (height if insert == "INSERT_ROWS" else 0), first + height - 1)
            cols = max(tab.cols, column + width - 1)
            self._check_size(rows * cols - tab.rows * tab.cols)
            if insert == "INSERT_ROWS":
                tab.cells = {((r + height if r >= first else r), c): v for (r, c), v in tab.cells.items()}
            tab.rows, tab.cols = rows, cols
        write = _Write(tab, first, column, values)
        answer = {"spreadsheetId": self.spreadsheet_id}
        if table:
            answer["tableRange"] = _a1(tab.title, *table)
        answer["updates"] = self._with_data(self._apply(write, option), request.query.get, write)
        return answer

    def _values_clear(self, request: FakeRequest, a1: str, body: dict) -> dict:
        return {"spreadsheetId": self.spreadsheet_id, "clearedRange": self._clear(self._range(a1))}

    def _values_batch_clear(self, request: FakeRequest, a1: str, body: dict) -> dict:
        spans = [self._range(one) for one in body.get("ranges", [])]
        return {"spreadsheetId": self.spreadsheet_id, "clearedRanges": [self._clear(span) for span in spans]}

    def _clear(self, span: _Range) -> str:
        tab = span.tab
        bottom, right = min(span.bottom, tab.rows), min(span.right, tab.cols)
        for key in [k for k in tab.cells if span.top <= k[0] <= bottom and span.left <= k[1] <= right]:
            del tab.cells[key]
        return _a1(tab.title, span.top, span.left, max(bottom, span.top), max(right, span.left))

    def _plan(self, a1: str, item: dict, where: str) -> _Write:
        span = self._range(a1)
        values = _oriented(item, where)
        height, width = len(values), max(map(len, values), default=0)
        last_row, last_col = span.top + max(height, 1) - 1, span.left + max(width, 1) - 1
        tab = span.tab
        if last_row > tab.rows or last_col > tab.cols:
            raise self._past_grid(tab, span.top, span.left, last_row, last_col)
        if span.bounded and last_row > span.bottom:
            raise _bad(f"Requested writing within range [{a1}], but tried writing to row [{last_row}]")
        if span.bounded and last_col > span.right:
            raise _bad(f"Requested writing within range [{a1}], but tried writing to column "
                       f"[{_column_letters(last_col)}]")
        return _Write(tab, span.top, span.left, values)

    def _apply(self, write: _Write, option: str) -> dict:
        tab, written = write.tab, 0
        for r, row in enumerate(write.values, write.top):
            for c, value in enumerate(row, write.left):
                if value is None:
                    continue  # null leaves the cell as it is
                written += 1
                stored = _user_entered(value) if option == "USER_ENTERED" else value
                if stored == "":
                    tab.cells.pop((r, c), None)
                else:
                    tab.cells[(r, c)] = stored
        height, width = len(write.values), max(map(len, write.values), default=0)
        answer = {"spreadsheetId": self.spreadsheet_id,
                  "updatedRange": _a1(tab.title, write.top, write.left, write.top + max(height, 1) - 1,
                                      write.left + max(width, 1) - 1)}
        if written:
            answer.update({"updatedRows": sum(1 for row in write.values if any(v is not None for v in row)),
                           "updatedColumns": len({c for row in write.values for c, v in enumerate(row)
                                                  if v is not None}),
                           "updatedCells": written})
        return answer

    def _with_data(self, answer: dict, param: Callable, write: _Write) -> dict:
        """`includeValuesInResponse`: add the written range as read back."""
        wanted = param("includeValuesInResponse", None)
        if wanted and str(wanted[0]).lower() == "true":
            render = (param("responseValueRenderOption", None) or ["FORMATTED_VALUE"])[0]
            height, width = len(write.values), max(map(len, write.values), default=0)
            span = _Range(write.tab, write.top, write.left, write.top + max(height, 1) - 1,
                          write.left + max(width, 1) - 1, "", True)
            answer["updatedData"] = self._read(span, _render_options(render, "")[0])
        return answer

    @staticmethod
    def _past_grid(tab: Tab, top: int, left: int, bottom: int, right: int) -> _Reject:
        cells = _cells_a1(top, left, bottom, right)
        return _bad(f"Range ('{_escape(tab.title)}'!{cells}) exceeds grid limits. Max rows: {tab.rows}, "
                    f"max columns: {tab.cols}")

    # ------------------------------------------------------------------ spreadsheets.batchUpdate

    def _batch_update(self, request: FakeRequest, a1: str, body: dict) -> dict:
        requests_ = body.get("requests", [])
        if not isinstance(requests_, list):
            raise _bad("Invalid value at 'requests'")
        saved_tabs, saved_title = self.tabs, self.title
        self.tabs = [tab.clone() for tab in self.tabs]  # work on copies: all or nothing
        try:
            replies = [self._sub_request(n, sub) for n, sub in enumerate(requests_)]
            self._check_size()
        except BaseException:
            self.tabs, self.title = saved_tabs, saved_title
            raise
        answer = {"spreadsheetId": self.spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            answer["updatedSpreadsheet"] = self._metadata(self.tabs)
        return answer

    def _sub_request(self, n: int, sub) -> dict:
        if not isinstance(sub, dict) or len(sub) != 1:
            raise _bad(f"Invalid requests[{n}]: No request set.")
        (name, spec), = sub.items()
        where = f"Invalid requests[{n}].{name}"
        if not isinstance(spec, dict):
            raise _bad(f"{where}: expected an object")
        if name in IGNORED_REQUESTS:
            return {}
        handler = {"addSheet": self._add_sheet, "deleteSheet": self._delete_sheet,
                   "updateSheetProperties": self._update_sheet_properties, "appendDimension": self._append_dimension,
                   "insertDimension": self._insert_dimension, "deleteDimension": self._delete_dimension,
                   "updateSpreadsheetProperties": self._update_spreadsheet_properties,
                   "updateCells": self._update_cells}.get(name)
        if handler is None and name in UNSUPPORTED_REQUESTS:
            raise _bad(f"{where}: the fake Sheets API does not implement {name} (tests/fakes/sheets.py)")
        if handler is None:
            raise _bad(f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[{n}]': "
                       f"Cannot find field.")
        reply = handler(where, spec)
        self._check_size(where=where)  # Google names the request that would pass the limit
        return reply

    def _add_sheet(self, where: str, spec: dict) -> dict:
        properties = spec.get("properties", {})
        title = properties.get("title")
        if not title:
            number = len(self.tabs) + 1
            while self._find(f"Sheet{number}") is not None:
                number += 1
            title = f"Sheet{number}"
        if self._find(title) is not None:
            raise _bad(f'{where}: A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = properties.get("sheetId")
        if sheet_id is None:
            sheet_id = self._new_id()
        elif not isinstance(sheet_id, int) or sheet_id < 0:
            raise _bad(f"{where}: Invalid sheetId: {sheet_id}")
        elif any(tab.sheet_id == sheet_id for tab in self.tabs):
            raise _bad(f"{where}: Sheet with id {sheet_id} already exists.")
        grid = properties.get("gridProperties", {})
        rows, cols = grid.get("rowCount", 1000), grid.get("columnCount", 26)
        if rows < 1 or cols < 1 or cols > MAX_COLUMNS:
            raise _bad(f"{where}: Invalid gridProperties: rowCount {rows}, columnCount {cols}")
        tab = Tab(sheet_id, title, rows, cols, hidden=bool(properties.get("hidden", False)),
                  frozen_rows=grid.get("frozenRowCount", 0), frozen_cols=grid.get("frozenColumnCount", 0))
        index = properties.get("index", len(self.tabs))
        self.tabs.insert(max(0, min(index, len(self.tabs))), tab)
        return {"addSheet": {"properties": tab.properties(self.tabs.index(tab))}}

    def _delete_sheet(self, where: str, spec: dict) -> dict:
        tab = self._by_id(where, spec.get("sheetId"))
        if not any(other is not tab and not other.hidden for other in self.tabs):
            raise _bad(f"{where}: You can't remove all the sheets in a document.")
        self.tabs.remove(tab)
        return {}

    def _update_sheet_properties(self, where: str, spec: dict) -> dict:
        properties = spec.get("properties", {})
        tab = self._by_id(where, properties.get("sheetId"))
        fields = [f.strip().replace("/", ".") for f in spec.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise _bad(f"{where}: At least one field must be specified in 'fields'.")
        grid = properties.get("gridProperties", {})

        def wanted(name: str) -> bool:
            return any(f == "*" or f == name or name.startswith(f + ".") for f in fields)

        if wanted("title"):
            title = properties.get("title", "")
            if not title:
                raise _bad(f"{where}: The sheet name cannot be empty.")
            other = self._find(title)
            if other is not None and other is not tab:
                raise _bad(f'{where}: A sheet with the name "{title}" already exists. Please enter another name.')
            tab.title = title
        if wanted("hidden"):
            tab.hidden = bool(properties.get("hidden", False))
            if not any(not t.hidden for t in self.tabs):
                raise _bad(f"{where}: You can't hide all the sheets in a document.")
        rows = grid.get("rowCount", tab.rows) if wanted("gridProperties.rowCount") else tab.rows
        cols = grid.get("columnCount", tab.cols) if wanted("gridProperties.columnCount") else tab.cols
        if rows < 1 or cols < 1 or cols > MAX_COLUMNS:
            raise _bad(f"{where}: Invalid gridProperties: rowCount {rows}, columnCount {cols}")
        tab.rows, tab.cols = rows, cols
        tab.cells = {k: v for k, v in tab.cells.items() if k[0] <= rows and k[1] <= cols}  # shrinking drops cells
        if wanted("gridProperties.frozenRowCount"):
            tab.frozen_rows = grid.get("frozenRowCount", 0)
        if wanted("gridProperties.frozenColumnCount"):
            tab.frozen_cols = grid.get("frozenColumnCount", 0)
        if wanted("index") and "index" in properties:
            self.tabs.remove(tab)
            self.tabs.insert(max(0, min(properties["index"], len(self.tabs))), tab)
        return {}

    def _update_cells(self, where: str, spec: dict) -> dict:
        """`rows` of `values` with `userEnteredValue` (stringValue, numberValue, boolValue,
        formulaValue) from `start`; only `fields` userEnteredValue (or *) is modelled."""
        fields = [f.strip() for f in spec.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise _bad(f"{where}: At least one field must be specified in 'fields'.")
        if not {"*", "userEnteredValue"} & set(fields):
            raise _bad(f"{where}: the fake Sheets API models only fields userEnteredValue (tests/fakes/sheets.py)")
        if "range" in spec or "start" not in spec:
            raise _bad(f"{where}: the fake Sheets API models only updateCells with a start (tests/fakes/sheets.py)")
        start = spec["start"]
        tab = self._by_id(where, start.get("sheetId"))
        top, left = start.get("rowIndex", 0) + 1, start.get("columnIndex", 0) + 1
        rows = spec.get("rows", [])
        for r, row in enumerate(rows, top):
            for c, cell in enumerate(row.get("values", []), left):
                if r > tab.rows or c > tab.cols:
                    raise self._past_grid(tab, top, left, r, c)
                entered = cell.get("userEnteredValue")
                if entered is None:
                    tab.cells.pop((r, c), None)
                    continue
                (kind, value), = entered.items()
                tab.cells[(r, c)] = Formula(value) if kind == "formulaValue" else value
        return {}

    def _update_spreadsheet_properties(self, where: str, spec: dict) -> dict:
        fields = [f.strip() for f in spec.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise _bad(f"{where}: At least one field must be specified in 'fields'.")
        if ("title" in fields or "*" in fields) and spec.get("properties", {}).get("title"):
            self.title = spec["properties"]["title"]
        return {}

    def _append_dimension(self, where: str, spec: dict) -> dict:
        tab = self._by_id(where, spec.get("sheetId"))
        length = spec.get("length", 0)
        if not isinstance(length, int) or length < 1:
            raise _bad(f"{where}: length must be at least 1")
        dimension = _dimension(where, spec.get("dimension"))
        if dimension == "ROWS":
            tab.rows += length
        else:
            tab.cols += length
        return {}

    def _insert_dimension(self, where: str, spec: dict) -> dict:
        tab, rows, start, end = self._dimension_range(where, spec.get("range", {}), inserting=True)
        gone = end - start
        if rows:
            tab.cells = {((r + gone if r > start else r), c): v for (r, c), v in tab.cells.items()}
            tab.rows += gone
        else:
            tab.cells = {(r, (c + gone if c > start else c)): v for (r, c), v in tab.cells.items()}
            tab.cols += gone
        return {}

    def _delete_dimension(self, where: str, spec: dict) -> dict:
        tab, rows, start, end = self._dimension_range(where, spec.get("range", {}), inserting=False)
        gone = end - start  # 0-based start inclusive, end exclusive -> 1-based rows start+1 .. end
        if rows:
            if gone >= tab.rows:
                raise _bad(f"{where}: You can't delete all the rows on the sheet.")
            tab.cells = {((r - gone if r > end else r), c): v for (r, c), v in tab.cells.items()
                         if not start < r <= end}
            tab.rows -= gone
        else:
            if gone >= tab.cols:
                raise _bad(f"{where}: You can't delete all the columns on the sheet.")
            tab.cells = {(r, (c - gone if c > end else c)): v for (r, c), v in tab.cells.items()
                         if not start < c <= end}
            tab.cols -= gone
        return {}

    def _dimension_range(self, where: str, span: dict, inserting: bool) -> tuple[Tab, bool, int, int]:
        tab = self._by_id(where, span.get("sheetId"))
        rows = _dimension(where, span.get("dimension")) == "ROWS"
        size = tab.rows if rows else tab.cols
        start, end = span.get("startIndex", 0), span.get("endIndex")
        if end is None:
            end = size
        valid = isinstance(start, int) and isinstance(end, int) and 0 <= start < end
        # delete: an existing span; insert: before an existing row/column, or at the end
        if not valid or (start > size if inserting else end > size):
            raise _bad(f"{where}: Invalid dimension range: startIndex {start}, endIndex {end} "
                       f"({'rows' if rows else 'columns'}: {size})")
        return tab, rows, start, end

    # ------------------------------------------------------------------ lookups

    def _range(self, a1: str) -> _Range:
        """A1 notation -> _Range; an unknown tab or a malformed range is 400 "Unable to parse range"."""
        title, cells = _split_a1(a1)
        if title is None:
            tab = next((t for t in self.tabs if not t.hidden), None)
        else:
            tab = self._find(title)
        if tab is None:
            raise _bad(f"Unable to parse range: {a1}")
        if not cells:
            return _Range(tab, 1, 1, tab.rows, tab.cols, "", False)
        start, colon, end = cells.partition(":")
        first, last = _cell(start), _cell(end) if colon else _cell(start)
        if first is None or last is None or (not colon and not (first[0] and first[1])):
            raise _bad(f"Unable to parse range: {a1}")
        top, left = first[0] or 1, first[1] or 1
        bottom, right = last[0] or tab.rows, last[1] or tab.cols
        top, bottom = min(top, bottom), max(top, bottom)
        left, right = min(left, right), max(left, right)
        return _Range(tab, top, left, bottom, right, cells, bool(colon))

    def _find(self, title: str) -> Tab | None:
        folded = title.casefold()
        return next((t for t in self.tabs if t.title.casefold() == folded), None)

    def _tab(self, title: str) -> Tab:
        tab = next((t for t in self.tabs if t.title == title), None) or self._find(title)
        if tab is None:
            raise KeyError(f"no tab {title!r}; tabs: {[t.title for t in self.tabs]}")
        return tab

    def _by_id(self, where: str, sheet_id) -> Tab:
        tab = next((t for t in self.tabs if t.sheet_id == sheet_id), None)
        if tab is None:
            raise _bad(f"{where}: No grid with id: {sheet_id}")
        return tab

    def _new_id(self) -> int:
        if not self._first_id_issued and all(t.sheet_id != 0 for t in self.tabs):
            self._first_id_issued = True
            return 0
        while True:
            candidate = self._random.randrange(1, 2 ** 31)
            if all(t.sheet_id != candidate for t in self.tabs):
                return candidate

    def _check_size(self, more: int = 0, where: str = "") -> None:
        if sum(t.rows * t.cols for t in self.tabs) + more > self.max_cells:
            raise _bad(f"{where + ': ' if where else ''}This action would increase the number of cells in the "
                       f"workbook above the limit of {self.max_cells} cells.")

    def cells(self) -> int:
        """The cells the limit counts: every tab's whole grid (rows x columns), blank or not."""
        with self._lock:
            return sum(t.rows * t.cols for t in self.tabs)


# ---------------------------------------------------------------------- routing

def _route(method: str, parts: list[str]) -> tuple[str, str, str]:
    """(kind, spreadsheet id, A1 range) from the decoded path segments; kind "unknown" if not served."""
    if len(parts) < 3 or parts[0] != "v4" or parts[1] != "spreadsheets":
        return "unknown", "", ""
    spreadsheet, _, verb = parts[2].partition(":")
    if len(parts) == 3:
        kind = {("GET", ""): SPREADSHEETS_GET, ("POST", "batchUpdate"): BATCH_UPDATE}.get((method, verb), "unknown")
        return kind, spreadsheet, ""
    if verb:
        return "unknown", "", ""
    if len(parts) == 4:
        kind = {("GET", "values:batchGet"): VALUES_BATCH_GET, ("POST", "values:batchUpdate"): VALUES_BATCH_UPDATE,
                ("POST", "values:batchClear"): VALUES_BATCH_CLEAR}.get((method, parts[3]), "unknown")
        return kind, spreadsheet, ""
    if len(parts) == 5 and parts[3] == "values":
        a1 = parts[4]
        for suffix, kind in ((":append", VALUES_APPEND), (":clear", VALUES_CLEAR)):
            if a1.endswith(suffix):
                return (kind if method == "POST" else "unknown"), spreadsheet, a1[:-len(suffix)]
        kind = {"GET": VALUES_GET, "PUT": VALUES_UPDATE}.get(method, "unknown")
        return kind, spreadsheet, a1
    return "unknown", "", ""


# ---------------------------------------------------------------------- A1 notation

_CELL = re.compile(r"\$?([A-Za-z]{0,3})\$?(\d*)")
_CELLS_ONLY = re.compile(r"\$?[A-Za-z]{0,3}\$?\d*(:\$?[A-Za-z]{0,3}\$?\d*)?")
_COLUMNS_ONLY = re.compile(r"\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}")
_PLAIN_TITLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOKS_LIKE_CELL = re.compile(r"([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)")


def _split_a1(a1: str) -> tuple[str | None, str]:
    """"'It''s'!A1:B" -> ("It's", "A1:B"); "Tab" -> ("Tab", ""); "A1:B2" -> (None, "A1:B2")."""
    if a1.startswith("'"):
        match = re.fullmatch(r"'((?:[^']|'')*)'(?:!(.*))?", a1, re.S)
        if not match:
            return a1, ""  # unparseable: no tab has this name
        return match.group(1).replace("''", "'"), match.group(2) or ""
    if "!" in a1:
        title, _, cells = a1.partition("!")
        return title, cells
    if (_CELLS_ONLY.fullmatch(a1) and any(ch.isdigit() for ch in a1)) or _COLUMNS_ONLY.fullmatch(a1):
        return None, a1  # a range on the first visible tab
    return a1, ""


def _cell(text: str) -> tuple[int, int] | None:
    """"B3" -> (3, 2); "B" -> (0, 2); "3" -> (3, 0); None if malformed."""
    match = _CELL.fullmatch(text)
    if not match or not (match.group(1) or match.group(2)):
        return None
    col = 0
    for ch in match.group(1).upper():
        col = col * 26 + ord(ch) - 64
    row = int(match.group(2)) if match.group(2) else 0
    if match.group(2) and row < 1:
        return None
    return row, col


def _column_letters(col: int) -> str:
    letters = ""
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cells_a1(top: int, left: int, bottom: int, right: int) -> str:
    start = f"{_column_letters(left)}{top}"
    if (top, left) == (bottom, right):
        return start
    return f"{start}:{_column_letters(right)}{bottom}"


def _escape(title: str) -> str:
    return title.replace("'", "''")


def _quoted(title: str) -> str:
    """The title as the API writes it in a range: bare when plain (Sheet1), quoted otherwise."""
    if _PLAIN_TITLE.fullmatch(title) and not _LOOKS_LIKE_CELL.fullmatch(title) \
            and title.upper() not in ("TRUE", "FALSE"):
        return title
    return f"'{_escape(title)}'"


def _a1(title: str, top: int, left: int, bottom: int, right: int) -> str:
    return f"{_quoted(title)}!{_cells_a1(top, left, max(bottom, top), max(right, left))}"


# ---------------------------------------------------------------------- values

_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?")


def _values(item: dict, where: str) -> list[list]:
    values = item.get("values", [])
    if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
        shown = values if not isinstance(values, list) else next(r for r in values if not isinstance(r, list))
        raise _Reject(400, f"Invalid value at '{where}.values' (type.googleapis.com/google.protobuf.ListValue), "
                           f"\"{shown}\"", "INVALID_ARGUMENT",
                      [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": f"{where}.values",
                                             "description": f"Invalid value at '{where}.values' "
                                                            f"(type.googleapis.com/google.protobuf.ListValue), "
                                                            f"\"{shown}\""}]}])
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            if isinstance(value, (dict, list)):
                raise _bad(f"Invalid values[{r}][{c}]: {'struct_value' if isinstance(value, dict) else 'list_value'} "
                           f"{{{value}}}")
    return values


def _oriented(item: dict, where: str) -> list[list]:
    """The ValueRange's values as rows (a COLUMNS one is transposed)."""
    values = _values(item, where)
    major = item.get("majorDimension")
    if major == "COLUMNS":
        height = max(map(len, values), default=0)
        return [[column[r] if r < len(column) else None for column in values] for r in range(height)]
    if major not in (None, "ROWS", "DIMENSION_UNSPECIFIED"):
        raise _bad(f"Invalid value at '{where}.major_dimension' (type.googleapis.com/"
                   f"google.apps.sheets.v4.Dimension), \"{major}\"")
    return values


def _input_option(option: str) -> str:
    if option not in INPUT_OPTIONS:
        if not option:
            raise _bad("'valueInputOption' is required but not specified")
        raise _bad(f"Invalid value at 'value_input_option' (type.googleapis.com/"
                   f"google.apps.sheets.v4.ValueInputOption), \"{option}\"")
    return option


def _render_options(render: str, major: str) -> tuple[str, str]:
    render, major = render or "FORMATTED_VALUE", major or "ROWS"
    if render not in RENDER_OPTIONS:
        raise _bad(f"Invalid value at 'value_render_option' (type.googleapis.com/"
                   f"google.apps.sheets.v4.ValueRenderOption), \"{render}\"")
    if major not in ("ROWS", "COLUMNS"):
        raise _bad(f"Invalid value at 'major_dimension' (type.googleapis.com/google.apps.sheets.v4.Dimension), "
                   f"\"{major}\"")
    return render, major


def _user_entered(value):
    """A value typed into the UI: formulas, numbers, booleans; a leading apostrophe keeps text."""
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:]
    if value.startswith("=") and len(value) > 1:
        return Formula(value)
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    if text and _NUMBER.fullmatch(text) and any(ch.isdigit() for ch in text):
        number = float(text.replace(",", ""))
        return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number
    return value


def _formatted(value) -> str:
    if isinstance(value, Formula):
        return FORMULA_SHOWN_AS
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(value, ".15g").upper()
    return str(value)


def _rendered(value, render: str):
    if type(value) is str and (render == "FORMATTED_VALUE" or not value):
        return value  # most cells: text shows as itself (the fast way, for tabs of millions of cells)
    if value == "" or render == "FORMATTED_VALUE":
        return _formatted(value) if value != "" else ""
    if isinstance(value, Formula):
        return value.text if render == "FORMULA" else FORMULA_SHOWN_AS
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)  # JSON has one number type: Sheets writes 5, not 5.0
    return value


def _trim(line: list) -> list:
    end = len(line)
    while end and line[end - 1] == "":
        end -= 1
    return line[:end]


def _table(tab: Tab, span: _Range) -> tuple[int, int, int, int] | None:
    """The table values.append finds in `span`: (top, left, bottom, right) or None. See the module doc.

    Like a spreadsheet's "current region": start from a seed block, take every filled cell connected to
    it (diagonals included), then keep adding filled cells that touch the bounding box until none do."""
    filled = tab.cells
    if span.cells and (span.top, span.left) == (span.bottom, span.right):  # one cell: the table starts there
        if (span.top, span.left) not in filled:
            return None  # gspread's insert_row appends at the empty row it inserted, and lands there
        limits = (span.top, span.left, tab.rows, tab.cols)
        top, left, bottom, right = span.top, span.left, span.top, span.left
    else:
        limits = (span.top, span.left, min(span.bottom, tab.rows), min(span.right, tab.cols))
        inside = [k for k in filled if limits[0] <= k[0] <= limits[2] and limits[1] <= k[1] <= limits[3]]
        if not inside:
            return None
        top, left = bottom, right = max(inside)  # the last filled cell in reading order

    def within(key: tuple[int, int]) -> bool:
        return limits[0] <= key[0] <= limits[2] and limits[1] <= key[1] <= limits[3]

    component: set[tuple[int, int]] = set()
    frontier = [(top, left)] if (top, left) in filled else []
    while True:
        stack = [k for k in frontier if k not in component]
        component.update(stack)
        while stack:
            row, col = stack.pop()
            for near in ((row + dr, col + dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
                if near in filled and near not in component and within(near):
                    component.add(near)
                    stack.append(near)
        if component:
            top, bottom = min(r for r, _ in component), max(r for r, _ in component)
            left, right = min(c for _, c in component), max(c for _, c in component)
        frontier = [k for k in filled if k not in component and within(k)
                    and top - 1 <= k[0] <= bottom + 1 and left - 1 <= k[1] <= right + 1]
        if not frontier:
            break
    return (top, left, bottom, right) if component else None


def _dimension(where: str, dimension) -> str:
    if dimension not in ("ROWS", "COLUMNS"):
        raise _bad(f"{where}: dimension must be ROWS or COLUMNS, not {dimension!r}")
    return dimension

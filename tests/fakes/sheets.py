"""A stateful fake of the Sheets API v4 (the endpoints gspread and the bot use), in Google's shapes.

Faithful where the bot could go wrong: ranges are A1 with quoted, percent-encoded titles; values
writes do not grow a tab's grid (appends do); a values.batchUpdate and a spreadsheets.batchUpdate
are all or nothing; RAW stores text as text while USER_ENTERED turns `=...` into a formula; an
empty range has no `values` key; errors come in Google's envelope. Simplified: a formula is stored,
not computed (its formatted value is "#FORMULA"), and the spreadsheet's locale is en_US.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from gspread.utils import a1_to_rowcol, rowcol_to_a1

from .transport import STATUS_NAMES, FakeRequest, google_error

READS = {"spreadsheets.get", "values.get", "values.batchGet"}
KINDS = READS | {"values.update", "values.batchUpdate", "values.append", "values.clear", "values.batchClear",
                 "spreadsheets.batchUpdate"}
FORMULA_SHOWN_AS = "#FORMULA"


class _Refusal(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class SheetsCall:
    kind: str
    method: str
    path: str
    query: dict
    body: object
    at: float
    status: int = 0

    @property
    def write(self) -> bool:
        return self.kind not in READS


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    cells: dict[tuple[int, int], object] = field(default_factory=dict)  # (row, col), 1-based -> value
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)

    def extent(self) -> tuple[int, int]:
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells), max(c for _, c in self.cells)

    def properties(self, index: int) -> dict:
        return {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                "gridProperties": {"rowCount": self.rows, "columnCount": self.cols}}


@dataclass
class _Fault:
    status: int
    count: int
    kind: str | None
    hang: float = 0.0


class FakeSheets:
    def __init__(self, spreadsheet_id: str = "1FakeSpreadsheetId0123456789abcdefghijklmn", title: str = "RCA Bot",
                 *, token: str | None = None, latency: float = 0.0, write_quota_per_minute: int | None = None,
                 read_quota_per_minute: int | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.spreadsheet_id, self.title, self.token = spreadsheet_id, title, token
        self.latency, self.clock, self.sleep = latency, clock, sleep
        self.quota = {"write": write_quota_per_minute, "read": read_quota_per_minute}
        self.tabs: list[Tab] = []
        self.calls: list[SheetsCall] = []
        self._faults: list[_Fault] = []
        self._next_id = 1000
        self._lock = threading.RLock()

    # --- test helpers ----------------------------------------------------------------------------

    def add_tab(self, title: str, rows: list[list] | None = None, row_count: int = 1000, col_count: int = 26) -> int:
        with self._lock:
            tab = Tab(self._new_id(), title, max(row_count, len(rows or [])), col_count)
            for r, row in enumerate(rows or [], 1):
                for c, value in enumerate(row, 1):
                    if value not in ("", None):
                        tab.cells[(r, c)] = value
            self.tabs.append(tab)
            return tab.sheet_id

    def rows(self, title: str) -> list[list[str]]:
        """What a person sees: formatted strings, trailing empty rows and cells left out."""
        with self._lock:
            tab = self._tab(title)
            height, width = tab.extent()
            return [_trim([_formatted(tab, (r, c)) for c in range(1, width + 1)]) for r in range(1, height + 1)]

    def formula(self, title: str, a1: str) -> str | None:
        return self._tab(title).formulas.get(a1_to_rowcol(a1))

    def tab_titles(self) -> list[str]:
        return [tab.title for tab in self.tabs]

    def fail_next(self, status: int = 429, count: int = 1, kind: str | None = None) -> None:
        self._faults.append(_Fault(status, count, _known(kind)))

    def hang_next(self, seconds: float, count: int = 1, kind: str | None = None) -> None:
        self._faults.append(_Fault(0, count, _known(kind), hang=seconds))

    def count(self, kind: str | None = None, status: int | None = None) -> int:
        return sum(1 for c in self.calls if (kind is None or c.kind == kind) and (status is None or c.status == status))

    def reads(self) -> list[SheetsCall]:
        return [c for c in self.calls if not c.write]

    def writes(self) -> list[SheetsCall]:
        return [c for c in self.calls if c.write]

    def peak_writes_per_minute(self) -> int:
        times = sorted(c.at for c in self.writes())
        return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)

    # --- the API -----------------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> tuple[int, dict]:
        parts = request.segments  # v4, spreadsheets, {id}[:verb], ...
        kind, handler = self._route(request.method, parts)
        call = SheetsCall(kind, request.method, request.path, request.query,
                          request.json() if request.body else None, self.clock())
        self.calls.append(call)
        if self.latency:
            self.sleep(self.latency)
        status, payload = self._answer(request, call, handler)
        call.status = status
        return status, payload

    def _answer(self, request: FakeRequest, call: SheetsCall, handler) -> tuple[int, dict]:
        if self.token is not None and request.bearer != self.token:
            return google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        fault = self._take_fault(call.kind)
        if fault and fault.hang:
            self.sleep(fault.hang)
        elif fault:
            return google_error(fault.status, _fault_message(fault.status), STATUS_NAMES.get(fault.status, "UNKNOWN"))
        if handler is None:
            return google_error(404, "Requested entity was not found.", "NOT_FOUND")
        with self._lock:
            refused = self._charge(call)
            if refused:
                return refused
            try:
                return 200, handler(request)
            except _Refusal as exc:
                return google_error(exc.code, str(exc), STATUS_NAMES.get(exc.code, "UNKNOWN"))

    def _route(self, method: str, parts: list[str]):
        if len(parts) < 3 or parts[:2] != ["v4", "spreadsheets"]:
            return "unknown", None
        spreadsheet, _, verb = parts[2].partition(":")
        if spreadsheet != self.spreadsheet_id:
            return "unknown", None
        if len(parts) == 3:
            return {("GET", ""): ("spreadsheets.get", self._get),
                    ("POST", "batchUpdate"): ("spreadsheets.batchUpdate", self._batch_update)}.get(
                (method, verb), ("unknown", None))
        if parts[3] == "values:batchGet" and method == "GET":
            return "values.batchGet", self._values_batch_get
        if parts[3] == "values:batchUpdate" and method == "POST":
            return "values.batchUpdate", self._values_batch_update
        if parts[3] == "values:batchClear" and method == "POST":
            return "values.batchClear", self._values_batch_clear
        if parts[3] == "values" and len(parts) == 5:
            a1, _, action = parts[4].rpartition(":") if parts[4].endswith((":append", ":clear")) else (parts[4], "", "")
            table = {("GET", ""): ("values.get", lambda r: self._values_get(r, a1)),
                     ("PUT", ""): ("values.update", lambda r: self._values_update(r, a1)),
                     ("POST", "append"): ("values.append", lambda r: self._values_append(r, a1)),
                     ("POST", "clear"): ("values.clear", lambda r: self._values_clear(a1))}
            return table.get((method, action), ("unknown", None))
        return "unknown", None

    def _get(self, request: FakeRequest) -> dict:
        return {"spreadsheetId": self.spreadsheet_id,
                "properties": {"title": self.title, "locale": "en_US", "autoRecalc": "ON_CHANGE",
                               "timeZone": "Etc/GMT"},
                "sheets": [{"properties": tab.properties(i)} for i, tab in enumerate(self.tabs)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"}

    def _values_get(self, request: FakeRequest, a1: str) -> dict:
        return self._read(a1, request.param("valueRenderOption", "FORMATTED_VALUE"))

    def _values_batch_get(self, request: FakeRequest) -> dict:
        render = request.param("valueRenderOption", "FORMATTED_VALUE")
        ranges = [self._read(a1, render) for a1 in request.query.get("ranges", [])]
        return {"spreadsheetId": self.spreadsheet_id, "valueRanges": ranges}

    def _values_update(self, request: FakeRequest, a1: str) -> dict:
        option = _input_option(request.param("valueInputOption"))
        body = request.json() or {}
        plan = self._plan_write(a1, body.get("values", []))
        return self._apply_write(plan, option)

    def _values_batch_update(self, request: FakeRequest) -> dict:
        body = request.json() or {}
        option = _input_option(body.get("valueInputOption", ""))
        plans = [self._plan_write(item.get("range", ""), item.get("values", [])) for item in body.get("data", [])]
        responses = [self._apply_write(plan, option) for plan in plans]  # planned first: all or nothing
        return {"spreadsheetId": self.spreadsheet_id,
                "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in responses),
                "totalUpdatedColumns": max((r.get("updatedColumns", 0) for r in responses), default=0),
                "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
                "totalUpdatedSheets": len({plan[0].title for plan in plans}), "responses": responses}

    def _values_append(self, request: FakeRequest, a1: str) -> dict:
        option = _input_option(request.param("valueInputOption"))
        insert = request.param("insertDataOption", "OVERWRITE")
        if insert not in ("OVERWRITE", "INSERT_ROWS"):
            raise _Refusal(400, f"Invalid value at 'insert_data_option' ({insert})")
        tab, (top, left, _, _) = self._range(a1)
        values = (request.json() or {}).get("values", [])
        height, _ = tab.extent()
        table_range = ""
        if height:
            table_range = _a1(tab.title, top, left, height, max(c for _, c in tab.cells))
        first = max(height + 1, top)
        needed = first + len(values) - 1
        if needed > tab.rows:
            tab.rows = needed  # appends add rows
        width = max((len(v) for v in values), default=0)
        tab.cols = max(tab.cols, left + width - 1)
        updated = self._apply_write((tab, first, left, values), option)
        answer = {"spreadsheetId": self.spreadsheet_id, "updates": updated}
        if table_range:
            answer["tableRange"] = table_range
        return answer

    def _values_clear(self, a1: str) -> dict:
        tab, (top, left, bottom, right) = self._range(a1)
        for key in [k for k in tab.cells if top <= k[0] <= bottom and left <= k[1] <= right]:
            tab.cells.pop(key)
            tab.formulas.pop(key, None)
        return {"spreadsheetId": self.spreadsheet_id, "clearedRange": _a1(tab.title, top, left, bottom, right)}

    def _values_batch_clear(self, request: FakeRequest) -> dict:
        ranges = (request.json() or {}).get("ranges", [])
        for a1 in ranges:
            self._range(a1)
        return {"spreadsheetId": self.spreadsheet_id,
                "clearedRanges": [self._values_clear(a1)["clearedRange"] for a1 in ranges]}

    def _batch_update(self, request: FakeRequest) -> dict:
        requests_ = (request.json() or {}).get("requests", [])
        saved = [(tab, tab.rows, tab.cols, dict(tab.cells), dict(tab.formulas)) for tab in self.tabs]
        order = list(self.tabs)
        try:
            replies = [self._sub_request(r) for r in requests_]
        except _Refusal:
            self.tabs = order  # all or nothing
            for tab, rows, cols, cells, formulas in saved:
                tab.rows, tab.cols, tab.cells, tab.formulas = rows, cols, cells, formulas
            raise
        return {"spreadsheetId": self.spreadsheet_id, "replies": replies}

    def _sub_request(self, sub: dict) -> dict:
        (name, spec), = sub.items()
        if name == "addSheet":
            properties = spec.get("properties", {})
            title = properties.get("title") or f"Sheet{len(self.tabs) + 1}"
            if any(tab.title == title for tab in self.tabs):
                raise _Refusal(400, f'Invalid requests[0].addSheet: A sheet with the name "{title}" already '
                                    f"exists. Please enter another name.")
            grid = properties.get("gridProperties", {})
            tab = Tab(properties.get("sheetId", self._new_id()), title, grid.get("rowCount", 1000),
                      grid.get("columnCount", 26))
            self.tabs.append(tab)
            return {"addSheet": {"properties": tab.properties(len(self.tabs) - 1)}}
        if name == "deleteSheet":
            self.tabs.remove(self._by_id(spec.get("sheetId")))
            return {}
        if name == "appendDimension":
            tab = self._by_id(spec.get("sheetId"))
            if spec.get("dimension") == "ROWS":
                tab.rows += int(spec.get("length", 0))
            else:
                tab.cols += int(spec.get("length", 0))
            return {}
        if name == "updateSheetProperties":
            properties = spec.get("properties", {})
            tab = self._by_id(properties.get("sheetId"))
            fields = spec.get("fields", "")
            grid = properties.get("gridProperties", {})
            if "title" in fields and "title" in properties:
                tab.title = properties["title"]
            if "gridProperties.rowCount" in fields and "rowCount" in grid:
                tab.rows = grid["rowCount"]
            if "gridProperties.columnCount" in fields and "columnCount" in grid:
                tab.cols = grid["columnCount"]
            tab.cells = {k: v for k, v in tab.cells.items() if k[0] <= tab.rows and k[1] <= tab.cols}
            return {}
        if name == "deleteDimension":
            span = spec.get("range", {})
            tab = self._by_id(span.get("sheetId"))
            start, end = span.get("startIndex", 0) + 1, span.get("endIndex", 0) + 1  # to 1-based, end exclusive
            gone = end - start
            shift = (lambda r: r) if span.get("dimension") != "ROWS" else None
            if shift is None:
                tab.cells = {(r if r < start else r - gone, c): v for (r, c), v in tab.cells.items()
                             if not start <= r < end}
                tab.rows -= gone
            else:
                tab.cells = {(r, c if c < start else c - gone): v for (r, c), v in tab.cells.items()
                             if not start <= c < end}
                tab.cols -= gone
            return {}
        raise _Refusal(400, f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[0]'")

    # --- ranges and cells ----------------------------------------------------------------------------

    def _range(self, a1: str) -> tuple[Tab, tuple[int, int, int, int]]:
        """A1 notation -> (tab, (top, left, bottom, right)), bounded by the grid."""
        title, _, cells = _split_a1(a1)
        tab = next((t for t in self.tabs if t.title == title), None) if title is not None else \
            (self.tabs[0] if self.tabs else None)
        if tab is None:
            if title is not None and not cells and self.tabs and _is_cells(title):  # 'A1:B2' with no tab
                tab, cells = self.tabs[0], title
            else:
                raise _Refusal(400, f"Unable to parse range: {a1}")
        if not cells:
            return tab, (1, 1, tab.rows, tab.cols)
        bounds = _cell_bounds(cells, tab)
        if bounds is None:
            raise _Refusal(400, f"Unable to parse range: {a1}")
        return tab, bounds

    def _read(self, a1: str, render: str) -> dict:
        tab, (top, left, bottom, right) = self._range(a1)
        rows = []
        for r in range(top, min(bottom, tab.rows) + 1):
            rows.append(_trim([_rendered(tab, (r, c), render) for c in range(left, min(right, tab.cols) + 1)]))
        while rows and not rows[-1]:
            rows.pop()
        answer = {"range": _a1(tab.title, top, left, min(bottom, tab.rows), min(right, tab.cols)),
                  "majorDimension": "ROWS"}
        if rows:
            answer["values"] = rows
        return answer

    def _plan_write(self, a1: str, values: list[list]) -> tuple[Tab, int, int, list[list]]:
        tab, (top, left, bottom, right) = self._range(a1)
        height, width = len(values), max((len(v) for v in values), default=0)
        last_row, last_col = top + height - 1, left + width - 1
        if last_row > tab.rows or last_col > tab.cols:
            raise _Refusal(400, f"Range ('{tab.title}'!{rowcol_to_a1(last_row, last_col)}) exceeds grid limits. "
                                f"Max rows: {tab.rows}, max columns: {tab.cols}")
        explicit_end = ":" in _split_a1(a1)[2]
        if explicit_end and (last_row > bottom or last_col > right):
            raise _Refusal(400, f"Requested writing within range [{a1}], but tried writing to row [{last_row}]")
        return tab, top, left, values

    def _apply_write(self, plan: tuple[Tab, int, int, list[list]], option: str) -> dict:
        tab, top, left, values = plan
        cells = 0
        for r, row in enumerate(values, top):
            for c, value in enumerate(row, left):
                cells += 1
                key = (r, c)
                tab.formulas.pop(key, None)
                if value is None or value == "":
                    tab.cells.pop(key, None)
                    continue
                if option == "USER_ENTERED" and isinstance(value, str):
                    value = _user_entered(tab, key, value)
                tab.cells[key] = value
        width = max((len(v) for v in values), default=0)
        return {"spreadsheetId": self.spreadsheet_id,
                "updatedRange": _a1(tab.title, top, left, top + max(len(values), 1) - 1, left + max(width, 1) - 1),
                "updatedRows": len(values), "updatedColumns": width, "updatedCells": cells}

    # --- bookkeeping -------------------------------------------------------------------------------

    def _tab(self, title: str) -> Tab:
        tab = next((t for t in self.tabs if t.title == title), None)
        if tab is None:
            raise KeyError(f"no tab {title!r}; tabs: {self.tab_titles()}")
        return tab

    def _by_id(self, sheet_id) -> Tab:
        tab = next((t for t in self.tabs if t.sheet_id == sheet_id), None)
        if tab is None:
            raise _Refusal(400, f"No grid with id: {sheet_id}")
        return tab

    def _new_id(self) -> int:
        self._next_id += 7919
        return self._next_id

    def _take_fault(self, kind: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind in (None, kind):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _charge(self, call: SheetsCall) -> tuple[int, dict] | None:
        bucket = "write" if call.write else "read"
        limit = self.quota[bucket]
        if limit is None:
            return None
        recent = [c for c in self.calls[:-1] if c.write == call.write and c.status == 200 and c.at > call.at - 60]
        if len(recent) >= limit:
            metric = "Write requests" if call.write else "Read requests"
            return google_error(429, f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute "
                                     f"per user' of service 'sheets.googleapis.com'.", "RESOURCE_EXHAUSTED")
        return None


# --- A1 helpers --------------------------------------------------------------------------------------

def _split_a1(a1: str) -> tuple[str | None, str, str]:
    """'It''s'!A1:B -> ("It's", "!", "A1:B"); Tab -> ("Tab", "", "")."""
    if a1.startswith("'"):
        match = re.match(r"'((?:[^']|'')*)'(?:!(.*))?$", a1)
        if not match:
            return a1, "", ""
        return match.group(1).replace("''", "'"), "!", match.group(2) or ""
    title, bang, cells = a1.partition("!")
    return title, bang, cells


def _is_cells(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]*\d*(:[A-Z]*\d*)?", text)) and any(ch.isdigit() for ch in text)


def _cell_bounds(cells: str, tab: Tab) -> tuple[int, int, int, int] | None:
    start, _, end = cells.partition(":")
    first, last = _cell(start), _cell(end or start)
    if first is None or last is None:
        return None
    top, left = first[0] or 1, first[1] or 1
    bottom = last[0] or tab.rows
    right = last[1] or tab.cols
    return top, left, bottom, right


def _cell(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"\$?([A-Z]*)\$?(\d*)", text.upper())
    if not match or not (match.group(1) or match.group(2)):
        return None
    col = 0
    for ch in match.group(1):
        col = col * 26 + ord(ch) - 64
    return int(match.group(2) or 0), col


def _a1(title: str, top: int, left: int, bottom: int, right: int) -> str:
    quoted = title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) else "'" + title.replace("'", "''") + "'"
    return f"{quoted}!{rowcol_to_a1(top, left)}:{rowcol_to_a1(max(bottom, top), max(right, left))}"


def _input_option(option: str) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise _Refusal(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED" if not option
                       else f"Invalid value at 'value_input_option' ({option})")
    return option


def _user_entered(tab: Tab, key: tuple[int, int], text: str):
    if text.startswith("'"):
        return text[1:]
    if text.startswith("="):
        tab.formulas[key] = text
        return FORMULA_SHOWN_AS
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return {"TRUE": True, "FALSE": False}.get(text.upper(), text)
    return int(number) if number.is_integer() else number


def _formatted(tab: Tab, key: tuple[int, int]) -> str:
    value = tab.cells.get(key, "")
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rendered(tab: Tab, key: tuple[int, int], render: str):
    if render == "FORMULA" and key in tab.formulas:
        return tab.formulas[key]
    if render == "UNFORMATTED_VALUE":
        return tab.cells.get(key, "")
    return _formatted(tab, key)


def _trim(row: list) -> list:
    while row and row[-1] == "":
        row = row[:-1]
    return row


def _known(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {sorted(KINDS)}")
    return kind


def _fault_message(status: int) -> str:
    return {429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' "
                 "of service 'sheets.googleapis.com'.",
            500: "Internal error encountered.", 503: "The service is currently unavailable."}.get(status, "Error")

"""Spreadsheet access: one interface, two implementations (a CSV folder, Google Sheets).

Every cell is a string both ways. Tabs are addressed by name; the header row is row 1.
The bot writes only its own tabs (StateManagement, TicketState, ManagerState, Tracker).
"""
from __future__ import annotations

from typing import Callable, Mapping, Optional, Protocol, Sequence

Rows = list[list[str]]
# Says of a row whether it is older than the rows wanted (True), not (False), or cannot tell (None).
Older = Callable[[Sequence[str]], Optional[bool]]
# The rows read back so far (oldest first) -> how many more it will take to meet an older one (a
# guess; None: no idea), so that a long tail is read in a request or two, not in doubling chunks.
Reach = Callable[[Sequence[Sequence[str]]], Optional[int]]


def begins_older(rows: Sequence[Sequence[str]], older: Older) -> bool:
    """Whether the first of `rows` that `older` can judge is older (rows it cannot are passed):
    where `recent_rows` stops reading back."""
    return next((verdict for verdict in map(older, rows) if verdict is not None), False)


class WorkbookError(Exception):
    """The workbook could not be read or written; the message says which tab and why.
    `transient`: the spreadsheet was throttling or failing, and trying later may help."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


class SpreadsheetFull(WorkbookError):
    """Google refused to grow a grid: the spreadsheet would pass its limit of cells (10 million,
    counting every tab's whole grid). The message says what ops can do."""


class TabNotFound(WorkbookError):
    def __init__(self, tab: str):
        super().__init__(f"tab {tab!r} is missing from the workbook")
        self.tab = tab


class TabDamaged(WorkbookError):
    """A tab's content is not all there or is not text (a CSV file a save left half-written, or
    not UTF-8). `where` names the cell or row; `rows` is what could be read before the damage."""

    def __init__(self, tab: str, where: str, why: str, rows: Rows):
        super().__init__(f"{tab} {where}: {why}")
        self.tab, self.rows = tab, rows


class Workbook(Protocol):
    rows_in_place: bool  # `write` takes `update` (rows by number); False: tabs are written whole
    grid_growths: int  # requests that grew a grid before a write, so far (a write request the caller did not pace)

    def grows_soon(self, tabs: Sequence[str]) -> bool:
        """Whether a write to `tabs` may first have to grow a grid (a request more to pace)."""

    def read_tabs(self, names: Sequence[str], strict: bool = False) -> dict[str, Rows]:
        """Each tab's rows, header first, as strings. Raises TabNotFound for a missing tab.

        `strict` (the ops tabs): a tab that looks cut short or is not text raises TabDamaged.
        Otherwise (the bot's own tabs, which it rewrites) it is read as well as it can be."""

    def prefetch(self, whole: Sequence[str], firsts: Sequence[str], tail: str = "") -> None:
        """Read ahead, in one request where that saves requests (Sheets), what start-up asks for
        next: the tabs `whole`, the header rows of `firsts`, the first chunk of `recent_rows(tail)`."""

    def tab_names(self) -> set[str]:
        """The names of the tabs the workbook has now (one metadata read in Google mode): the
        optional tabs are read only when ops have added them."""

    def ensure_tabs(self, headers: Mapping[str, Sequence[str]]) -> list[str]:
        """Create each missing tab with its header row, and rewrite a header row that differs.

        Returns the names of the tabs created or repaired. Rows below the header are kept.
        """

    def replace_tabs(self, tabs: Mapping[str, Sequence[Sequence[str]]]) -> None:
        """Replace the whole content of bot-owned tabs (header row included), all in one go.
        Raises TabNotFound for a tab that is missing (`ensure_tabs` makes tabs, writes do not)."""

    def append_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        """Add rows after the tab's last row (the Tracker). Raises TabNotFound for a missing tab."""

    def write(self, replace: Mapping[str, Sequence[Sequence[str]]],
              append: Mapping[str, Sequence[Sequence[str]]],
              update: Mapping[str, Mapping[int, Sequence[str]]] | None = None) -> None:
        """`replace_tabs(replace)`, `append_rows` for each of `append`, and each of `update`'s rows
        written over the row of that number (the header is row 1; [] blanks it), in one request
        where the backend allows it (a flush: the state tabs that changed, the TicketState rows
        that changed, the waiting Tracker rows). Raises TabNotFound for a missing tab."""

    def add_rows(self, tab: str, rows: Sequence[Sequence[str]]) -> None:
        """Add rows at the end of a tab ops edit too (Away): wherever its end is now, never at a
        row number read earlier, which an edit since may have filled. A retry may add a row twice;
        the tabs written this way read a repeated row as one. Raises TabNotFound for a missing tab."""

    def last_rows(self, tab: str, count: int) -> Rows:
        """The tab's last `count` rows below the header (fewer if it has fewer), trailing blanks trimmed."""

    def recent_rows(self, tab: str, older: Older, reach: Reach | None = None) -> Rows:
        """A tail of the tab's rows below the header (blank rows left out, trailing blanks trimmed),
        read back from the end in chunks, without reading the whole tab: it stops at the first
        chunk whose first row `older` can judge is older. For a tab appended in time order (the
        Tracker), that tail holds every row newer than the first older row met; the caller drops
        the older ones it holds. Raises TabNotFound for a missing tab."""

    def row_count(self, tab: str) -> int:
        """How many rows the tab holds below its header, without reading them all: known from the
        last read or write where it can be (the Tracker's size, checked at each flush)."""

    def roll_over(self, tab: str, archive: str, header: Sequence[str]) -> None:
        """Rename `tab` to `archive` and make a new `tab` holding only `header`: all of it or none
        of it (Google: one batchUpdate; a CSV folder: a rename, then the new file, which a start-up
        or flush makes again if a crash came between). Raises TabNotFound for a missing `tab`,
        WorkbookError when a tab named `archive` exists."""

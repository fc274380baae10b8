"""Small-cell suppression of a table of counts with its totals (LOG-3).

Counts from 1 to 10 are hidden (primary suppression). Every row and column of the table with its
totals is a sum a reader can solve, so hidden entries need company (complementary suppression):
each line hides none or at least two entries, and each small count lies on a cycle of hidden
entries (rows and columns as the two sides of a graph, hidden entries as its edges), since a
hidden entry that is a bridge of that graph can be worked out from the sums around it.
"""

from collections import deque
from dataclasses import dataclass, field

SMALLEST_SHOWN = 11


def is_small(count: int) -> bool:
    """Counts of one to ten people are never shown; zero may be."""
    return 0 < count < SMALLEST_SHOWN


@dataclass
class Table:
    """Counts by row and column, with the row, column and grand totals as a last row and column.

    `hidden` holds (row, column) positions in the extended table; totals are at index len(rows)
    and len(columns).
    """

    rows: list[str]
    columns: list[str]
    counts: list[list[int]]
    hidden: set[tuple[int, int]] = field(default_factory=set)
    primary: set[tuple[int, int]] = field(default_factory=set)

    @property
    def extended(self) -> list[list[int]]:
        body = [list(row) + [sum(row)] for row in self.counts]
        totals = [sum(row[c] for row in body) for c in range(len(self.columns) + 1)]
        return body + [totals]

    def cell(self, row: int, column: int) -> int | None:
        """The count to show, or None where it is hidden."""
        return None if (row, column) in self.hidden else self.extended[row][column]


def suppress(rows: list[str], columns: list[str], counts: list[list[int]], *, also=()) -> Table:
    """The table with small counts and what would give them away hidden.

    `also` names further interior cells to hide first (for example, where the complement of a
    count, the people in a cell without the measured trait, is small).
    """
    if not rows or not columns:
        raise ValueError("a table needs at least one row and one column")
    table = Table(rows, columns, [list(row) for row in counts])
    values = table.extended
    height, width = len(rows) + 1, len(columns) + 1
    table.primary = {
        (r, c) for r in range(height) for c in range(width) if is_small(values[r][c])
    } | set(also)
    table.hidden = set(table.primary)

    lines = [[(r, c) for c in range(width)] for r in range(height)]
    lines += [[(r, c) for r in range(height)] for c in range(width)]
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                hidden = [position for position in line if position in table.hidden]
                if len(hidden) == 1:
                    table.hidden.add(_complement(line, table.hidden, values, height, width))
                    changed = True
        exposed = [p for p in sorted(table.primary) if not on_a_cycle(p, table.hidden)]
        if not exposed:
            return table
        table.hidden |= _cheapest_rectangle(exposed[0], table.hidden, values, height, width)


def on_a_cycle(position: tuple[int, int], hidden: set[tuple[int, int]]) -> bool:
    """Whether the row and column of this hidden entry are joined by other hidden entries."""
    row, column = position
    edges = hidden - {position}
    seen, queue = {("row", row)}, deque([("row", row)])
    while queue:
        side, index = queue.popleft()
        if (side, index) == ("column", column):
            return True
        for r, c in edges:
            if side == "row" and r == index and ("column", c) not in seen:
                seen.add(("column", c))
                queue.append(("column", c))
            elif side == "column" and c == index and ("row", r) not in seen:
                seen.add(("row", r))
                queue.append(("row", r))
    return False


def _cheapest_rectangle(position, hidden, values, height, width) -> set[tuple[int, int]]:
    """Three entries that close a rectangle through this one, hiding the fewest people."""
    row, column = position
    best, best_cost = None, None
    for other_row in range(height):
        for other_column in range(width):
            if other_row == row or other_column == column:
                continue
            corners = {(row, other_column), (other_row, column), (other_row, other_column)}
            cost = sum(values[r][c] for r, c in corners - hidden)
            if best_cost is None or cost < best_cost:
                best, best_cost = corners, cost
    return best


def _complement(line, hidden, values, height, width) -> tuple[int, int]:
    """The entry to hide beside a lone hidden one: the smallest interior count above zero, else an
    interior zero, else a total (hiding the least information that still protects the cell)."""
    shown = [position for position in line if position not in hidden]

    def interior(position):
        return position[0] < height - 1 and position[1] < width - 1

    for candidates in (
        [p for p in shown if interior(p) and values[p[0]][p[1]] > 0],
        [p for p in shown if interior(p)],
        shown,
    ):
        if candidates:
            return min(candidates, key=lambda p: (values[p[0]][p[1]], p))
    raise AssertionError("a line with one hidden entry has no other entry")  # pragma: no cover

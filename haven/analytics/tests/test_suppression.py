"""Small groups and whatever would reveal them stay hidden, in any table (LOG-3)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.analytics.suppression import is_small, on_a_cycle, suppress


def solved_by_differences(table) -> set[tuple[int, int]]:
    """What a reader works out from the shown figures by solving each line with one unknown."""
    values = table.extended
    height, width = len(values), len(values[0])
    unknown = set(table.hidden)
    solved = set()
    progress = True
    while progress:
        progress = False
        lines = [[(r, c) for c in range(width)] for r in range(height)]
        lines += [[(r, c) for r in range(height)] for c in range(width)]
        for line in lines:
            missing = [position for position in line if position in unknown]
            if len(missing) == 1:
                unknown.discard(missing[0])
                solved.add(missing[0])
                progress = True
    return solved


tables = st.integers(1, 4).flatmap(
    lambda height: st.integers(1, 4).flatmap(
        lambda width: st.lists(
            st.lists(st.integers(0, 60), min_size=width, max_size=width),
            min_size=height,
            max_size=height,
        )
    )
)


@pytest.mark.promise("LOG-3")
@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_small_count_is_shown_or_can_be_worked_out_from_the_totals(counts):
    rows = [f"r{n}" for n in range(len(counts))]
    columns = [f"c{n}" for n in range(len(counts[0]))]
    table = suppress(rows, columns, counts)
    values = table.extended
    for r, line in enumerate(values):
        for c, count in enumerate(line):
            shown = table.cell(r, c)
            assert shown is None or not is_small(shown)
            if is_small(count):
                assert (r, c) in table.hidden
    assert not solved_by_differences(table) & table.primary
    for position in table.primary:
        assert on_a_cycle(position, table.hidden), position


@pytest.mark.promise("LOG-3")
def test_a_lone_small_cell_takes_a_neighbour_in_its_row_and_column_with_it():
    table = suppress(["18-34", "35-49"], ["CT", "NY"], [[5, 40], [30, 50]])
    assert table.primary == {(0, 0)}
    # Its row total, 45, and its column total, 35, would give 5 back: a rectangle hides with it.
    assert {(0, 0), (0, 1), (1, 0), (1, 1)} <= table.hidden
    assert table.cell(2, 2) == 125
    assert table.cell(0, 2) == 45
    assert table.cell(2, 0) == 35


@pytest.mark.promise("LOG-3")
def test_zero_may_show_and_large_tables_keep_most_figures():
    counts = [[0, 120, 300], [80, 95, 410], [60, 0, 7]]
    table = suppress(["a", "b", "c"], ["x", "y", "z"], counts)
    assert table.cell(0, 0) == 0
    assert table.cell(2, 2) is None
    assert len(table.hidden) <= 6


def test_an_empty_table_is_refused():
    with pytest.raises(ValueError):
        suppress([], ["x"], [])

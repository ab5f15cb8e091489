"""Progress bars are drawn on terminals only."""

from io import StringIO

from fwsiem.progress import hide_progress


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_bars_show_on_a_terminal_and_hide_in_files_and_at_verbosity_0():
    assert hide_progress(Terminal(), 1) is False
    assert hide_progress(Terminal(), 0) is True
    assert hide_progress(StringIO(), 1) is True
    assert hide_progress(object(), 2) is True

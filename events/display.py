"""Showing text that came from the network without letting it act.

Interface names, rule labels, host names and raw lines are chosen by
whoever sends the packets or the log. Django's templates escape HTML, but
control characters and Unicode bidi overrides (U+202E and friends) would
still reorder or hide what the reader sees, so they are shown as escapes.
"""

import logging

logger = logging.getLogger(__name__)


def visible(text: str) -> str:
    """Return ``text`` with every non-printable character as an escape.

    Control characters, format characters (bidi overrides and isolates,
    zero-width joiners, the BOM), separators other than the space, and
    unassigned code points become ``\\x1b``- or ``\\u202e``-style escapes.
    The result still needs HTML escaping, which templates and
    ``format_html`` do.
    """
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " else repr(char)[1:-1] for char in text
    )

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


def visible_bytes(raw: bytes) -> str:
    """Return raw bytes as text in which every byte can be told apart.

    Valid UTF-8 shows as itself; each invalid byte as ``\\xff``; control
    and format characters as in ``visible``. A backslash of the input is
    doubled, so a NUL byte (shown ``\\x00``) never looks like the four
    characters ``\\x00`` someone typed. Needs HTML escaping like ``visible``.
    """
    text = raw.decode("utf-8", "surrogateescape").replace("\\", "\\\\")
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() or char == " " else _escape(char) for char in text
    )


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # A byte that is not UTF-8, as surrogateescape carried it.
        return f"\\x{code - 0xDC00:02x}"
    return repr(char)[1:-1]

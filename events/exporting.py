"""Exports of events to spreadsheets and files, and their safety.

Event text comes from the network: an attacker chooses interface names,
rule labels and other fields that end up in exported cells. A spreadsheet
program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and some also after a leading tab, CR or NUL), so every exported
text cell passes through ``escape_formula`` first.
"""

import logging

logger = logging.getLogger(__name__)

# Characters that make a spreadsheet read a cell as a formula (or strip
# themselves and let the next character do so).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def escape_formula(value):
    """Return ``value`` safe to put into a spreadsheet or CSV cell.

    Text starting with a formula trigger gets a leading apostrophe, which
    spreadsheet programs show as text and do not evaluate. Anything that is
    not a ``str`` (numbers, dates, None, booleans) is returned unchanged, so
    numeric cells stay numeric.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value

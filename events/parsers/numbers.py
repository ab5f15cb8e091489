"""Read the unsigned 16-bit numbers of log lines (ports, lengths, TTLs).

``U16`` maps the text of every number from 0 to 65535, written without
leading zeros, to its value: one dictionary lookup reads and range-checks
a column several times faster than ``str.isdigit`` and ``int()``. Text it
does not hold (leading zeros, larger values, signs, blanks, non-ASCII
digits) is left to the caller's slower reading, which reports or accepts
it as before.
"""

U16: dict[str, int] = {str(number): number for number in range(65536)}

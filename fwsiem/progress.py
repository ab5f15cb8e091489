"""When the long-running commands draw a progress bar."""


def hide_progress(stream, verbosity: int) -> bool:
    """Say whether to hide a progress bar on ``stream``.

    A bar redraws itself with control characters, which only a terminal
    understands; written to a file, a pipe or a service's log it leaves
    debris. It is hidden there, and at verbosity 0.
    """
    isatty = getattr(stream, "isatty", None)
    return verbosity < 1 or isatty is None or not isatty()


def progress_file(stream):
    """Return the file a bar is drawn on, given a command's ``stderr``.

    Django wraps a command's error stream to colour what is written to it
    red on a terminal; a bar is drawn on the wrapped file itself, in the
    terminal's own colours.
    """
    return getattr(stream, "_out", stream)

"""When the long-running commands draw a progress bar."""


def hide_progress(stream, verbosity: int) -> bool:
    """Say whether to hide a progress bar on ``stream``.

    A bar redraws itself with control characters, which only a terminal
    understands; written to a file, a pipe or a service's log it leaves
    debris. It is hidden there, and at verbosity 0.
    """
    isatty = getattr(stream, "isatty", None)
    return verbosity < 1 or isatty is None or not isatty()

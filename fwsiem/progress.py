"""When and where the long-running commands draw a progress bar."""

from tqdm import tqdm


def hide_progress(stream, verbosity: int) -> bool:
    """Say whether to hide a progress bar on ``stream``.

    A bar redraws itself with control characters, which only a terminal
    understands; written to a file, a pipe or a service's log it leaves
    debris. It is hidden there, and at verbosity 0.
    """
    isatty = getattr(stream, "isatty", None)
    return verbosity < 1 or isatty is None or not isatty()


def progress_bar(stream, verbosity: int, **options) -> tqdm:
    """Return a tqdm bar for a command whose error stream is ``stream``.

    Hidden where ``hide_progress`` says so. Django wraps a command's error
    stream to colour what is written to it red on a terminal; the bar is
    drawn on the wrapped file itself, in the terminal's own colours.
    """
    return tqdm(
        disable=hide_progress(stream, verbosity),
        file=getattr(stream, "_out", stream),
        **options,
    )

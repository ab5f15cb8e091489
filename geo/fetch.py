"""Read a registry file from an HTTPS URL or a local path, with limits.

A download is accepted only whole: status 200, not an HTML page, no more
bytes than the cap, exactly Content-Length bytes when the server sent one.
TLS certificates are verified (urllib's default context).
"""

import http.client
import logging
import urllib.error
import urllib.request
from pathlib import Path

logger = logging.getLogger(__name__)

USER_AGENT = "fwsiem-geo/1"
READ_CHUNK = 1 << 16


class FetchError(Exception):
    """A file that could not be read whole; ``reason`` is one short word.

    Reasons: ``missing`` (404 or no such file), ``http`` (another status),
    ``network``, ``truncated``, ``too-large``, ``html``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def is_url(location: str) -> bool:
    return location.startswith(("https://", "http://"))


def join_location(base: str, name: str) -> str:
    """Return ``name`` inside ``base``, a directory or a URL prefix."""
    if is_url(base):
        return base.rstrip("/") + "/" + name
    return str(Path(base) / name)


def fetch(location: str, *, max_bytes: int, timeout: float) -> bytes:
    """Return the bytes at ``location`` (URL or path); raise FetchError."""
    if is_url(location):
        return _download(location, max_bytes=max_bytes, timeout=timeout)
    return _read_file(Path(location), max_bytes=max_bytes)


def _read_file(path: Path, *, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise FetchError("too-large", f"{path.name}: {size} bytes, cap {max_bytes}")
        return path.read_bytes()
    except FileNotFoundError:
        raise FetchError("missing", f"no file {path}") from None
    except IsADirectoryError:
        raise FetchError("missing", f"{path} is a directory") from None
    except OSError as error:
        raise FetchError("missing", f"cannot read {path}: {error.strerror}") from None


def _download(url: str, *, max_bytes: int, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _read_response(url, response, max_bytes)
    except urllib.error.HTTPError as error:
        reason = "missing" if error.code == 404 else "http"
        raise FetchError(reason, f"{url}: HTTP {error.code}") from None
    except http.client.IncompleteRead as error:
        raise FetchError(
            "truncated", f"{url}: connection closed after {len(error.partial)} bytes"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        detail = getattr(error, "reason", None) or error
        raise FetchError("network", f"{url}: {detail}") from None


def _read_response(url: str, response, max_bytes: int) -> bytes:
    if response.status != 200:
        raise FetchError("http", f"{url}: HTTP {response.status}")

    content_type = response.headers.get("Content-Type", "")
    if "html" in content_type.lower():
        raise FetchError("html", f"{url}: served as {content_type[:60]!r}")

    declared = response.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too-large", f"{url}: {declared} bytes, cap {max_bytes}")

    chunks = []
    received = 0
    while chunk := response.read(READ_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise FetchError("too-large", f"{url}: more than {max_bytes} bytes")
        chunks.append(chunk)

    if declared is not None and declared.isdigit() and received != int(declared):
        raise FetchError(
            "truncated", f"{url}: {received} of {declared} announced bytes"
        )
    return b"".join(chunks)

"""Split a syslog TCP byte stream into messages (RFC 6587).

Framing is detected per frame, because one connection may mix both kinds:
a frame that starts with a non-zero digit, runs of digits, one space and
then ``<`` is octet-counted (RFC 6587 section 3.4.1); anything else is
non-transparent framing ended by LF, with a CR before it or NUL trailers
removed (section 3.4.2). The ``<`` check keeps messages that merely begin
with digits (``2024/06/30 ...``, a header-less ``4,,,...`` CSV line) from
being read as a length prefix.
"""

import re

OCTET_PREFIX = re.compile(rb"([1-9][0-9]{0,9}) <")
UNDECIDED_PREFIX = re.compile(rb"[1-9][0-9]{0,9} ?")
MAX_DIGITS = 10


class FramingError(Exception):
    """The stream cannot be framed any further; close the connection."""


class StreamDeframer:
    """Turn arbitrary chunks of a stream into whole messages.

    ``feed`` returns the messages completed by the chunk. A message longer
    than ``max_bytes`` under LF framing is cut to ``max_bytes`` and
    returned in ``truncated`` (the rest up to the next LF is skipped); an
    octet count above ``max_bytes`` ends the framing, since the stream
    cannot be trusted to resynchronise after it: ``feed`` still returns the
    messages before it, and sets ``error``. The bad frame and what follows
    stay in ``buffer``; later feeds return nothing.
    """

    def __init__(self, max_bytes: int = 65_536) -> None:
        self.max_bytes = max_bytes
        self.buffer = bytearray()
        self.skipping = False
        self.truncated: list[bytes] = []
        self.error: FramingError | None = None

    def feed(self, chunk: bytes) -> list[bytes]:
        self.buffer += chunk
        messages: list[bytes] = []
        while self.buffer and self.error is None:
            try:
                message = self._next_frame()
            except FramingError as error:
                self.error = error
                break
            if message is None:
                break
            if message:
                messages.append(message)
        return messages

    def finish(self) -> list[bytes]:
        """Return what is left when the peer closes: a frame without LF."""
        rest = bytes(self.buffer).rstrip(b"\x00\r\n")
        self.buffer.clear()
        if self.skipping or self.error is not None or not rest:
            return []
        return [rest]

    def _next_frame(self) -> bytes | None:
        """Cut one frame off the buffer; None means "wait for more bytes"."""
        if self.skipping:
            return self._skip_rest_of_line()

        first = self.buffer[0]
        if 0x31 <= first <= 0x39:
            counted = self._octet_counted()
            if counted is not False:
                return counted
        return self._line()

    def _octet_counted(self) -> bytes | None | bool:
        """Return a counted frame, None to wait, or False if not counted."""
        head = bytes(self.buffer[: MAX_DIGITS + 2])
        match = OCTET_PREFIX.match(head)
        if match is None:
            # Only digits, perhaps a space, so far: cannot tell yet.
            return None if UNDECIDED_PREFIX.fullmatch(head) else False

        length = int(match.group(1))
        if length > self.max_bytes:
            raise FramingError(f"octet count {length} exceeds {self.max_bytes}")
        start = match.end() - 1
        if len(self.buffer) < start + length:
            return None

        message = bytes(self.buffer[start : start + length])
        del self.buffer[: start + length]
        return message.rstrip(b"\x00\r\n")

    def _line(self) -> bytes | None:
        end = self._terminator()
        if end == -1:
            if len(self.buffer) > self.max_bytes:
                self.truncated.append(bytes(self.buffer[: self.max_bytes]))
                self.buffer.clear()
                self.skipping = True
            return None

        message = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        if len(message) > self.max_bytes:
            self.truncated.append(message[: self.max_bytes])
            return b""
        return message.rstrip(b"\r")

    def _terminator(self) -> int:
        """Return the index of the first LF or NUL, or -1.

        Some senders end frames with NUL instead of LF; others put NUL
        before LF. Both end the frame, and the empty frame left between a
        NUL and its LF is skipped.
        """
        lf = self.buffer.find(b"\n")
        nul = self.buffer.find(b"\x00", 0, lf if lf != -1 else len(self.buffer))
        return nul if nul != -1 else lf

    def _skip_rest_of_line(self) -> bytes | None:
        end = self._terminator()
        if end == -1:
            self.buffer.clear()
            return None
        del self.buffer[: end + 1]
        self.skipping = False
        return b""

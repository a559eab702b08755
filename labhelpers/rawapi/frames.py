"""The stream framing of ``/logs`` and ``/attach``: stdout and stderr on one connection.

Without a TTY, the engine sends a container's output as frames, each behind an
8-byte header::

    [stream, 0, 0, 0, size (4 bytes, big endian)] + size bytes of payload

``stream`` is 0 (stdin), 1 (stdout) or 2 (stderr). With a TTY there are no
frames at all: the bytes are the terminal's, stdout and stderr mixed.

A read from a socket ends anywhere, in the middle of a header or of a payload:
:class:`FrameDecoder` keeps what it cannot decode yet until the next read.

>>> d = FrameDecoder()
>>> d.feed(b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x03hi\\n\\x02\\x00\\x00")
[Frame(stream=1, data=b'hi\\n')]
>>> d.feed(b"\\x00\\x00\\x00\\x00\\x04oops")
[Frame(stream=2, data=b'oops')]

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import struct
from typing import Iterable, Iterator, NamedTuple

from ..errors import FramingError

STDIN, STDOUT, STDERR = 0, 1, 2
NAMES = {STDIN: "stdin", STDOUT: "stdout", STDERR: "stderr"}
HEADER = struct.Struct(">BxxxL")


class Frame(NamedTuple):
    """One frame: which stream, and its bytes."""

    stream: int
    data: bytes

    @property
    def name(self) -> str:
        """``"stdout"``, ``"stderr"`` or ``"stdin"``.

        >>> Frame(2, b"x").name
        'stderr'
        """
        return NAMES[self.stream]


def parse_header(header: bytes) -> tuple[int, int]:
    """Split an 8-byte frame header into (stream, size).

    Args:
        header: the 8 bytes.

    Returns:
        ``(stream, size)``: 0, 1 or 2, and the payload's length.

    Raises:
        FramingError: the first byte names no stream (a TTY's bytes are no frames).

    Args:
        header: the 8 bytes: stream (1 byte), 3 zero bytes, size (4 bytes, big-endian).

    Returns:
        ``(stream, size)``: 0 stdin, 1 stdout, 2 stderr; the payload's length.

    Raises:
        FramingError: the bytes are not a frame header (a TTY stream has none).

    >>> parse_header(b"\\x02\\x00\\x00\\x00\\x00\\x00\\x01\\x00")
    (2, 256)

    Introduced in ``02-docker-engine-api``.
    """
    stream, size = HEADER.unpack(header)
    if stream not in NAMES:
        raise FramingError(f"Not a frame header: {header!r} (a TTY stream has no frames).",
                           "read a container started with tty=True as raw bytes (split(..., tty=True))")
    return stream, size


class FrameDecoder:
    """Decode a multiplexed stream fed in pieces of any size.

    Args:
        tty: the container has a TTY: no framing, every byte is stdout.

    >>> d = FrameDecoder()
    >>> d.feed(b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x02h")   # half a frame: nothing yet
    []
    >>> d.feed(b"i")
    [Frame(stream=1, data=b'hi')]

    Introduced in ``02-docker-engine-api``.
    """

    def __init__(self, tty: bool = False):
        self.tty = tty
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        """Add the bytes of one read; return the frames now complete.

        Args:
            data: the bytes of one read, cut anywhere.

        Returns:
            The frames completed by them (none, one or several).

        Raises:
            FramingError: the bytes are not a multiplexed stream.

        Args:
            data: the bytes of one read, however they fall between frames.

        Returns:
            The frames completed by these bytes (none, one or several).

        Raises:
            FramingError: the bytes are not framed (a TTY stream decoded without ``tty``).

        >>> FrameDecoder(tty=True).feed(b"raw")
        [Frame(stream=1, data=b'raw')]
        """
        if self.tty:
            return [Frame(STDOUT, bytes(data))] if data else []
        self._buffer += data
        frames = []
        while len(self._buffer) >= HEADER.size:
            stream, size = parse_header(bytes(self._buffer[:HEADER.size]))
            end = HEADER.size + size
            if len(self._buffer) < end:
                break
            frames.append(Frame(stream, bytes(self._buffer[HEADER.size:end])))
            del self._buffer[:end]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)

    def close(self) -> None:
        """The stream ended: complain if it ended inside a frame.

        >>> d = FrameDecoder(); _ = d.feed(b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x09abc")
        >>> d.close()
        Traceback (most recent call last):
        ...
        labhelpers.errors.FramingError: The stream ended inside a frame (11 bytes left).
        What to do: read the stream to its end (the connection closed early, or the bytes were cut)
        """
        if self._buffer:
            raise FramingError(f"The stream ended inside a frame ({len(self._buffer)} bytes left).",
                               "read the stream to its end (the connection closed early, or the bytes were cut)")


def demux(chunks: Iterable[bytes], tty: bool = False) -> Iterator[Frame]:
    """Frames from an iterable of reads (a socket, ``resp.read1`` calls, a list of bytes).

    Args:
        chunks: the reads, in order.
        tty: the container has a TTY: no framing, every byte is stdout.

    Yields:
        Each :class:`Frame` as soon as it is complete.

    Raises:
        FramingError: a header is not one, or the stream ends inside a frame.

    >>> list(demux([b"\\x01\\x00\\x00\\x00\\x00\\x00", b"\\x00\\x02ok"]))
    [Frame(stream=1, data=b'ok')]

    Introduced in ``02-docker-engine-api``.
    """
    decoder = FrameDecoder(tty)
    for chunk in chunks:
        yield from decoder.feed(chunk)
    decoder.close()


def split(chunks: Iterable[bytes], tty: bool = False) -> tuple[bytes, bytes]:
    """(stdout, stderr), each joined, from a framed stream.

    Args:
        chunks: the reads, in order.
        tty: the container has a TTY: everything is stdout.

    Returns:
        ``(stdout, stderr)`` as bytes.

    Raises:
        FramingError: as :func:`demux`.

    >>> split([b"\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x02a\\n\\x02\\x00\\x00\\x00\\x00\\x00\\x00\\x02b\\n"])
    (b'a\\n', b'b\\n')

    Introduced in ``02-docker-engine-api``.
    """
    out = {STDOUT: [], STDERR: [], STDIN: []}
    for frame in demux(chunks, tty):
        out[frame.stream].append(frame.data)
    return b"".join(out[STDOUT]), b"".join(out[STDERR])

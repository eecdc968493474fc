"""The two ways the bot writes its own local files, so that no fault leaves half of something.

- `append_whole`: one line-ending chunk added to an append-only file (the journal, the outgoing
  store, the hook deliveries): written with one os.write on our own descriptor, cut back off if
  the system wrote only part of it (a full disk, a file-size limit), and started on a fresh line
  if a crash tore the file's last one, so a torn line never swallows the next whole one.
- `replace_whole`: a file's whole new content (temporary file, fsync, rename): a crash leaves the
  old file or the new one, and a failed write leaves no temporary file behind.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def append_whole(fd: int, data: bytes, sync: bool = True) -> None:
    """Append `data` to the file open at `fd` (O_APPEND), all of it or none; OSError if not."""
    if not ends_a_line(fd):
        os.write(fd, b"\n")  # end a line torn by a crash, so that this one stays whole
    size = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes were written")
        if sync:
            os.fsync(fd)
    except OSError:
        try:
            os.ftruncate(fd, size)  # take back a partial line where the system lets us
        except OSError:
            pass
        raise


def append_to(path: Path, data: bytes, sync: bool = True) -> None:
    """`append_whole` on the file at `path` (made if missing)."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        append_whole(fd, data, sync)
    finally:
        os.close(fd)


def ends_a_line(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size == 0 or os.pread(fd, 1, size - 1) == b"\n"


def replace_whole(path: Path, data: bytes) -> None:
    """Replace the file at `path` with `data`, atomically; OSError if it could not be."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # a full disk must not fill up with half-written copies
        raise

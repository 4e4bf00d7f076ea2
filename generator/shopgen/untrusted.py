"""Reading what a repository holds: bounded, never through a link, never from a device or a FIFO.

Everything in the output root except the config may have been written by someone else (a clone, a
pull request): ``.shopgen/`` state, rendered files, a lock. A read here refuses a symlink, anything
that is not a regular file and anything past its size limit, and a YAML document that nests too
deep or expands past a node budget (an alias bomb), so a planted ``/dev/zero``, FIFO, huge file or
``x: &a [*a]`` is an error naming the file (exit 2), never a hang, a crash or an out-of-memory kill.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shopgen.errors import RepositoryError, ShopgenError

# generated.json lists every file with a 71-character hash: ~100 bytes each, 5,000 files ≈ 0.5 MB.
STATE_LIMIT = 16 << 20
# The API server stores an object in etcd, whose request limit is 1.5 MiB; a rendered file holds one.
MANIFEST_LIMIT = 4 << 20
# Every file of a stage tree read by `diff --against` together (six stages of the shop ≈ 2 MB).
TREE_LIMIT = 256 << 20
# A Kubernetes object nests ~15 levels; 64 leaves room for any CRD and stops recursive aliases.
MAX_DEPTH = 64
# Values of one rendered file after aliases are expanded (the largest rendered object has ~500).
MAX_NODES = 200_000


def read_bytes(path: Path, limit: int, *, error: type[ShopgenError] = RepositoryError) -> bytes | None:
    """The bytes of the regular file ``path`` (None when absent), at most ``limit`` of them.

    Opened with O_NOFOLLOW | O_NONBLOCK, so neither a symlink nor a FIFO is followed or waited on.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{path}: is a symlink; shopgen never follows a link it finds in the repository") from None
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise error(f"{path}: is a folder where shopgen expects a file")
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{path}: not a regular file (a device, FIFO or socket); shopgen reads only files")
        if info.st_size > limit:
            raise error(f"{path}: {info.st_size} bytes, more than the {limit} shopgen reads from such a file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise error(f"{path}: more than the {limit} bytes shopgen reads from such a file")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def read_text(path: Path, limit: int, *, error: type[ShopgenError] = RepositoryError) -> str | None:
    """``read_bytes`` decoded as UTF-8; bytes that are not UTF-8 are an error naming the file."""
    data = read_bytes(path, limit, error=error)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def check_shape(docs: Iterable[Any], source: str, *, error: type[ShopgenError] = RepositoryError) -> None:
    """Refuse parsed YAML that nests past MAX_DEPTH or expands past MAX_NODES values.

    YAML loaders share the object of an anchor with its aliases, so loading is cheap; everything
    that walks the data afterwards (validation, diffs) pays the expansion. Walked iteratively and
    counting each alias again, so a self-referencing alias meets the depth limit, not the C stack.
    """
    budget = MAX_NODES
    stack: list[tuple[Any, int]] = [(doc, 1) for doc in docs]
    while stack:
        node, depth = stack.pop()
        budget -= 1
        if budget < 0:
            raise error(f"{source}: expands to more than {MAX_NODES} values (a YAML alias bomb?)")
        if depth > MAX_DEPTH:
            raise error(f"{source}: nested deeper than {MAX_DEPTH} levels (a recursive YAML alias?)")
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)

"""Compare a render ({path: text}) with the tree on disk: what to create, update, remove or keep.

Pure apart from reading the tree: nothing here writes. writer.py applies a Plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shopgen import untrusted
from shopgen.errors import RenderError, WriteError
from shopgen.output.owned import is_owned
from shopgen.output.state import GENERATED_FILE, Generated, digest, is_relative_path


@dataclass(frozen=True)
class Plan:
    root: Path
    writes: dict[str, str]  # path -> new text (create or update)
    removes: tuple[str, ...]
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    hand_edits: tuple[str, ...]  # generated files changed on disk that this run would replace or remove
    foreign: tuple[str, ...]  # files shopgen never wrote that sit where it would write
    generated: Generated
    forced: tuple[str, ...] = field(default=())
    # Listed in generated.json but never touched: not a path shopgen renders, or ignored by git.
    disowned: tuple[str, ...] = field(default=())
    # No longer rendered and edited by hand: kept, --force or not (shopgen never deletes a hand edit).
    stale_edits: tuple[str, ...] = field(default=())
    # Bytes on disk before the run for every path written or removed (None: absent): rollback data.
    old: dict[str, bytes | None] = field(default_factory=dict)

    @property
    def is_noop(self) -> bool:
        return not self.writes and not self.removes

    @property
    def conflicts(self) -> tuple[str, ...]:
        return tuple(sorted((*self.hand_edits, *self.foreign)))


def _read(path: Path) -> bytes | None:
    """A file where shopgen writes or prunes: bounded, never through a link or from a FIFO."""
    if path.is_dir() and not path.is_symlink():
        raise WriteError(f"{path}: is a folder where shopgen writes a file")
    return untrusted.read_bytes(path, untrusted.MANIFEST_LIMIT, error=WriteError)


def check_inside(root: Path, rel: str, checked: set[Path] | None = None) -> Path:
    """The path of ``rel`` under ``root``, refusing anything that leaves the root (.., symlinks).

    ``checked`` holds folders already found safe by earlier calls of one pass (files share folders).
    """
    if not is_relative_path(rel):
        raise WriteError(f"{rel!r}: not a path inside {root}; shopgen writes only inside the output root")
    target = root / rel
    current = root
    for part in Path(rel).parts[:-1]:
        current = current / part
        if checked is not None and current in checked:
            continue
        if current.is_symlink():
            raise WriteError(f"{current}: is a symlink; shopgen writes only inside {root}, remove the link")
        if current.exists() and not current.is_dir():
            raise WriteError(f"{current}: is a file where shopgen needs a folder")
        if checked is not None:
            checked.add(current)
    if target.is_symlink():
        raise WriteError(f"{target}: is a symlink; shopgen will not write through it")
    return target


def make_plan(
    root: Path,
    files: Mapping[str, str],
    previous: Generated,
    *,
    in_scope: Callable[[str], bool],
    config_hash: str,
    force: bool,
    ignored: Callable[[Sequence[str]], set[str]] = lambda paths: set(),
) -> Plan:
    """Decide each file's fate. ``in_scope`` says which previously generated files this run owns.

    generated.json is repository content, not truth: a file it lists is removed only when its path
    is one the renderer produces (owned.py), git does not ignore it (``ignored``) and its bytes
    still match the recorded hash. --force replaces hand edits of files this render holds; a
    hand-edited file it no longer renders is kept either way (``stale_edits``).
    """
    unowned = sorted(rel for rel in files if not is_owned(rel))
    if unowned:
        raise RenderError(f"the render holds {unowned[0]!r}, a path shopgen does not own (a bug in shopgen)")
    writes: dict[str, str] = {}
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    hand_edits: list[str] = []
    foreign: list[str] = []
    old: dict[str, bytes | None] = {}
    disowned = sorted(rel for rel in previous.files if not is_owned(rel))
    recorded = {rel: h for rel, h in previous.files.items() if is_owned(rel)}
    new_record = {p: h for p, h in recorded.items() if not in_scope(p)}
    checked: set[Path] = set()

    for rel, text in sorted(files.items()):
        path = check_inside(root, rel, checked)
        on_disk = _read(path)
        new_hash = digest(text)
        if on_disk is not None and on_disk == text.encode("utf-8"):
            unchanged.append(rel)
            new_record[rel] = new_hash
            continue
        if on_disk is not None:
            old_hash = recorded.get(rel)
            if old_hash is None:
                foreign.append(rel)
            elif digest(on_disk) != old_hash:
                hand_edits.append(rel)
            if (old_hash is None or digest(on_disk) != old_hash) and not force:
                if old_hash is not None:
                    new_record[rel] = old_hash  # stays recognisable as a hand edit
                continue
            updated.append(rel)
        else:
            created.append(rel)
        writes[rel] = text
        old[rel] = on_disk
        new_record[rel] = new_hash

    stale = [rel for rel in sorted(recorded) if rel not in files and in_scope(rel)]
    git_ignored = ignored(stale) if stale else set()
    removes: list[str] = []
    stale_edits: list[str] = []
    for rel in stale:
        if rel in git_ignored:
            disowned.append(rel)
            continue
        path = check_inside(root, rel, checked)
        on_disk = _read(path)
        if on_disk is None:
            continue
        if digest(on_disk) != recorded[rel]:
            stale_edits.append(rel)
            new_record[rel] = recorded[rel]  # stays recognisable as a hand edit until the user decides
            continue
        removes.append(rel)
        old[rel] = on_disk

    generated = Generated(config_hash=config_hash, files=new_record)
    gen_text = generated.text()
    on_disk_record = _read(check_inside(root, GENERATED_FILE))
    if on_disk_record != gen_text.encode("utf-8"):
        writes[GENERATED_FILE] = gen_text
        old[GENERATED_FILE] = on_disk_record
    forced = tuple(sorted((*hand_edits, *foreign))) if force else ()
    return Plan(
        root=root,
        writes=writes,
        removes=tuple(removes),
        created=tuple(created),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        hand_edits=tuple(sorted({*hand_edits, *stale_edits})),
        foreign=tuple(sorted(foreign)),
        generated=generated,
        forced=forced,
        old=old,
        disowned=tuple(sorted(disowned)),
        stale_edits=tuple(stale_edits),
    )

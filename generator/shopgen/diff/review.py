"""A pull request's review of two rendered trees: which stage Argo CD runs, what it will delete, then
what it will apply, before every other change.

Argo CD syncs one folder, ``environments/<active stage>``, with automated prune. So the change that
reaches the cluster is the active folder at the base (what runs now) against the active folder of
the pull request (what will run), whichever stages those are; an object in the first and not in the
second is deleted on sync. A namespace rename moves every namespaced object to another identity
(kind + namespace + name), so each is such a deletion, and so is the old Namespace itself: that is
what the review puts first, as a Terraform plan puts "destroy". Pure functions, as the rest of the
package: the caller reads the trees and the active stages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shopgen.diff.compare import ResourceDiff, ResourceKey, diff_resources
from shopgen.diff.trees import TreeDiff, diff_files, resources_in
from shopgen.diff.views import _code, _one_line, count_line, json_doc, json_text, to_markdown, to_text

LIMIT = 65536  # GitHub's limit for a comment
NAMES_SHOWN = 50  # deletions named in the warning; the rest are counted
_NAME_CHARS = 200  # one object's kind/namespace/name as shown (a blob at the base is anyone's text)
_RESERVED = 8000  # room kept for the other trees when the active stage's diff alone would fill a comment


def stage_folder(stage: str) -> str:
    return f"environments/{stage}"


@dataclass(frozen=True)
class Review:
    """``before``: the active stage at the base (None when the base records none); ``after``: now.

    ``applied`` is what Argo CD will apply (the active folder at the base against the active folder
    now); ``rest`` is every other change of the trees, groups in ``order`` (argocd, the stages in
    story order, platform); ``whole`` is the plain tree diff, which decides "equal".
    """

    before: str | None
    after: str
    applied: ResourceDiff
    rest: TreeDiff
    whole: TreeDiff
    order: tuple[str, ...]

    @property
    def deletions(self) -> list[ResourceKey]:
        """Live objects Argo CD prunes on sync: Namespaces first (they take everything in them along)."""
        keys = [key for key, _ in self.applied.removed]
        return sorted(keys, key=lambda k: (k.kind != "Namespace", k.sort_key))

    @property
    def is_empty(self) -> bool:
        return self.before == self.after and self.whole.is_empty


def _folder(files: Mapping[str, str], stage: str | None) -> dict[str, str]:
    if stage is None:
        return {}
    prefix = f"{stage_folder(stage)}/"
    return {path[len(prefix) :]: text for path, text in files.items() if path.startswith(prefix)}


def review(
    old: Mapping[str, str],
    new: Mapping[str, str],
    *,
    before: str | None,
    after: str,
    stages: Sequence[str],
) -> Review:
    """Review the trees ``old`` (at the base) and ``new`` ({path under the output root: text}).

    ``stages`` are the stage names in story order. Raises ShopgenError as ``diff_files`` does.
    """
    whole = diff_files(old, new)
    applied = diff_resources(resources_in(_folder(old, before)), resources_in(_folder(new, after)))
    rest = whole
    if before == after:  # the active folder's resources are the applied diff: shown once, first
        group = stage_folder(after)
        rest = TreeDiff(
            groups={g: d for g, d in whole.groups.items() if g != group},
            moved=whole.moved,  # a move changes no object: it stays with the files
            files=whole.files,
        )
    order = ("argocd", *(stage_folder(s) for s in stages), "platform")
    return Review(before, after, applied, rest, whole, order)


# ---------------------------------------------------------------------------------------------------
# Words shared by the views


def _shown(key: ResourceKey) -> str:
    """kind/namespace/name (kind/name when cluster-scoped), on one line and cut to a sane length."""
    text = _one_line(f"{key.kind}/{key.namespace}/{key.name}" if key.namespace else f"{key.kind}/{key.name}")
    return text if len(text) <= _NAME_CHARS else text[: _NAME_CHARS - 1] + "…"


def _objects(count: int) -> str:
    return f"{count} live object{'s' if count != 1 else ''}"


def _stage_words(stage: str | None, ref: str, code: bool) -> str:
    if stage is None:
        return f"nothing (no .shopgen/state.json at {_code(ref) if code else ref})"
    return _code(stage) if code else stage


def active_line(r: Review, ref: str, *, code: bool = True) -> str:
    """``alb → prestop`` or ``prestop (unchanged)``."""
    after = _stage_words(r.after, ref, code)
    if r.before == r.after:
        return f"{after} (unchanged)"
    return f"{_stage_words(r.before, ref, code)} → {after}"


def _where(r: Review, ref: str) -> tuple[str, str]:
    old = f"{_code(stage_folder(r.before))} at {_code(ref)}" if r.before is not None else f"nothing at {_code(ref)}"
    return old, f"{_code(stage_folder(r.after))} now"


# ---------------------------------------------------------------------------------------------------
# Markdown


def _warning(r: Review, ref: str) -> str:
    deletions = r.deletions
    if not deletions:
        return ""
    old, new = _where(r, ref)
    lines = [
        "> [!CAUTION]",
        f"> **Argo CD will delete {_objects(len(deletions))} on sync.** They are in {old} (what the "
        f"cluster runs) and not in {new} (what it will run), and the Application prunes: a renamed "
        "namespace or object is a delete of the old one and a create of the new one.",
        ">",
    ]
    for key in deletions[:NAMES_SHOWN]:
        note = ""
        if key.kind == "Namespace":
            note = " — deleting a Namespace deletes everything in it, data and objects shopgen never rendered included"
        lines.append(f"> - {_code(_shown(key))}{note}")
    if len(deletions) > NAMES_SHOWN:
        lines.append(f"> - … and {len(deletions) - NAMES_SHOWN} more")
    return "\n".join(lines) + "\n\n"


def to_review_markdown(r: Review, *, ref: str, title: str, command: str, limit: int = LIMIT) -> str:
    """The pull-request comment: title, the deletion warning, the active stage line, then the
    diff of what Argo CD will apply, then every other change (stages in story order).

    Each diff keeps ``to_markdown``'s cuts and notes; the whole stays within ``limit`` characters.
    """
    head = f"## {_one_line(title)}\n\n" + _warning(r, ref) + f"**Argo CD runs:** {active_line(r, ref)}\n"
    if r.is_empty:
        return head + "\n**no changes**\n"
    old, new = _where(r, ref)
    applied_title = f"What Argo CD will apply: {old} → {new}"
    rest_title = "Every other change" if not r.applied.is_empty else "Every change"
    room = limit - len(head) - 1
    rest_full = to_markdown(r.rest, title=rest_title, command=command, heading="###", limit=10**9, order=r.order)
    keep = min(len(rest_full), _RESERVED) + 1
    applied = to_markdown(r.applied, title=applied_title, command=command, heading="###", limit=room - keep)
    rest = rest_full
    if len(applied) + 1 + len(rest_full) > room:
        rest = to_markdown(
            r.rest, title=rest_title, command=command, heading="###", limit=room - len(applied) - 1, order=r.order
        )
    return f"{head}\n{applied}\n{rest}"


# ---------------------------------------------------------------------------------------------------
# Text and JSON: the same facts, the tree diff as before


def to_review_text(r: Review, *, ref: str) -> str:
    """The count line first (as ``to_text``), then the active stage, any deletions, and the tree diff."""
    lines = [f"Argo CD runs: {active_line(r, ref, code=False)}"]
    deletions = r.deletions
    if deletions:
        folder = stage_folder(r.before) if r.before is not None else "nothing"
        lines.append(
            f"WARNING: Argo CD will delete {_objects(len(deletions))} on sync "
            f"(in {folder} at {ref}, not in {stage_folder(r.after)} now):"
        )
        lines += [f"  - {_shown(key)}" for key in deletions[:NAMES_SHOWN]]
        if len(deletions) > NAMES_SHOWN:
            lines.append(f"  - … and {len(deletions) - NAMES_SHOWN} more")
    lines.append(f"What Argo CD will apply: {count_line(r.applied)}")
    first, _, rest = to_text(r.whole, order=r.order).partition("\n")
    return "\n".join([first, *lines]) + "\n" + rest


def to_review_json(r: Review) -> str:
    """The tree diff's JSON plus ``active`` {before, after}, ``deletions`` and ``applied`` (its summary)."""
    doc: dict[str, Any] = json_doc(r.whole, order=r.order)
    doc["active"] = {"before": r.before, "after": r.after}
    doc["deletions"] = [{"kind": k.kind, "namespace": k.namespace, "name": k.name} for k in r.deletions]
    doc["applied"] = count_line(r.applied)
    return json_text(doc)

"""The one-line-per-stage summary synth prints on stderr (shared by the full path and the fast path)."""

from __future__ import annotations


def summary_line(
    label: str, resources: int | None, *, created: int, updated: int, removed: int, unchanged: int, checked: bool
) -> str:
    verb = "would be " if checked else ""
    count = f"{resources} resources; " if resources is not None else ""
    return (
        f"{label}: {count}files {verb}created {created}, {verb}updated {updated}, "
        f"{verb}removed {removed}, unchanged {unchanged}"
    )

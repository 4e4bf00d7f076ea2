"""Semantic diff between two sets of manifests or two rendered trees, and its text/markdown/json views.

A reviewer of a promotion wants "the ui Deployment gained a readinessProbe", not forty lines of YAML
moved around, so manifests are compared as data: resources by kind + namespace + name, mappings by
key, lists of named things (containers, env, ports, HPA metrics) by name, so reordering is no change.
Credentials are replaced by a short digest *before* comparing, so no view can ever print one.
Pure functions only: no files, no git, no rendering (the CLI feeds this package texts or manifests).

Modules, each importing only those above it: ``paths`` (field paths), ``redaction`` (credential
digests), ``compare`` (field and resource changes, contracts), ``trees`` ({path: text} trees),
``views`` (count line, text, markdown, json), ``review`` (``diff --against``: the active stage, the
deletions Argo CD will prune and what it will apply, first).
"""

from shopgen.diff.compare import (
    MISSING,
    FieldChange,
    ResourceDiff,
    ResourceKey,
    changes_within,
    diff_resources,
    diff_values,
    resource_key,
)
from shopgen.diff.paths import WILDCARD, Named, Path, Segment, format_path, parse_path
from shopgen.diff.redaction import digest, redact
from shopgen.diff.review import Review, review, to_review_json, to_review_markdown, to_review_text
from shopgen.diff.trees import RESOURCE_TREES, AnyDiff, FileChange, Moved, TreeDiff, diff_files, resources_in
from shopgen.diff.views import count_line, render_value, to_json, to_markdown, to_text

__all__ = [
    "MISSING",
    "RESOURCE_TREES",
    "WILDCARD",
    "AnyDiff",
    "FieldChange",
    "FileChange",
    "Moved",
    "Named",
    "Path",
    "ResourceDiff",
    "ResourceKey",
    "Review",
    "Segment",
    "TreeDiff",
    "changes_within",
    "count_line",
    "diff_files",
    "diff_resources",
    "diff_values",
    "digest",
    "format_path",
    "parse_path",
    "redact",
    "render_value",
    "resource_key",
    "resources_in",
    "review",
    "to_json",
    "to_markdown",
    "to_review_json",
    "to_review_markdown",
    "to_review_text",
    "to_text",
]

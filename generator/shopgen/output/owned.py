"""Which paths are shopgen's: the renderer's trees and naming scheme, the only paths it writes or removes.

``generated.json`` and journals may come from someone else, so a path they list is acted on only
when the renderer could have produced it. Terraform state and variable files, ``.terraform/``,
Terraform's override files (the user's by Terraform's own convention), notes and anything outside
these trees never match, whatever a listing says. Every rendered path must match too (a render
that does not is a bug, refused before writing), so this file is where a new kind of output starts.
"""

from __future__ import annotations

import re

from shopgen.story.stages import stage_names

# The trees and files every synth renders besides the stage folders (each run owns them whole).
SHARED_TREES = ("argocd/", "charts/", "platform/", "terraform/")
SHARED_FILES = (".gitattributes", ".shopgen/.gitignore", "docs/runbook.md")

# A DNS-1123 name, as Kubernetes names, kinds, components and charts are in rendered file names.
_NAME = r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?"
_OWNED = re.compile(
    "|".join(
        [
            rf"environments/(?P<stage>{_NAME})/(?:README\.md|kustomization\.yaml|{_NAME}/{_NAME}\.yaml)",
            rf"argocd/(?:addons/)?{_NAME}\.yaml",
            rf"platform/{_NAME}\.yaml",
            rf"charts/{_NAME}/values\.yaml",
            rf"terraform/(?!(?:.*_)?override\.tf$){_NAME}\.tf",
            rf"terraform/values/{_NAME}\.yaml",
            r"\.gitattributes",
            r"docs/runbook\.md",
            r"\.shopgen/(?:\.gitignore|state\.json|generated\.json)",
        ]
    )
)


def is_owned(rel: str) -> bool:
    """True when ``rel`` (relative to the output root) is a path shopgen's renderer can produce."""
    match = _OWNED.fullmatch(rel)
    if match is None:
        return False
    stage = match.group("stage")
    return stage is None or stage in stage_names()

"""The one YAML module: every read and write of YAML in shopgen goes through here.

read.py loads (strict for config, bounded for manifests); write.py dumps, with the private fast
emitter _fast.py behind ``dump``. The names below are the whole public API.
"""

from shopgen.yamlio.read import (
    MAX_CONFIG_BYTES,
    MAX_NODES,
    line_of,
    load_file,
    load_manifest_folder,
    load_manifests,
    load_manifests_fast,
    load_text,
    to_plain,
)
from shopgen.yamlio.write import GENERATED_HEADER, STR_TAG, dump, dump_all, dump_ruamel, needs_quotes

__all__ = [
    "GENERATED_HEADER",
    "MAX_CONFIG_BYTES",
    "MAX_NODES",
    "STR_TAG",
    "dump",
    "dump_all",
    "dump_ruamel",
    "line_of",
    "load_file",
    "load_manifest_folder",
    "load_manifests",
    "load_manifests_fast",
    "load_text",
    "needs_quotes",
    "to_plain",
]

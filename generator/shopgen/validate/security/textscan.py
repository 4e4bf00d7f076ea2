"""Plaintext credentials in text files that are not manifests (terraform, YAML, JSON, .env): one finding
per line, under the same rule id as the manifest scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from shopgen.validate.credentials import is_credential_name
from shopgen.validate.findings import Finding
from shopgen.validate.security.plaintext import credential_in_value, is_reference

_QUOTED_ASSIGN = re.compile(r'"?([A-Za-z_][A-Za-z0-9_.-]*)"?\s*[=:]\s*"((?:[^"\\]|\\.)*)"')
_YAML_ASSIGN = re.compile(r"""^\s*-?\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*:\s+([^#\s"'{[][^#]*?)\s*(?:#.*)?$""")
_VARIABLE_BLOCK = re.compile(r'^\s*variable\s+"([^"]+)"\s*\{')


def scan_text_for_credentials(path: str, text: str) -> list[Finding]:
    """Credential literals in a text file (terraform, YAML, JSON, .env): one finding per line.

    Catches ``password = "..."`` / ``secret_key: ...`` literals (also nested, as in
    ``jsonencode({ password = "..." })``), a credential-named variable's ``default``, a helm
    ``set { name = "...password" value = "..." }`` pair, AWS access key ids, private keys and
    passwords in URLs. Interpolations (``${...}``, ``{{ ... }}``) and references
    (``random_password.x.result``) are not literals.
    """
    findings: list[Finding] = []
    scope = _Scope()
    for number, line in enumerate(text.splitlines(), start=1):
        message = scope.read(line)
        if message:
            findings.append(
                Finding(
                    "security.plaintext-credential",
                    "error",
                    "File",
                    None,
                    path,
                    f"line {number}",
                    message,
                    "generate it (ephemeral random_password + secret_string_wo) or read it from a secret store; "
                    "rotate the leaked value",
                    "security",
                    path,
                )
            )
    return findings


class _Scope:
    """Line-by-line state: the enclosing ``variable`` block and a pending credential-named ``name``."""

    def __init__(self) -> None:
        self.variable: str | None = None
        self.named_credential: str | None = None

    def read(self, line: str) -> str | None:
        if line.lstrip().startswith(("#", "//")):
            return None
        block = _VARIABLE_BLOCK.match(line)
        if block:
            self.variable = block.group(1)
        elif line.strip().startswith("}"):
            self.variable = self.named_credential = None
        found = credential_in_value(line)
        return self._assignment(line) or (f"the line embeds {found}" if found else None)

    def _assignment(self, line: str) -> str | None:
        pairs = [(m.group(1), m.group(2)) for m in _QUOTED_ASSIGN.finditer(line)]
        yaml = _YAML_ASSIGN.match(line)
        if not pairs and yaml:
            pairs = [(yaml.group(1), yaml.group(2).strip())]
        for key, value in pairs:
            literal = not is_reference(value) and "${" not in value
            name = key.rsplit(".", 1)[-1]
            if key == "name":
                last = value.rsplit(".", 1)[-1]
                self.named_credential = value if is_credential_name(last) else None
            elif literal and is_credential_name(name):
                return f"{key} is a literal credential"
            elif literal and key == "default" and self.variable and is_credential_name(self.variable):
                return f"variable {self.variable} has a literal default"
            elif literal and key == "value" and self.named_credential:
                return f"the value set for {self.named_credential} is a literal credential"
        return None


def scan_texts(files: Iterable[tuple[str, str]]) -> list[Finding]:
    """``scan_text_for_credentials`` over (path, text) pairs, e.g. a rendered terraform/ tree."""
    return [f for path, text in files for f in scan_text_for_credentials(path, text)]

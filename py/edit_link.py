"""Edits of the app's modules as a link's fragment (`#edits=…`), which browsers never send to the
server: for each module, a digest of the deployed text it was made on and the lines it changes
(difflib's opcodes), compressed. Opened, the fragment gives the edits back, each checked against the
module as this deploy has it. Pure Python: no `js`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import json
import zlib

PREFIX = "edits="
MAX_LENGTH = 8000  # characters of a fragment; beyond, links get unwieldy: the diff file instead


class LinkError(ValueError):
    """A fragment that cannot give its edits here; the message says why."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fragment_of(edits: list[dict[str, str]]) -> str:
    """Edits ({path, base, text}) as a fragment, without its '#'; LinkError when it is too long."""
    changes = []
    for edit in sorted(edits, key=lambda edit: edit["path"]):
        base, text = edit["base"].splitlines(keepends=True), edit["text"].splitlines(keepends=True)
        opcodes = difflib.SequenceMatcher(None, base, text, autojunk=False).get_opcodes()
        changes.append({"path": edit["path"], "base": digest(edit["base"]),
                        "lines": [[i1, i2, "".join(text[j1:j2])] for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]})
    packed = base64.urlsafe_b64encode(zlib.compress(json.dumps(changes).encode(), 9)).decode().rstrip("=")
    if len(PREFIX + packed) > MAX_LENGTH:
        raise LinkError(f"These changes are too large for a link ({len(packed):,} characters, at most "
                        f"{MAX_LENGTH:,}): download them as a diff instead.")
    return PREFIX + packed


def paths_of(fragment: str) -> list[str]:
    """The modules a fragment changes (LinkError when it is not one this app made)."""
    return [change["path"] for change in _changes(fragment)]


def edits_of(fragment: str, deployed: dict[str, str]) -> list[dict[str, str]]:
    """A fragment's edits ({path, base, text}) made on the deployed modules (path -> text); LinkError
    when a module is not there, or not the one the edit was made on."""
    edits = []
    for change in _changes(fragment):
        path = change["path"]
        if path not in deployed:
            raise LinkError(f"{path} is not a module of this app.")
        if digest(deployed[path]) != change["base"]:
            raise LinkError(f"{path} has changed on this site since the link was made.")
        lines = deployed[path].splitlines(keepends=True)
        for start, end, new in reversed(change["lines"]):
            lines[start:end] = new.splitlines(keepends=True)
        edits.append({"path": path, "base": deployed[path], "text": "".join(lines)})
    return edits


def _changes(fragment: str) -> list[dict]:
    if not fragment.startswith(PREFIX):
        raise LinkError("This link holds no edits.")
    packed = fragment.removeprefix(PREFIX)
    try:
        changes = json.loads(zlib.decompress(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))))
        if not all(_well_formed(change) for change in changes):
            raise TypeError
    except (binascii.Error, zlib.error, ValueError, TypeError, KeyError):
        raise LinkError("This link's edits are damaged (cut short when copied?).") from None
    return changes


def _well_formed(change: dict) -> bool:
    path, lines = change["path"], change["lines"]
    return isinstance(path, str) and path.startswith("py/") and path.endswith(".py") \
        and isinstance(change["base"], str) \
        and all(isinstance(start, int) and isinstance(end, int) and 0 <= start <= end and isinstance(new, str)
                for start, end, new in lines)

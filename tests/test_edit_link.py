"""Edits as a link's fragment (py/edit_link.py): they come back as they were made, on the module
they were made on only; a damaged, foreign or too long fragment is told, not run."""

import pytest

from edit_link import MAX_LENGTH, LinkError, edits_of, fragment_of, paths_of
from pylens_build.project import ROOT

BOXES = (ROOT / "py" / "boxes.py").read_text()
ANCHORS = (ROOT / "py" / "anchors.py").read_text()


def edit(path: str, base: str, old: str, new: str) -> dict:
    assert old in base
    return {"path": path, "base": base, "text": base.replace(old, new)}


def test_edits_come_back_as_they_were_made():
    edits = [edit("py/boxes.py", BOXES, "np.array(keep, dtype", "np.array(keep[:1], dtype"),
             edit("py/anchors.py", ANCHORS, "\n", "\n# a line at the top\n")]
    fragment = fragment_of(edits)
    assert fragment.startswith("edits=") and len(fragment) < 1000
    assert paths_of(fragment) == ["py/anchors.py", "py/boxes.py"]
    deployed = {"py/boxes.py": BOXES, "py/anchors.py": ANCHORS}
    assert edits_of(fragment, deployed) == sorted(edits, key=lambda e: e["path"])


def test_lines_added_removed_and_a_file_emptied():
    base = "a\nb\nc\nd\n"
    for text in ("", "a\nd\n", "x\na\nb\nc\nd\ny", "b\nz\nd\n"):
        fragment = fragment_of([{"path": "py/x.py", "base": base, "text": text}])
        assert edits_of(fragment, {"py/x.py": base})[0]["text"] == text


def test_an_edit_on_another_version_of_the_module_is_refused():
    fragment = fragment_of([edit("py/boxes.py", BOXES, "keep, dtype", "keep[:1], dtype")])
    with pytest.raises(LinkError, match="py/boxes.py has changed on this site since the link was made"):
        edits_of(fragment, {"py/boxes.py": BOXES + "# changed\n"})
    with pytest.raises(LinkError, match="is not a module of this app"):
        edits_of(fragment, {})


@pytest.mark.parametrize("fragment", ["edits=", "edits=abc", "edits=" + "A" * 40, "view=style"])
def test_a_damaged_or_foreign_fragment_is_told(fragment):
    with pytest.raises(LinkError):
        paths_of(fragment)


def test_a_fragment_cut_short_is_told():
    fragment = fragment_of([edit("py/boxes.py", BOXES, "keep, dtype", "keep[:1], dtype")])
    with pytest.raises(LinkError, match="damaged"):
        paths_of(fragment[:-10])


def test_changes_too_large_for_a_link_say_so():
    noise = "".join(f"# {index * 7919 % 104729:x}{index:x}\n" for index in range(3000))
    with pytest.raises(LinkError, match="too large for a link"):
        fragment_of([{"path": "py/boxes.py", "base": BOXES, "text": BOXES + noise}])
    assert MAX_LENGTH == 8000

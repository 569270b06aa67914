"""The page's code panel (site/code.mjs) as the app sees it: the panel asks for the app's modules,
and hands over a module edited there, which is taken in place as live editing takes a saved file
(py/live_edit.py): the running app takes the new code and the picture shown runs again; a module
that does not import is refused, and the previous code keeps running. The visitor's kept edits
become a diff to download, or a link's fragment (py/edit_link.py); a page opened from such a link
applies its edits once the visitor confirms.
"""

from __future__ import annotations

import difflib
import traceback
from typing import TYPE_CHECKING

from pyscript import window

import page
from edit_link import LinkError, edits_of, fragment_of, paths_of

if TYPE_CHECKING:
    from cards import ModelCard
    from shell import Shell
    from stage import Stage
    from viewer import Viewer

DIFF_NAME = "pylens-edits.diff"


def edits_diff(edits: list[dict[str, str]]) -> str:
    """Edits ({path, base, text}) as one unified diff against the deployed modules, as `git apply`
    takes it in a clone of the app."""
    return "".join("".join(difflib.unified_diff(edit["base"].splitlines(keepends=True),
                                                edit["text"].splitlines(keepends=True),
                                                f"a/{edit['path']}", f"b/{edit['path']}"))
                   for edit in sorted(edits, key=lambda edit: edit["path"]))


class CodePanel:
    def __init__(self, stage: Stage, viewer: Viewer, cards: dict[str, ModelCard], publish) -> None:
        self.stage, self.viewer, self.cards, self.publish = stage, viewer, cards, publish

    def listen(self, shell: Shell) -> None:
        self.shell = shell
        shell.on("code-open", self.on_open)
        shell.on("code-edit", self.on_edit)
        shell.on("code-diff", lambda message: page.download_text(edits_diff(message.edits.to_py()), "text/x-diff",
                                                                 DIFF_NAME))
        shell.on("code-share", self.on_share)
        shell.on("code-link", self.on_link)

    def on_share(self, message) -> None:
        try:
            self.shell.send("code-shared", fragment=fragment_of(message.edits.to_py()), error=None)
        except LinkError as exc:
            self.shell.send("code-shared", fragment=None, error=str(exc))

    async def on_link(self, message) -> None:
        """The page opened from a link with edits: applied once the visitor confirms, then kept."""
        import live_edit  # noqa: PLC0415 — only when a link brings edits
        from live import LiveError, module_paths  # noqa: PLC0415

        fragment = str(message.fragment)
        try:
            paths = paths_of(fragment)
            if not window.confirm(f"This link changes the app's code: {', '.join(paths)}. Run the changed code "
                                       "in this page? Choose OK only if you trust whoever gave you the link."):
                return
            known = module_paths()
            edits = edits_of(fragment, {path: await live_edit.fetch_text(path) for path in paths if path in known})
            _, rerun_failure = await live_edit.take({edit["path"]: edit["text"] for edit in edits},
                                                    self.stage, self.viewer, self.cards)
            if rerun_failure:
                page.show_error(f"The picture could not be processed again with the link's code:\n{rerun_failure}")
        except (LinkError, LiveError) as exc:
            page.show_error(f"The link's edits were not applied: {exc}")
            return
        finally:
            self.publish()
        self.shell.send("code-linked", edits=edits)

    async def on_open(self, _message) -> None:
        from live import module_sources  # noqa: PLC0415 — only once the panel opens

        async with self.stage.one_at_a_time:  # once an edit under way is taken
            self.shell.send("code-sources", sources=module_sources())

    async def on_edit(self, message) -> None:
        """A module edited in the panel (or a kept edit, `saved`, applied as the app gets ready):
        taken in place, and the panel told how it went; a kept edit refused, the page too."""
        import live_edit  # noqa: PLC0415 — only when the panel or the development server brings a change
        from live import LiveError, module_paths  # noqa: PLC0415

        path, text = str(message.path), str(message.source)
        try:
            if path not in module_paths():  # py/main.py among them: a new start needs a new page
                raise LiveError(path, f"{path} cannot be changed in the running app.", "")
            reloaded, rerun_failure = await live_edit.take({path: text}, self.stage, self.viewer, self.cards)
        except LiveError as exc:
            self.shell.send("code-taken", path=path, reloaded=None, error=exc.error, line=exc.line, trace=exc.trace)
            if message.saved:
                page.show_error(f"Your edit of {path} could not be applied ({exc.error}); the deployed code runs. "
                                "Open Code to mend or revert it.")
            return
        except Exception:  # noqa: BLE001 — a reload that went wrong half-way
            self.shell.send("code-taken", path=path, reloaded=None, line=None, trace=traceback.format_exc(limit=-4),
                            error=f"{path} could not be taken in place: reload the page.")
            return
        finally:
            self.publish()
        self.shell.send("code-taken", path=path, reloaded=reloaded, line=None, trace=rerun_failure,
                        error="The picture could not be processed again with the new code." if rerun_failure else None)

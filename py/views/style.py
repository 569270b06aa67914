"""The "Segment & stylize" view: a person mask and a style network, blended by the mask on the
device; its controls, its models (loaded when first used) and its frame, drawn on the overlay."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np
from pyscript import document

import page
import tfbridge
from cards import SegmenterCard, StyleCard
from clock import now_ms
from draw import show_rgba
from masks import BlendSettings
from names import DEFAULT_SEGMENTER
from page import element, fill_menu, show_timings
from stylize import KeptOutputs, Segmenter, Stylizer, blend, style_weight, tint_mask, to_rgba

if TYPE_CHECKING:
    from views.protocol import ViewContext

DEFAULT_STYLE = "style-wave"


class StyleView:
    name = "style"
    roles = ("segment", "stylize")
    setting_controls = ()
    save_buttons = ("style-save-png",)
    fps_output = "style-fps"

    def __init__(self, context: ViewContext) -> None:
        self.context = context
        self.stage = context.stage
        segmenters = self.segmenter_cards = context.cards_of(SegmenterCard)
        styles = self.style_cards = context.cards_of(StyleCard)
        self.loaded: dict[str, Segmenter | Stylizer] = {}
        self.segmenter_id = DEFAULT_SEGMENTER if DEFAULT_SEGMENTER in segmenters else next(iter(segmenters))
        self.style_id = DEFAULT_STYLE if DEFAULT_STYLE in styles else next(iter(styles))
        self.settings = BlendSettings()
        self.frames = 0
        self.kept = KeptOutputs()  # of the still picture

    # ------------------------------------------------------------ controls

    def build_controls(self) -> None:
        """Fill the style picker and the segmenter menu from the cards, and listen to the panel's controls."""
        models_url = escape(self.context.models_url)
        element("style-picker").innerHTML = "".join(
            f'<button type="button" class="style" role="radio" data-style="{escape(card.id)}" '
            f'aria-checked="{str(card.id == self.style_id).lower()}" '
            f'tabindex="{0 if card.id == self.style_id else -1}" title="{escape(card.name)}">'
            f'<img src="{models_url}{escape(card.id)}/thumbnail.png" alt="" width="64" height="64" '
            'loading="lazy">'  # fetched when the view first shows them, not on the way to the first result
            f"<span>{escape(card.name)}</span></button>"
            for card in self.style_cards.values())
        fill_menu(element("style-segmenter"), self.segmenter_cards.values(), self.segmenter_id)
        self.context.listen("click", {"style-picker": self.on_pick, "style-save-png": self.on_save_png})
        # Every other control of the panel (sliders, radios, checkbox, menu) fires `input`.
        self.context.listen("input", {"style-panel": self.on_change})

    async def on_pick(self, event) -> None:
        button = event.target.closest("button[data-style]")
        if button is None:
            return
        self.style_id = str(button.dataset.style)
        for other in element("style-picker").children:
            chosen = other.dataset.style == self.style_id
            other.setAttribute("aria-checked", str(chosen).lower())
            other.tabIndex = 0 if chosen else -1  # the group is one Tab stop (see site/shell/controls.mjs)
        await self.on_change()

    async def on_change(self) -> None:
        """A control moved: the picture shown is processed again."""
        self.read_controls()
        await self.context.rerun_for(self)

    async def on_save_png(self) -> None:
        await self.stage.save_png("stylized")

    def read_controls(self) -> None:
        """The settings and models the controls show now."""
        self.segmenter_id = read_settings(self.settings) or self.segmenter_id

    # ------------------------------------------------------------ models

    async def card_changed(self, card) -> None:
        for cards in (self.segmenter_cards, self.style_cards):
            if card.id in cards:
                cards[card.id] = card
        if card.id in self.loaded:  # loads from the new card when next used
            self.loaded.pop(card.id).dispose()

    async def backend_changed(self) -> None:
        """The models are dropped, to load again on the new backend when next used."""
        self.kept.drop()
        self.unload_models()

    def unload_models(self) -> None:
        """Dispose of the loaded models; each loads again when next used."""
        for model in self.loaded.values():
            model.dispose()
        self.loaded.clear()

    async def model(self, card_id: str):
        """The loaded Segmenter or Stylizer of a card, loading it (with progress) the first time."""
        if card_id not in self.loaded:
            card = self.segmenter_cards.get(card_id) or self.style_cards[card_id]
            kind = Segmenter if isinstance(card, SegmenterCard) else Stylizer
            model = self.loaded[card_id] = await kind.load(
                card, self.context.models_url,
                lambda received, total: page.download_progress(card.name, received, total))
            if model.note:
                page.show_error(model.note)
        return self.loaded[card_id]

    async def opened(self) -> bool:
        return False

    async def prepare(self) -> None:
        """Read the controls and load the models they need (before a frame, so that a frame's
        tensor count does not include model weights)."""
        self.read_controls()
        if self.settings.target != "whole" or self.settings.show_mask:
            await self.model(self.segmenter_id)
        await self.model(self.style_id)

    # ------------------------------------------------------------ the frame

    def output_keys(self, still: int, settings: BlendSettings, style_id: str) -> dict[str, tuple]:
        """What each network output of the still picture `still` (Stage.serial) depends on."""
        return {"pixels": (still,), "probability": (still, self.segmenter_id),
                "stylized": (still, style_id, settings.style_side)}

    @property
    def kept_tensors(self) -> int:
        return len(self.kept.outputs)

    async def render(self, source, timings: dict[str, float], settings: BlendSettings, style_id: str,
                     still: int | None = None, kept: list[str] | None = None):
        """Pixels of a canvas -> the blended image as an int32 RGBA [H, W, 4] tensor (the caller disposes it).
        Adds the times of the stages that ran (capture, segmentation, style transfer, blend; ms) to
        `timings`. For the still picture `still`, the network outputs are kept and used again while
        what they depend on is the same (those stages added to `kept`); any other picture drops them."""
        s = settings
        segmenter = await self.model(self.segmenter_id) if s.target != "whole" or s.show_mask else None
        stylizer = await self.model(style_id)
        keys = self.output_keys(still, s, style_id) if still is not None else {}
        self.kept.keep_only(still)

        made = []  # this frame's tensors that are not kept, disposed at its end

        async def output(kind: str, stage: str, compute):
            started = now_ms()
            tensor, reused = await self.kept.output(kind, keys.get(kind), compute, made)
            if not reused:
                timings[stage] = timings.get(stage, 0.0) + now_ms() - started  # the capture after the webcam's own
            elif kept is not None:
                kept.append(stage)
            return tensor

        try:
            pixels = await output("pixels", "capture", lambda: captured(source))
            probability = await output("probability", "segmentation",
                                       lambda: segmenter.person_probability(pixels)) if segmenter else None
            stylized = await output("stylized", "style_transfer",
                                    lambda: stylizer.stylize(pixels, s.style_side)) if s.strength > 0 else pixels
            start = now_ms()
            with tfbridge.tensor_scope():
                weight = style_weight(probability, s) if s.target != "whole" else s.strength
                out = blend(pixels, stylized, weight)
                if s.show_mask:
                    out = tint_mask(out, probability)
                result = tfbridge.tf().keep(to_rgba(out))
            timings["blend"] = now_ms() - start
        finally:
            tfbridge.dispose(made)
        return result

    def runs_a_network(self, still: int | None) -> bool:
        """Whether the next frame runs a network: a picture not kept, or a change that they depend on."""
        if still is None:
            return True
        s, keys = self.settings, self.output_keys(still, self.settings, self.style_id)
        needed = ["pixels"] + ["probability"] * (s.target != "whole" or s.show_mask) + ["stylized"] * (s.strength > 0)
        return not all(self.kept.holds(kind, keys[kind]) for kind in needed)

    async def run_frame(self, picture, timings: dict[str, float]) -> dict:
        """Render a frame of the picture canvas with the controls' settings (after `prepare`), draw
        it on the overlay and show both; returns its size and timings. A still picture's frame that
        runs a network says so while it runs."""
        still = self.stage.serial if self.context.shows_still(self) else None
        if still is not None and self.runs_a_network(still):
            page.busy("Segmenting and stylizing the picture…")
        kept: list[str] = []
        image = await self.render(picture, timings, self.settings, self.style_id, still, kept)
        element("loading").hidden = True  # a model may have been downloading, or the frame said it was busy
        start = now_ms()
        height, width = int(image.shape[0]), int(image.shape[1])
        overlay = self.stage.overlay
        show_rgba(overlay, await tfbridge.read_values(image), width, height)
        await self.stage.present()
        timings["draw"] = now_ms() - start
        self.frames += 1
        show_timings(element("style-timings"), timings, kept)
        return {"width": int(overlay.width), "height": int(overlay.height),
                "timings_ms": {k: round(v, 3) for k, v in timings.items()}}

    def stats(self) -> dict:
        return {"style": self.style_id, "segmenter": self.segmenter_id, "style_frames": self.frames}

    # ------------------------------------------------------------ headless outputs

    async def mask_png(self, source, segmenter_id: str) -> bytes:
        """8-bit grey PNG of the person probability × 255, at the size of the source."""
        return await mask_png(await self.model(segmenter_id), source)

    async def stylized_png(self, source, style_id: str, target: str, max_side: int) -> bytes:
        """PNG of the source stylized (whole, or only the person or the background at the default
        mask settings), with the style run at the source's size up to max_side on the long side."""
        return await rgb_png(await self.render(source, {}, BlendSettings(target=target, style_side=max_side),
                                               style_id))


async def captured(source):
    """A canvas's pixels as a float32 tensor, kept (the style frame's first output)."""
    return tfbridge.kept(lambda: tfbridge.float_pixels(source))


async def rgb_png(image) -> bytes:
    """PNG of an int32 RGBA [H, W, 4] tensor's colours."""
    values = await tfbridge.read_array(image, np.int32)
    from imaging import png_bytes  # noqa: PLC0415 — with Pillow, loaded when the picture was decoded

    return png_bytes(values[:, :, :3].astype(np.uint8), "RGB")


async def mask_png(segmenter: Segmenter, source) -> bytes:
    """8-bit grey PNG of a segmenter's person probability × 255, at the size of the source."""
    pixels = tfbridge.kept(lambda: tfbridge.float_pixels(source))
    probability = await segmenter.person_probability(pixels)
    grey = tfbridge.kept(lambda: probability.mul(255).round().cast("int32"))
    tfbridge.dispose([pixels, probability])
    values = await tfbridge.read_array(grey, np.int32)
    from imaging import png_bytes  # noqa: PLC0415 — with Pillow, loaded when the picture was decoded

    return png_bytes(values[:, :, 0].astype(np.uint8), "L")


def read_settings(s: BlendSettings) -> str:
    """The panel's settings read into `s`, each slider's value shown beside it; the segmenter chosen."""
    checked = document.querySelector("input[name=target]:checked")
    s.target = checked.value if checked else "person"
    s.strength = float(element("style-strength").value)
    s.threshold = float(element("style-mask-threshold").value)
    s.feather = float(element("style-feather").value)
    s.style_side = int(element("style-side").value)
    s.show_mask = bool(element("style-show-mask").checked)
    element("style-strength-value").textContent = f"{s.strength:.2f}"
    element("style-mask-threshold-value").textContent = f"{s.threshold:.2f}"
    element("style-feather-value").textContent = f"{s.feather:.2f}"
    element("style-side-value").textContent = f"{s.style_side} px"
    return element("style-segmenter").value

"""The one contract of every model wrapper: it loads from its card, runs, and frees its model in
`dispose()`. Detectors (detector.py), segmenters and stylizers (stylize.py) build on it."""

from __future__ import annotations

from collections.abc import Callable

import tfbridge
from cards import ModelCard

Progress = Callable[[int, int | None], None]  # (bytes so far, total bytes or None)


class CardModel:
    """A tf.js model with the card that describes it; owns the model."""

    def __init__(self, card: ModelCard, model) -> None:
        self.card = card
        self.model = model

    @classmethod
    async def load(cls, card: ModelCard, models_url: str, on_progress: Progress) -> CardModel:
        """Download the card's files (checked against its checksums) and build the model."""
        return cls(card, await tfbridge.load_model(card, models_url, on_progress))

    def dispose(self) -> None:
        """Free the model's weights; the wrapper is not used after this."""
        self.model.dispose()

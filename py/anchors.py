"""SSD anchor generation, computed once per model from its card. Pure numpy."""

from __future__ import annotations

import numpy as np

from cards import AnchorSpec


def anchor_shapes(sizes: tuple[float, ...], ratios: tuple[float, ...]) -> np.ndarray:
    """(width, height) of the anchors at one location, normalised to the input: shape [k, 2].

    Every size with the first ratio, then every further ratio with the first size,
    where width = size * sqrt(ratio) and height = size / sqrt(ratio).
    """
    pairs = [(s, ratios[0]) for s in sizes] + [(sizes[0], r) for r in ratios[1:]]
    size, ratio = np.array(pairs, dtype=np.float64).T
    return np.stack([size * np.sqrt(ratio), size / np.sqrt(ratio)], axis=1)


def generate_anchors(spec: AnchorSpec) -> np.ndarray:
    """All anchors as (cx, cy, w, h) in [0, 1] input coordinates: shape [N, 4], float32.

    Feature maps in order; within a map, locations row-major with centres at
    ((x + 0.5) / columns, (y + 0.5) / rows); within a location, `anchor_shapes` order.
    """
    per_map = []
    for (rows, cols), sizes, ratios in zip(spec.feature_maps, spec.sizes, spec.ratios, strict=True):
        shapes = anchor_shapes(sizes, ratios)
        cy, cx = np.meshgrid((np.arange(rows) + 0.5) / rows, (np.arange(cols) + 0.5) / cols, indexing="ij")
        centres = np.stack([cx.ravel(), cy.ravel()], axis=1)
        grid = np.concatenate(
            [np.repeat(centres, len(shapes), axis=0), np.tile(shapes, (len(centres), 1))], axis=1
        )
        per_map.append(grid)
    return np.concatenate(per_map).astype(np.float32)

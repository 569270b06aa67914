"""A single-shot detector's steps around its network, on numpy arrays: the input batch (on hosts
that resize in numpy; the page resizes with tf.js, tfbridge.preprocess) and the decoding of its
output into candidates. Pure numpy: the page (py/detector.py) and CPython run the same code.
"""

from __future__ import annotations

import functools

import numpy as np

from boxes import decode_boxes
from cards import DetectorCard
from pixels import model_input
from results import DecodedFrame

# Candidates scoring at most this are dropped before decoding: no threshold the page offers
# goes lower (the score slider starts here), and most of the 5972 anchors fall below it.
CANDIDATE_FLOOR = 0.05


def input_batch(rgb: np.ndarray, card: DetectorCard) -> np.ndarray:
    """[H, W, 3] RGB 0…255 -> the network's [1, h, w, 3] float32 input: resized bilinearly to the
    card's input size and divided by its scale."""
    return model_input(rgb, card.input_height, card.input_width, card.input_scale)


def decode_candidates(raw: np.ndarray, anchors: np.ndarray, variances) -> DecodedFrame:
    """[N, 4 + classes] network output (box offsets, then class scores) -> the candidates above
    CANDIDATE_FLOOR: their boxes, best class and its score."""
    class_scores = raw[:, 4:]
    # Class by class: numpy's row-wise max over so few columns is eight times slower in Pyodide.
    scores = functools.reduce(np.maximum, class_scores.T)
    keep = np.flatnonzero(scores > CANDIDATE_FLOOR)
    boxes = decode_boxes(raw[keep, :4], anchors[keep], variances)
    return DecodedFrame(boxes, scores[keep], class_scores[keep].argmax(axis=1))

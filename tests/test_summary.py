"""A batch summed up, in CPython: rows, totals and the CSV that the Batch view and build.py detect --csv write."""

import csv
import io

from summary import columns, csv_text, summary_row, totals

LABELS = ["Mask", "NoMask"]


def result(image: str, *labels: str, scores=None) -> dict:
    scores = scores or [0.5] * len(labels)
    return {"image": image, "width": 520, "height": 686, "timings_ms": {"image_decode": 10.04, "inference": 20.03},
            "detections": [{"box": [0, 0, 1, 1], "class_id": LABELS.index(label), "label": label, "score": score}
                           for label, score in zip(labels, scores, strict=True)]}


def test_a_row_counts_faces_by_label_with_the_top_score_and_the_time():
    row = summary_row(result("a.jpg", "Mask", "NoMask", "NoMask", scores=[0.7, 0.99, 0.6]), LABELS)
    assert row == {"image": "a.jpg", "width": 520, "height": 686, "faces": 3, "Mask": 1, "NoMask": 2,
                   "top_score": 0.99, "time_ms": 30.1, "error": ""}
    empty = summary_row(result("b.jpg"), LABELS)
    assert (empty["faces"], empty["Mask"], empty["NoMask"], empty["top_score"]) == (0, 0, 0, None)
    assert summary_row({"image": "c.txt", "error": "c.txt is not an image"}, LABELS) == {
        "image": "c.txt", "error": "c.txt is not an image"}


def test_totals_leave_out_what_could_not_be_analysed():
    rows = [summary_row(r, LABELS) for r in (result("a.jpg", "Mask", "NoMask", "NoMask"), result("b.jpg", "Mask"),
                                             result("c.jpg"), {"image": "d.txt", "error": "not an image"})]
    assert totals(rows, LABELS) == {"photos": 3, "unreadable": 1, "faces": 4, "by_label": {"Mask": 2, "NoMask": 2},
                                    "share": {"Mask": 0.5, "NoMask": 0.5}}
    assert totals(rows[2:], LABELS)["share"] == {"Mask": None, "NoMask": None}  # no face: no share


def test_the_csv_has_a_row_per_photo_and_only_the_error_for_one_not_analysed():
    rows = [summary_row(result("a, b.jpg", "NoMask", scores=[0.75]), LABELS), summary_row(result("c.jpg"), LABELS),
            summary_row({"image": "d.txt", "error": 'd.txt is "not" an image'}, LABELS)]
    text = csv_text(rows, LABELS)
    assert text.splitlines()[0] == ",".join(columns(LABELS))
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert parsed[0] == {"image": "a, b.jpg", "width": "520", "height": "686", "faces": "1", "Mask": "0",
                         "NoMask": "1", "top_score": "0.75", "time_ms": "30.1", "error": ""}
    assert parsed[1]["top_score"] == ""  # no face, no score
    assert parsed[2] == {**dict.fromkeys(columns(LABELS), ""), "image": "d.txt", "error": 'd.txt is "not" an image'}

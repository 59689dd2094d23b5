"""The recognition figures that pyapp/segment.py's and pyapp/recognize.py's tuned constants cite, in one table.

    PYTHONPATH=. .venv/bin/python bench/recognition.py [--quick] [--save FILE] [--against FILE]

Rows (each says how many items it counts; "noise" is one item of that count):
- 10k: the app's answer (pyapp.recognize.read) on the MNIST test digits painted on the pad, as the model card
  paints them (training.pad, seed training.evaluate.PAD_SEED): right / no answer / wrong;
- the model card's robustness rows: the app's answer on the first 1,000 test digits per variation: right /
  no answer;
- touching: 400 MNIST numbers whose digits touch (tests.helpers.mnist_number_pads, gap -0.05..0.02, seed
  11): read exactly / read with the right count of digits (tests/test_recognize.py);
- separated: 300 MNIST numbers with gaps (gap 0.1..0.5, seed 1; tests/test_segment.py's gaps): read exactly;
- single cut: of 400 single MNIST digits (seed 5), how many are read as more than one digit;
- people's numbers: 300 numbers per band of gaps (apart 15-40% of a digit's height, close 0-15%, touching or
  overlapping -10-0%) and per source of digits (the pad's round pen in people's styles, training.strokes;
  MNIST test digits), 2-6 digits each, slanted, on the 560x280 pad (training.numbers, seed BENCH_SEED): read
  exactly;
- same drawing: 300 single digits and 300 numbers drawn with the pad's pen, each redrawn moved by under a
  pixel and with a pen 1 px wider: the share of those readings that differ from the first;
- straight: 60 drawings of each straight-stroke digit (tests.pad.STRAIGHT, tests/test_recognize.py's
  drawings and six renderings): readings right / drawings read the same in all six.

--quick reads 2,000 of the 10k and 200 per robustness row (the number rows in full). --save writes the
figures and every item's reading as JSON; --against FILE adds that run's figures, how many items read
differently, and whether each figure is worse by more than one item ("WORSE"). About 4-6 minutes in full
on a 2-core machine shared with other jobs (--only runs some groups of rows).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyapp.recognize import read  # noqa: E402
from tests.helpers import MODEL, mnist_number_pads, mnist_test  # noqa: E402
from tests.pad import STRAIGHT  # noqa: E402
from tests.test_recognize import RENDERINGS, straight_digit  # noqa: E402
from training.evaluate import PAD_SEED, load  # noqa: E402
from training.numbers import BANDS, BENCH_SEED, bench_numbers, write  # noqa: E402
from training.pad import VARIATIONS, pad_images, to_rgba  # noqa: E402
from training.strokes import render  # noqa: E402

Predict = Callable[[np.ndarray], np.ndarray]
# name -> (figures as shares, higher better unless the name says "wrong"/"no answer"/"cut"), item texts.
Row = tuple[dict[str, float], int, list[str]]


def _readings(predict: Predict, pads: list[tuple[np.ndarray, str]]) -> list:
    return [read(pad, predict) for pad, _ in pads]


def _painted(predict: Predict, digits: np.ndarray, variation: str) -> list[str]:
    """The app's text for each digit painted on the pad as the model card paints it."""
    texts: list[str] = []

    def reader(rgba: np.ndarray) -> None:
        texts.append(read(rgba, predict).text)

    for _ in pad_images(digits, PAD_SEED, variation, reader=reader):
        pass
    return texts


def _answers(texts: list[str], labels: np.ndarray) -> dict[str, float]:
    right = np.array([t == str(v) for t, v in zip(texts, labels, strict=True)])
    silent = np.array([not (len(t) == 1 and t.isdigit()) for t in texts])
    return {"right": right.mean(), "no answer": silent.mean(), "wrong": (~right & ~silent).mean()}


def mnist_rows(predict: Predict, quick: bool) -> dict[str, Row]:
    images, labels = mnist_test()
    count = 2000 if quick else len(images)
    texts = _painted(predict, images[:count], "as painted")
    rows = {f"10k ({count})": (_answers(texts, labels[:count]), count, texts)}
    robust = 200 if quick else 1000
    for variation in VARIATIONS:
        texts = _painted(predict, images[:robust], variation)
        figures = _answers(texts, labels[:robust])
        del figures["wrong"]
        rows[f"{variation} ({robust})"] = (figures, robust, texts)
    return rows


def number_rows(predict: Predict) -> dict[str, Row]:
    touching = mnist_number_pads((-0.05, 0.02), trials=400, seed=11)
    readings = _readings(predict, touching)
    right = _share(r.text == truth for r, (_, truth) in zip(readings, touching, strict=True))
    counted = _share(len(r.digits) == len(truth) for r, (_, truth) in zip(readings, touching, strict=True))
    rows = {"touching (400)": ({"right": right, "right count": counted}, 400, [r.text for r in readings])}
    separated = mnist_number_pads((0.1, 0.5), trials=300, seed=1)
    readings = _readings(predict, separated)
    right = _share(r.text == truth for r, (_, truth) in zip(readings, separated, strict=True))
    rows["separated (300)"] = ({"right": right}, 300, [r.text for r in readings])
    single = mnist_number_pads((0.0, 0.0), trials=400, seed=5, counts=(1, 1))
    digits = [len(r.digits) for r in _readings(predict, single)]
    rows["single cut (400)"] = ({"cut": float(sum(d > 1 for d in digits))}, 400, [str(d) for d in digits])
    return rows


def people_rows(predict: Predict, count: int = 300) -> dict[str, Row]:
    """Numbers as people write them (training.numbers), per band of gaps and source of digits: read exactly."""
    rows = {}
    for name, written in bench_numbers(mnist_test(), count).items():
        texts = [read(n.rgba, predict).text for n in written]
        right = _share(t == n.text for t, n in zip(texts, written, strict=True))
        rows[f"{name} ({count})"] = ({"right": right}, count, texts)
    return rows


def stability_row(predict: Predict, count: int = 300) -> dict[str, Row]:
    """The same drawing read twice: `count` single digits and `count` numbers (close and apart) drawn with
    the pad's pen (training.numbers, seed BENCH_SEED + 1), each redrawn moved by (0.5, 0.3) px and with a pen
    1 px wider: how many of the 2 x 2 x count readings change."""
    rng = np.random.default_rng(BENCH_SEED + 1)
    written = [write(rng, BANDS["apart"], "strokes", count=(1, 1)) for _ in range(count)]
    written += [write(rng, (0.0, 0.4), "strokes") for _ in range(count)]
    texts, changed = [], 0
    for number in written:
        shape = number.rgba.shape[:2]
        first = read(number.rgba, predict).text
        moved = to_rgba(render([s + (0.5, 0.3) for s in number.strokes], number.pen, shape))
        wider = to_rgba(render(number.strokes, number.pen + 1, shape))
        again = [read(moved, predict).text, read(wider, predict).text]
        changed += sum(text != first for text in again)
        texts += [first, *again]
    readings = 2 * len(written)
    return {f"same drawing ({readings} readings)": ({"changed": changed / readings}, readings, texts)}


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values)


def straight_row(predict: Predict, drawings: int = 60) -> dict[str, Row]:
    texts, same, total = [], 0, 0
    for digit in STRAIGHT:
        rng = np.random.default_rng(2026 + ord(digit))
        for _ in range(drawings):
            strokes, pen = straight_digit(digit, rng)
            read_as = [read(paint(strokes, pen), predict).text for paint in RENDERINGS.values()]
            texts += read_as
            same += len(set(read_as)) == 1
            total += 1
    right = _share(t == d for t, d in zip(texts, (d for d in STRAIGHT for _ in range(drawings * 6)), strict=True))
    return {f"straight ({total} x 6)": ({"right": right, "same in all 6": same / total}, total, texts)}


WORSE_WHEN_HIGHER = ("no answer", "wrong", "cut", "changed")


def _cell(name: str, value: float) -> str:
    return f"{value:.0f}" if name == "cut" else f"{100 * value:.2f}%"


def _verdict(figures: dict[str, float], before: dict[str, float], items: int) -> str:
    """Ok when no figure is worse by more than one item (1 / items of a share, 1 of a count); else WORSE."""
    noise = 1.0 if "cut" in figures else 1.0 / items
    worse = []
    for name, value in figures.items():
        change = value - before[name] if name in WORSE_WHEN_HIGHER else before[name] - value
        if change > noise + 1e-9:
            worse.append(name)
    return "WORSE: " + ", ".join(worse) if worse else "ok"


def table(rows: dict[str, Row], against: dict | None) -> str:
    head = "| row | now |" + (" before | items read differently | within one item's noise |" if against else "")
    lines = [head, "|---|---|" + ("---|---|---|" if against else "")]
    for row, (figures, items, texts) in rows.items():
        now = " / ".join(f"{k} {_cell(k, v)}" for k, v in figures.items())
        line = f"| {row} | {now} |"
        if against and row in against:
            before = against[row]
            then = " / ".join(f"{k} {_cell(k, v)}" for k, v in before["figures"].items())
            changed = sum(a != b for a, b in zip(texts, before["texts"], strict=True))
            line += f" {then} | {changed} | {_verdict(figures, before['figures'], items)} |"
        lines.append(line)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 of the 10k, 200 per robustness row")
    parser.add_argument("--save", type=Path, help="write the figures and every reading as JSON")
    parser.add_argument("--against", type=Path, help="compare with a run saved by --save")
    parser.add_argument("--model", type=Path, default=MODEL, help="the ONNX model to read with (default: shipped)")
    parser.add_argument(
        "--only",
        choices=["mnist", "numbers", "people", "stability", "straight"],
        action="append",
        help="only these groups of rows (repeatable)",
    )
    args = parser.parse_args()
    predict = load(args.model)
    groups = args.only or ["mnist", "numbers", "people", "stability", "straight"]
    rows: dict[str, Row] = {}
    if "people" in groups:
        rows |= people_rows(predict)
    if "stability" in groups:
        rows |= stability_row(predict)
    if "numbers" in groups:
        rows |= number_rows(predict)
    if "straight" in groups:
        rows |= straight_row(predict)
    if "mnist" in groups:
        rows |= mnist_rows(predict, args.quick)
    against = json.loads(args.against.read_text()) if args.against else None
    print(table(rows, against))
    if args.save:
        saved = {
            row: {"figures": figures, "items": items, "texts": texts} for row, (figures, items, texts) in rows.items()
        }
        args.save.write_text(json.dumps(saved) + "\n")


if __name__ == "__main__":
    main()

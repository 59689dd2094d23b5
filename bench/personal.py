"""Measure taught examples (pyapp.personal) in CPython: harm to others' digits, taught shapes, time per read.

    python bench/personal.py [--digits 10000] [--reads 300] [--examples-out FILE]

Prints:
- "no harm": the app's answer on the MNIST test digits painted on the pad (training.pad, the seed the model
  card uses), read by the model alone, with an empty set of examples, and with 50 taught examples of a
  foreign style (25 "V" taught as 7 and 25 inverted "V" taught as 8, tests.helpers.v_shape); how many
  readings differ from the model alone's, and the test digits' highest similarity to a taught shape.
- "taught shapes": over 20 seeds, teach 3 V shapes as 7, then read 10 new ones: how often 7.
- time per read: personal.read against recognize.read on the same pads, with 0 and 500 examples, and the
  time of Examples.taught alone.
--examples-out writes the 50 taught examples as JSON (to measure the same through `python -m pyapp
--examples`). About 2-3 minutes for the 10k on one core.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pyapp import personal  # noqa: E402
from pyapp.model import find_space, load_model_with_embedding  # noqa: E402
from pyapp.personal import Examples, Space  # noqa: E402
from pyapp.recognize import decide, prepare  # noqa: E402
from tests.helpers import mnist_test, same_reading, v_shape  # noqa: E402
from training.evaluate import PAD_SEED  # noqa: E402
from training.pad import paint, to_rgba  # noqa: E402


def teach(examples: Examples, predict: personal.Predict, rng: np.random.Generator, count: int, label: int,
          inverted: bool) -> None:
    """Teach `count` new seeded V shapes (inverted: "Λ") as `label`, each whole (the group's first row)."""
    for _ in range(count):
        prepared = prepare(v_shape(rng, inverted))
        examples.add(predict(prepared.batch[:1])[1][0], label)


def foreign(space: Space, predict: personal.Predict) -> Examples:
    examples = Examples(space)
    rng = np.random.default_rng(2026)
    teach(examples, predict, rng, 25, 7, inverted=False)
    teach(examples, predict, rng, 25, 8, inverted=True)
    return examples


def no_harm(space: Space, predict: personal.Predict, count: int) -> None:
    images, labels = mnist_test()
    images, labels = images[:count], labels[:count]
    taught = foreign(space, predict)
    empty = Examples(space)
    rng = np.random.default_rng(PAD_SEED)  # as training.pad.pad_images paints for the model card
    right = {"model alone": 0, "0 examples": 0, "50 foreign examples": 0}
    changed_empty = changed_taught = harmed = 0
    nearest = []
    for digit, label in zip(images, labels, strict=True):
        prepared = prepare(to_rgba(paint(digit, rng)))
        if prepared.batch.shape[0] == 0:
            continue
        probabilities, embeddings = predict(prepared.batch)
        alone = decide(prepared, probabilities)
        with_empty = decide(prepared, probabilities, empty.taught(embeddings))
        with_taught = decide(prepared, probabilities, taught.taught(embeddings))
        nearest.append(float((space.unit(embeddings) @ space.unit(taught.embeddings).T).max()))
        for name, reading in (("model alone", alone), ("0 examples", with_empty), ("50 foreign examples", with_taught)):
            right[name] += reading.text == str(label)
        changed_empty += not same_reading(alone, with_empty)
        changed_taught += not same_reading(alone, with_taught)
        harmed += alone.text == str(label) and with_taught.text != str(label)
    print(f"## No harm to others' digits ({count:,} MNIST test digits on the pad)\n")
    for name, value in right.items():
        print(f"- {name}: {value / count:.2%} right ({value:,})")
    print(f"- readings that differ from the model alone's: {changed_empty} with 0 examples, {changed_taught} with 50")
    print(f"- right alone, not with the 50: {harmed}")
    print(f"- test digits' highest similarity to a taught shape: 99.9th percentile "
          f"{np.percentile(nearest, 99.9):.3f}, max {max(nearest):.3f} (threshold {personal.SIMILARITY})\n")


def taught_shapes(space: Space, predict: personal.Predict, seeds: int = 20) -> None:
    print("## Taught shapes: 3 V shapes taught as 7, then 10 new ones read\n")
    counts = []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        examples = Examples(space)
        teach(examples, predict, rng, 3, 7, inverted=False)
        counts.append(sum(personal.read(v_shape(rng), predict, examples).text == "7" for _ in range(10)))
    alone = Examples(space)
    rng = np.random.default_rng(999)
    before = sum(personal.read(v_shape(rng), predict, alone).text == "7" for _ in range(100))
    print(f"- read 7 (of 10), per seed: {counts}; total {sum(counts)}/{10 * seeds}; "
          f"seeds with >= 9: {sum(c >= 9 for c in counts)}/{seeds}")
    print(f"- the model alone reads {before}/100 new V shapes as 7\n")


def timing(space: Space, predict: personal.Predict, reads: int) -> None:
    from pyapp.model import load_model
    from pyapp.recognize import read

    images, _ = mnist_test()
    rng = np.random.default_rng(1)
    pads = [to_rgba(paint(d, rng)) for d in images[:reads]]
    plain = load_model()
    many = Examples(space)
    ex_rng = np.random.default_rng(3)
    teach(many, predict, ex_rng, 250, 7, inverted=False)
    teach(many, predict, ex_rng, 250, 8, inverted=True)
    assert len(many) == personal.MAX_EXAMPLES

    readers = {
        "alone": lambda pad: read(pad, plain),
        "zero": lambda pad: personal.read(pad, predict, Examples(space)),
        "full": lambda pad: personal.read(pad, predict, many),
    }
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(3):  # interleaved, pad by pad, so that the host's load falls on all three alike
        for pad in pads:
            for name, reader in readers.items():
                start = time.perf_counter()
                reader(pad)
                times[name].append(time.perf_counter() - start)
    base, zero, full = (1000 * statistics.median(times[name]) for name in readers)
    batch = prepare(pads[0]).batch
    embeddings = predict(batch)[1]
    start = time.perf_counter()
    for _ in range(200):
        many.taught(embeddings)
    alone = 1000 * (time.perf_counter() - start) / 200
    print(f"## Time per read (CPython, median of {reads} pads)\n")
    print(f"- recognize.read, model alone: {base:.3f} ms")
    print(f"- personal.read, 0 examples: {zero:.3f} ms ({zero - base:+.3f})")
    print(f"- personal.read, 500 examples: {full:.3f} ms ({full - base:+.3f}); Examples.taught alone "
          f"{alone:.3f} ms for a batch of {len(batch)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, default=10_000)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--examples-out", type=Path)
    args = parser.parse_args()
    predict = load_model_with_embedding()
    space = Space.load(find_space())
    if args.examples_out:
        args.examples_out.write_text(foreign(space, predict).to_json())
    taught_shapes(space, predict)
    timing(space, predict, args.reads)
    if args.digits:
        no_harm(space, predict, args.digits)


if __name__ == "__main__":
    main()

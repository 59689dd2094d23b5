"""How long a read takes in CPython: prepare (ink -> pieces -> batch), the model, decide, for a few pads.

Run by hand (`PYTHONPATH=. .venv/bin/python bench/read.py`), never by the tests: these machines are shared, so compare
figures from one run. The page's own figures (Pyodide, onnxruntime-web) are bench/page.py's.
"""

from __future__ import annotations

import statistics
import time
from functools import partial

from pyapp.model import load_model
from pyapp.recognize import decide, prepare
from tests.helpers import MODEL, digit_pad, number_pad

PADS = {
    "one digit, 280x280": digit_pad(3),
    "three digits, 600x300": number_pad([4, 5, 7], height=300, width=600),
    "touching 00, 600x300": number_pad([0, 0], height=300, width=600, gap=-0.05),
    "five digits, 1200x300": number_pad([1, 2, 3, 4, 5], height=300, width=1200),
}


def median_ms(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(repeats: int = 200) -> None:
    predict = load_model(MODEL)
    print(f"| pad | rows | prepare ms | model ms | decide ms | (median of {repeats}) |")
    print("|---|---|---|---|---|---|")
    for name, pad in PADS.items():
        prepared = prepare(pad)
        probabilities = predict(prepared.batch)
        steps = [
            partial(prepare, pad),
            partial(predict, prepared.batch),
            partial(decide, prepared, probabilities),
        ]
        cells = " | ".join(f"{median_ms(step, repeats):.2f}" for step in steps)
        print(f"| {name} | {len(prepared.batch)} | {cells} | |")


if __name__ == "__main__":
    main()

"""`python -m pyapp FILE...` (or `digit-reader FILE...`): read handwritten digits in image files.

Prints `FILE<TAB>text` per file, text empty when there is nothing sure to read; with --verbose a third
column holds the hint, with --probabilities one more holds each digit's top probability. A file that
cannot be read gets one line on stderr and exit status 1 (the other files are still read); usage errors
exit with 2 (argparse).

`--examples FILE` reads with a set of taught examples exported from the page (pyapp.personal's JSON): pieces
close to a taught example read as taught, and the hint (--verbose) says so. A file that is not such a set,
or was taught to another model, gets one line on stderr and exit status 1 before anything is read.

`--why OUT.png FILE` (one FILE) also writes why the model read the first digit in FILE as it did (pyapp.why):
the 28x28 image the model saw, 10x, with the parts that decided it in orange; stdout keeps its one line and
the sentence for people goes to stderr. No digit in FILE: a line on stderr, no file, exit status 1, as for a
file that cannot be read (the output asked for was not made).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from pyapp.images import ImageError, decode_image
from pyapp.model import ModelError, find_space, load_model, load_model_with_embedding
from pyapp.personal import Examples, ExamplesError, Space
from pyapp.personal import read as read_with_examples
from pyapp.recognize import Predict, Reading, read
from pyapp.why import occlusions, picture, why_map


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digit-reader", description="Read handwritten digits in image files (one line per file)."
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files (PNG, JPEG, ...)")
    parser.add_argument("--model", metavar="PATH", help="the ONNX model (default: the one shipped)")
    parser.add_argument("--examples", metavar="FILE", help="taught examples exported from the page (JSON)")
    parser.add_argument("-v", "--verbose", action="store_true", help="add a column with the hint")
    parser.add_argument(
        "-p", "--probabilities", action="store_true", help="add a column with each digit's top probability"
    )
    parser.add_argument(
        "--why", metavar="OUT.png", help="write why the first digit in FILE (only one) read as it did, as a PNG"
    )
    return parser


def _line(name: str, reading: Reading, verbose: bool, probabilities: bool) -> str:
    columns = [name, reading.text]
    if verbose:
        columns.append(reading.hint)
    if probabilities:
        columns.append(" ".join(f"{float(d.probabilities.max()):.3f}" for d in reading.digits))
    return "\t".join(columns)


def _reader(model: str | None, examples: str | None) -> tuple[Callable[[np.ndarray], Reading], Predict]:
    """(rgba -> Reading, the model's predict): with the model alone, or with the taught examples in
    `examples` (a JSON file)."""
    if examples is None:
        predict = load_model(model)
        return (lambda rgba: read(rgba, predict)), predict
    try:
        text = Path(examples).read_bytes()
    except OSError as error:
        raise ExamplesError(f"{examples}: {error.strerror or error}") from None
    try:
        taught = Examples.from_json(text, Space.load(find_space(model)))
    except ExamplesError as error:
        raise ExamplesError(f"{examples}: {error}") from None
    predict_both = load_model_with_embedding(model)
    return (lambda rgba: read_with_examples(rgba, predict_both, taught)), (lambda batch: predict_both(batch)[0])


def _write_why(out: str, name: str, reading: Reading, predict: Predict) -> bool:
    """Write the map of the first digit read to `out` and say why on stderr; False (and a line on stderr)
    when there is no digit or the file cannot be written."""
    if not reading.digits:
        print(f"{name}: no digit read, so no map written to {out}", file=sys.stderr)
        return False
    from PIL import Image  # here: the plain reading path never needs to encode a PNG

    image = reading.digits[0].image
    why = why_map(image, predict(occlusions(image)))  # the model's own top two, even for a taught digit
    try:
        Image.fromarray(picture(image, why.heat)).save(out, "PNG")
    except OSError as error:  # a folder that does not exist, no permission: as for an unreadable FILE
        print(f"{out}: {error.strerror or error}", file=sys.stderr)
        return False
    print(why.sentence, file=sys.stderr)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.why is not None and len(args.files) != 1:
        parser.error("--why explains one FILE")  # exits with 2, as other usage errors
    try:
        reader, predict = _reader(args.model, args.examples)
    except (ModelError, ExamplesError) as error:
        print(f"digit-reader: {error}", file=sys.stderr)
        return 1
    failed = False
    for name in args.files:
        try:
            reading = reader(decode_image(Path(name).read_bytes()))
        except (OSError, ImageError) as error:
            message = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            print(f"{name}: {message}", file=sys.stderr)
            failed = True
            continue
        print(_line(name, reading, args.verbose, args.probabilities), flush=True)
        if args.why is not None and not _write_why(args.why, name, reading, predict):
            failed = True
    return 1 if failed else 0

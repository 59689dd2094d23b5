"""The committed model/digits.onnx: loads in onnxruntime, keeps the page's contract, reads the pad well."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pyapp.config import (
    CLASSES,
    EMBEDDING_SIZE,
    MODEL_EMBEDDING,
    MODEL_INPUT,
    MODEL_OUTPUT,
    MODEL_PATH,
    MODEL_SIDE,
    OUTPUT_WIDTH,
    PAIR_LEFT,
    PAIR_RIGHT,
)

# The shipped model reads 99.62% of the 10k test digits through the pad path (model/README.md; 99.73% before
# it learnt NOT_ONE); a retrained model must not fall below it.
MIN_PAD_ACCURACY = 0.996
# The app's own answer on the same pads (pyapp.recognize.read, what `python -m pyapp` prints): 99.46% with the
# model retrained on today's pieces (99.53% with the first model judging the pieces, 99.65% with the priors
# before it, 99.63% with the rule-based cuts before those; issue 18's goal of 99.65% is not met).
# It says nothing when it is guessing and may see two digits in one broken digit, so it is a little lower.
MIN_APP_ACCURACY = 0.994


@pytest.fixture(scope="module")
def session() -> ort.InferenceSession:
    assert MODEL_PATH.exists(), f"{MODEL_PATH} is missing: run python -m training.train"
    return ort.InferenceSession(str(MODEL_PATH), providers=["CPUExecutionProvider"])


def test_contract_names_and_shapes(session: ort.InferenceSession) -> None:
    (inp,) = session.get_inputs()
    out, embedding = session.get_outputs()
    assert inp.name == MODEL_INPUT and inp.type == "tensor(float)"
    assert inp.shape[1:] == [MODEL_SIDE, MODEL_SIDE, 1] and not isinstance(inp.shape[0], int)
    assert out.name == MODEL_OUTPUT and out.type == "tensor(float)"
    assert out.shape[1:] == [OUTPUT_WIDTH]  # ten digits, NOT_ONE, TWO, then the pair's two digits
    assert embedding.name == MODEL_EMBEDDING and embedding.type == "tensor(float)"
    assert embedding.shape == [out.shape[0], EMBEDDING_SIZE]  # the same symbolic N


def test_embedding_output_changes_no_probability() -> None:
    """The embedding is an existing tensor made an output: the same file without that output (as it was
    shipped before) gives the same probabilities, bit for bit, on the 10k test digits."""
    from tests.helpers import mnist_test

    images = mnist_test()[0].reshape(-1, MODEL_SIDE, MODEL_SIDE, 1).astype(np.float32)
    proto = onnx.load(str(MODEL_PATH))
    assert [o.name for o in proto.graph.output] == [MODEL_OUTPUT, MODEL_EMBEDDING]
    producer = {value: node.op_type for node in proto.graph.node for value in node.output}[MODEL_EMBEDDING]
    assert producer != "DequantizeLinear"  # the float pool, not its 8-bit rounding
    del proto.graph.output[1]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    without = ort.InferenceSession(proto.SerializeToString(), options, providers=["CPUExecutionProvider"])
    shipped = ort.InferenceSession(str(MODEL_PATH), options, providers=["CPUExecutionProvider"])
    for start in range(0, len(images), 2000):
        batch = {MODEL_INPUT: images[start : start + 2000]}
        probabilities, embedding = shipped.run([MODEL_OUTPUT, MODEL_EMBEDDING], batch)
        assert np.array_equal(probabilities, without.run([MODEL_OUTPUT], batch)[0])
        assert embedding.shape == (len(batch[MODEL_INPUT]), EMBEDDING_SIZE) and embedding.dtype == np.float32
        assert (embedding >= 0).all() and (np.linalg.norm(embedding, axis=1) > 0).all()  # a pool of ReLUs


def test_ir_version_runs_in_onnxruntime_web() -> None:
    model = onnx.load(str(MODEL_PATH))
    assert 8 <= model.ir_version <= 13  # onnxruntime-web 1.30 refuses IR 14; opset 17 needs >= 8
    assert {op.domain or "ai.onnx": op.version for op in model.opset_import}["ai.onnx"] == 17
    # The dynamic-quantisation ops are not in onnxruntime-web's wasm kernels.
    assert not {"ConvInteger", "MatMulInteger", "DynamicQuantizeLinear"} & {n.op_type for n in model.graph.node}


def test_outputs_are_probabilities(session: ort.InferenceSession) -> None:
    batch = np.random.default_rng(0).uniform(size=(5, MODEL_SIDE, MODEL_SIDE, 1)).astype(np.float32)
    (probabilities,) = session.run([MODEL_OUTPUT], {MODEL_INPUT: batch})
    assert probabilities.shape == (5, OUTPUT_WIDTH) and probabilities.dtype == np.float32
    for block in (slice(0, CLASSES), slice(PAIR_LEFT, PAIR_RIGHT), slice(PAIR_RIGHT, OUTPUT_WIDTH)):  # 3 softmaxes
        np.testing.assert_allclose(probabilities[:, block].sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


def test_pad_path_accuracy() -> None:
    """All 10k test digits painted on a 280x280 pad, read with pyapp.preprocess (the model's argmax) and
    with pyapp.recognize.read (the app's answer): about a minute on 2 cores.

    Not marked slow on purpose: this is the check that a retrained model, or a change to the app's rules,
    still reads the pad."""
    from training.data import load_mnist
    from training.evaluate import load, read_pad

    test = load_mnist().test
    argmax, answers = read_pad(load(MODEL_PATH), test.images)
    accuracy = float((argmax == test.labels).mean())
    assert accuracy >= MIN_PAD_ACCURACY, f"pad-path accuracy {accuracy:.4f} < {MIN_PAD_ACCURACY}"
    app = float((answers == test.labels).mean())
    assert app >= MIN_APP_ACCURACY, f"the app's answer is right for {app:.4f} < {MIN_APP_ACCURACY}"

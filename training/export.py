"""Keras model -> ONNX file the page can run, checked against Keras before it is written; then a static int8
copy, shipped when it reads like the float model.

tf2onnx's `from_keras` fails on Keras 3, so the model is wrapped in a `tf.function` with a fixed input
signature and converted with `from_function`. The tensor names come from pyapp.config, the one place the
page, the CLI and training agree on them.

Two outputs: `probabilities` and `embedding`, the float tensor the last Dense (Gemm) reads (the global
average pool; dropout is gone at inference). add_embedding exposes that existing tensor by renaming it, so
no node is added and the probabilities are computed exactly as before.

    float model (export: within 1e-4 of Keras) -> model/digits.float.onnx (git-ignored, kept for the card)
    int8 weights (quantize) -> model/digits.onnx when it reads like the float one (ship), else the float one
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from pyapp.config import CLASSES, MODEL_EMBEDDING, MODEL_INPUT, MODEL_OUTPUT, MODEL_SIDE
from training import import_tensorflow_quietly

OPSET = 17
MAX_IR_VERSION = 10  # onnxruntime-web 1.30 refuses IR 14 (onnx 1.23's default); opset 17 needs >= 8
PARITY_TOLERANCE = 1e-4
# The int8 copy is shipped when its top digit agrees with the float model's on at least this share of the
# check digits (validation digits, never the test split); the shipped copy agrees on 100.00% of them.
MIN_AGREEMENT = 0.998


def float_path(path: Path | str) -> Path:
    """Where the float model behind a shipped file lives: model/digits.onnx -> model/digits.float.onnx."""
    path = Path(path)
    return path.with_name(path.stem + ".float.onnx")


def to_onnx(model: object) -> onnx.ModelProto:
    """Convert a Keras 3 model (TF backend) with softmax outputs to an ONNX model with the contract's names."""
    import_tensorflow_quietly()
    import tensorflow as tf
    import tf2onnx

    spec = (tf.TensorSpec([None, MODEL_SIDE, MODEL_SIDE, 1], tf.float32, name=MODEL_INPUT),)

    @tf.function(input_signature=spec)
    def serve(image: tf.Tensor) -> tf.Tensor:
        return model(image, training=False)  # type: ignore[operator]

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=spec, opset=OPSET)
    _rename_output(proto, MODEL_OUTPUT)
    add_embedding(proto)
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    proto.producer_name = "digit-reader training/export.py"
    onnx.checker.check_model(proto)
    return proto


def _rename_output(proto: onnx.ModelProto, name: str) -> None:
    """tf2onnx names the output after TF's tensor (e.g. 'Identity:0'); the page asks for `name`."""
    (output,) = proto.graph.output
    _rename_tensor(proto, output.name, name)
    output.name = name


def _rename_tensor(proto: onnx.ModelProto, old: str, new: str) -> None:
    for node in proto.graph.node:
        node.output[:] = [new if value == old else value for value in node.output]
        node.input[:] = [new if value == old else value for value in node.input]
    for info in proto.graph.value_info:
        if info.name == old:
            info.name = new


def _producers(proto: onnx.ModelProto) -> dict[str, onnx.NodeProto]:
    return {value: node for node in proto.graph.node for value in node.output}


def _last_dense(proto: onnx.ModelProto) -> onnx.NodeProto:
    """The Gemm (or MatMul) behind the class softmax: back from the output through its Concat's first
    input (the pair softmaxes follow it), Softmax, Add (a bias tf2onnx kept apart) and Identity."""
    producers = _producers(proto)
    node = producers.get(MODEL_OUTPUT)
    while node is not None and node.op_type not in ("Gemm", "MatMul"):
        if node.op_type not in ("Concat", "Softmax", "Add", "Identity"):
            raise ValueError(f"unexpected {node.op_type} between the last Dense and {MODEL_OUTPUT}")
        node = producers.get(node.input[0])
    if node is None:
        raise ValueError(f"no Gemm or MatMul feeds {MODEL_OUTPUT}")
    return node


def _width(proto: onnx.ModelProto, dense: onnx.NodeProto) -> int:
    """How many inputs the last Dense takes (D): from its weight, an initialiser (behind the Cast and Mul
    that restore it in the int8 copy)."""
    producers = _producers(proto)
    weights = {init.name: init for init in proto.graph.initializer}
    name = dense.input[1]
    while name in producers and producers[name].op_type in ("Identity", "Mul", "Cast"):
        name = producers[name].input[0]
    transposed = any(a.name == "transB" and a.i for a in dense.attribute)
    return int(weights[name].dims[1 if transposed else 0])


def add_embedding(proto: onnx.ModelProto) -> int:
    """Make the last Dense's float input a second graph output, MODEL_EMBEDDING float32 [N, D]; returns D.

    The int8 copy (quantize) rounds weights only, so that input is the float pool in either file. The
    tensor is renamed, nothing is computed: the probabilities stay bit for bit (checked on the 10k test
    digits). Idempotent."""
    dense = _last_dense(proto)
    name = dense.input[0]
    present = any(output.name == MODEL_EMBEDDING for output in proto.graph.output)
    if present and name == MODEL_EMBEDDING:
        return _width(proto, dense)
    if present or name == MODEL_INPUT or any(output.name == name for output in proto.graph.output):
        raise ValueError(f"the last Dense reads {name}, not an inner float tensor that can become {MODEL_EMBEDDING}")
    _rename_tensor(proto, name, MODEL_EMBEDDING)
    width = _width(proto, dense)
    batch = proto.graph.output[0].type.tensor_type.shape.dim[0]
    output = onnx.helper.make_tensor_value_info(MODEL_EMBEDDING, onnx.TensorProto.FLOAT, [None, width])
    output.type.tensor_type.shape.dim[0].CopyFrom(batch)  # the same symbolic N as the probabilities
    proto.graph.output.append(output)
    return width


def onnx_outputs(path: Path | str, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, embedding) from onnxruntime on the CPU, as pyapp.model runs the file."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probabilities, embedding = session.run([MODEL_OUTPUT, MODEL_EMBEDDING], {MODEL_INPUT: images.astype(np.float32)})
    return probabilities, embedding


def onnx_predict(path: Path | str, images: np.ndarray) -> np.ndarray:
    """Probabilities from onnxruntime on the CPU, as pyapp.model runs the file."""
    return onnx_outputs(path, images)[0]


def keras_outputs(model: object, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, embedding) from Keras: the embedding is the global pool (what the class Dense reads,
    through dropout, which is the identity at inference)."""
    import keras

    pool = model.get_layer("pool").output  # type: ignore[attr-defined]
    both = keras.Model(model.inputs, [model.outputs[0], pool])  # type: ignore[attr-defined]
    probabilities, embedding = both.predict(images, batch_size=256, verbose=0)
    return np.asarray(probabilities), np.asarray(embedding)


def parity(model: object, path: Path | str, images: np.ndarray) -> float:
    """Largest absolute difference between Keras and onnxruntime on `images`, over both outputs."""
    expected = keras_outputs(model, images)
    got = onnx_outputs(path, images)
    return max(float(np.abs(e - g).max()) for e, g in zip(expected, got, strict=True))


def export(model: object, path: Path | str, check_images: np.ndarray) -> float:
    """Write `model` to `path` as ONNX; raise if onnxruntime disagrees with Keras by more than 1e-4."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.onnx")  # never leave a half-checked model where the page looks for it
    onnx.save(to_onnx(model), str(tmp))
    diff = parity(model, tmp, check_images)
    if diff > PARITY_TOLERANCE:
        tmp.unlink()
        raise RuntimeError(f"Keras and onnxruntime differ by {diff:.2e} (> {PARITY_TOLERANCE:g})")
    tmp.replace(path)
    return diff


def quantize(source: Path | str, target: Path | str) -> None:
    """An int8 copy of `source`: each Conv and MatMul weight stored as int8 with one float scale per output
    channel (symmetric, the channel's largest magnitude -> 127), restored by Cast and Mul in front of its
    layer. Every activation stays float32.

    onnxruntime folds Cast(int8) * scale into a float weight once, when the session is made, so the copy runs
    exactly as fast as the float model (CPython, one thread: 0.29-0.31 ms a digit, 4.3-4.5 ms for 16 rows,
    either file) and needs no session option. The static QDQ copy shipped before (uint8 activations too)
    agreed with this eleven-class model on 99.62% of the validation digits; this one on 100.00% (the
    probabilities within 0.034). DequantizeLinear in place of Cast and Mul reads the same but is not folded
    while onnxruntime keeps QDQ groups for its kernels: 1.7x slower per call, and unfolded weights lose the
    CPU's blocked layout."""
    from onnx import numpy_helper

    proto = onnx.load(str(source))
    weights = {init.name: init for init in proto.graph.initializer}
    restore: list[onnx.NodeProto] = []
    for node in proto.graph.node:
        if node.op_type not in ("Conv", "MatMul") or node.input[1] not in weights:
            continue
        name = node.input[1]
        weight = numpy_helper.to_array(weights[name])
        axis = 0 if node.op_type == "Conv" else weight.ndim - 1  # Conv [out, in, kh, kw]; MatMul [in, out]
        shape = [1] * weight.ndim
        shape[axis] = -1
        peak = np.abs(weight).max(axis=tuple(a for a in range(weight.ndim) if a != axis))
        scale = (np.where(peak > 0, peak, 1.0) / 127.0).astype(np.float32).reshape(shape)
        stored = np.clip(np.round(weight / scale), -127, 127).astype(np.int8)
        proto.graph.initializer.remove(weights[name])
        proto.graph.initializer.extend(
            [numpy_helper.from_array(stored, f"{name}.int8"), numpy_helper.from_array(scale, f"{name}.scale")]
        )
        restore += [
            onnx.helper.make_node("Cast", [f"{name}.int8"], [f"{name}.float"], to=onnx.TensorProto.FLOAT),
            onnx.helper.make_node("Mul", [f"{name}.float", f"{name}.scale"], [name]),
        ]
    nodes = [*restore, *proto.graph.node]
    del proto.graph.node[:]
    proto.graph.node.extend(nodes)
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(target))


def ship(source: Path | str, target: Path | str, check_images: np.ndarray) -> dict[str, object]:
    """Write to `target` the int8 copy of the float model `source` when its top digit agrees with the float
    model's on MIN_AGREEMENT of `check_images`, else `source` itself. Returns what was decided and measured,
    for training.json."""
    import shutil
    import tempfile

    target = Path(target)
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / "int8.onnx"
        quantize(source, candidate)
        # The class softmax's top (a digit, NOT_ONE or TWO): the pair softmaxes' columns are another question.
        agreement = float(
            (
                onnx_predict(source, check_images)[:, :CLASSES].argmax(axis=1)
                == onnx_predict(candidate, check_images)[:, :CLASSES].argmax(axis=1)
            ).mean()
        )
        if agreement < MIN_AGREEMENT:
            return {**keep_float(source, target), "int8_agreement": agreement}
        shutil.copyfile(candidate, target)
    return {"quantized": True, "int8_agreement": agreement, "float_bytes": Path(source).stat().st_size,
            "bytes": target.stat().st_size}


def keep_float(source: Path | str, target: Path | str) -> dict[str, object]:
    """Ship the float model `source` itself as `target`; the facts for training.json, as ship gives them."""
    import shutil

    shutil.copyfile(source, target)
    return {"quantized": False, "float_bytes": Path(source).stat().st_size, "bytes": Path(target).stat().st_size}


def main() -> None:
    """`python -m training.export`: redo the int8 step from model/digits.float.onnx (left by training.train)
    into model/digits.onnx, checked on the 10k validation digits (never the test split)."""
    import argparse

    from pyapp.config import MODEL_PATH
    from training.augment import renormalise
    from training.data import load_mnist

    argparse.ArgumentParser(description=main.__doc__).parse_args()
    source = float_path(MODEL_PATH)
    if not source.exists():
        raise SystemExit(f"{source} is missing: python -m training.train writes it")
    facts = ship(source, MODEL_PATH, renormalise(load_mnist().validation.images))
    record = MODEL_PATH.with_name("training.json")  # keep the training record true to the shipped file
    if record.exists():
        record.write_text(json.dumps({**json.loads(record.read_text()), **facts}, indent=1) + "\n")
    print(
        f"{MODEL_PATH}: {'int8' if facts['quantized'] else 'float'}, {facts['bytes']:,} bytes "
        f"(float {facts['float_bytes']:,}); top digit agrees with the float model on {facts['int8_agreement']:.2%}"
    )


if __name__ == "__main__":
    main()

"""Keras model -> ONNX file the page can run, checked against Keras before it is written; then a static int8
copy, shipped when it reads like the float model.

tf2onnx's `from_keras` fails on Keras 3, so the model is wrapped in a `tf.function` with a fixed input
signature and converted with `from_function`. The tensor names come from pyapp.config, the one place the
page, the CLI and training agree on them.

    float model (export: within 1e-4 of Keras) -> model/digits.float.onnx (git-ignored, kept for the card)
    int8 QDQ copy (quantize) -> model/digits.onnx when it agrees with the float one (ship), else the float one
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from pyapp.config import MODEL_INPUT, MODEL_OUTPUT, MODEL_SIDE
from training import import_tensorflow_quietly

OPSET = 17
MAX_IR_VERSION = 10  # onnxruntime-web 1.30 refuses IR 14 (onnx 1.23's default); opset 17 needs >= 8
PARITY_TOLERANCE = 1e-4
# The int8 copy is shipped when its top digit agrees with the float model's on at least this share of the
# check digits (validation digits, never the test split); the shipped copy agrees on 99.96% of them.
MIN_AGREEMENT = 0.998
CALIBRATION_DIGITS = 2000


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
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    proto.producer_name = "digit-reader training/export.py"
    onnx.checker.check_model(proto)
    return proto


def _rename_output(proto: onnx.ModelProto, name: str) -> None:
    """tf2onnx names the output after TF's tensor (e.g. 'Identity:0'); the page asks for `name`."""
    (output,) = proto.graph.output
    old = output.name
    for node in proto.graph.node:
        node.output[:] = [name if value == old else value for value in node.output]
        node.input[:] = [name if value == old else value for value in node.input]
    output.name = name


def onnx_predict(path: Path | str, images: np.ndarray) -> np.ndarray:
    """Probabilities from onnxruntime on the CPU, as pyapp.model runs the file."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([MODEL_OUTPUT], {MODEL_INPUT: images.astype(np.float32)})[0]


def parity(model: object, path: Path | str, images: np.ndarray) -> float:
    """Largest absolute difference between Keras and onnxruntime probabilities on `images`."""
    expected = np.asarray(model.predict(images, batch_size=256, verbose=0))  # type: ignore[attr-defined]
    return float(np.abs(expected - onnx_predict(path, images)).max())


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


def quantize(source: Path | str, target: Path | str, calibration_images: np.ndarray) -> None:
    """Static int8 QDQ copy of `source`, per-channel weights, calibrated on `calibration_images`.

    QDQ (QuantizeLinear/DequantizeLinear around float ops) runs in onnxruntime-web's wasm kernels; the
    dynamic path (ConvInteger) does not, and is slow where it does run. quant_pre_process needs sympy.
    """
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter([{MODEL_INPUT: calibration_images[i : i + 64]}
                                 for i in range(0, len(calibration_images), 64)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared))
        quantize_static(
            str(prepared), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            # Only the weighted layers: a quantized Softmax would give probabilities in steps of 1/255 that
            # no longer sum to 1.
            op_types_to_quantize=["Conv", "Gemm"],
        )
    proto = onnx.load(str(target))
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    onnx.save(proto, str(target))


def ship(source: Path | str, target: Path | str, check_images: np.ndarray) -> dict[str, object]:
    """Write to `target` the int8 copy of the float model `source` (calibrated on the first
    CALIBRATION_DIGITS of `check_images`) when it agrees with it on MIN_AGREEMENT of them, else `source`
    itself. Returns what was decided and measured, for training.json."""
    import shutil
    import tempfile

    target = Path(target)
    with tempfile.TemporaryDirectory() as scratch:
        candidate = Path(scratch) / "int8.onnx"
        quantize(source, candidate, check_images[:CALIBRATION_DIGITS])
        agreement = float(
            (onnx_predict(source, check_images).argmax(axis=1) == onnx_predict(candidate, check_images).argmax(axis=1))
            .mean()
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

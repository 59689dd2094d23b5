"""Keras model -> ONNX file the page can run, checked against Keras before it is written.

tf2onnx's `from_keras` fails on Keras 3, so the model is wrapped in a `tf.function` with a fixed input
signature and converted with `from_function`. The tensor names come from pyapp.config, the one place the
page, the CLI and training agree on them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from pyapp.config import MODEL_INPUT, MODEL_OUTPUT, MODEL_SIDE
from training import import_tensorflow_quietly

OPSET = 17
MAX_IR_VERSION = 10  # onnxruntime-web 1.30 refuses IR 14 (onnx 1.23's default); opset 17 needs >= 8
PARITY_TOLERANCE = 1e-4


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
        )
    proto = onnx.load(str(target))
    proto.ir_version = min(proto.ir_version, MAX_IR_VERSION)
    onnx.save(proto, str(target))


def main() -> None:
    """`python -m training.export --quantize OUT`: a static QDQ copy of model/digits.onnx, calibrated on 2,000
    validation digits (never the test split), with its pad-path accuracy next to the float model's."""
    import argparse

    from pyapp.config import MODEL_PATH
    from training.augment import renormalise
    from training.data import load_mnist
    from training.pad import pad_batch

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--quantize", type=Path, required=True, help="where to write the int8 QDQ model")
    target = parser.parse_args().quantize
    data = load_mnist()
    quantize(MODEL_PATH, target, renormalise(data.validation.images[:2000]))
    images = pad_batch(data.test.images, seed=0)
    for path in (MODEL_PATH, target):
        accuracy = float((onnx_predict(path, images).argmax(axis=1) == data.test.labels).mean())
        print(f"{path}: {Path(path).stat().st_size:,} bytes, pad-path accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()

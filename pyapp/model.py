"""The digit model in CPython: one onnxruntime session on the CPU (the page uses onnxruntime-web instead).

The model file is looked for in the source checkout's model/ first (what the page serves and what
training writes), then inside the installed package (pyapp/assets/, see pyproject.toml), so both
`python -m pyapp` in a checkout and the `digit-reader` command from `pip install .` find it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pyapp.config import (
    EMBEDDING_SIZE,
    MODEL_EMBEDDING,
    MODEL_FILE,
    MODEL_INPUT,
    MODEL_OUTPUT,
    MODEL_PATH,
    MODEL_SIDE,
    OUTPUT_WIDTH,
    SPACE_FILE,
)

INSTALLED_PATH = Path(__file__).resolve().parent / "assets" / MODEL_FILE


class ModelError(RuntimeError):
    """The model cannot be loaded; the message says why, for people."""


def find_model(path: str | Path | None = None) -> Path:
    """The model file to load: `path` when given, else the checkout's, else the installed one."""
    candidates = [Path(path)] if path is not None else [MODEL_PATH, INSTALLED_PATH]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise ModelError(f"model file not found (looked at {looked}); train it with training/train.py")


def find_space(model_path: str | Path | None = None) -> Path:
    """The embedding space file (pyapp.personal) that goes with the model: digits.space.npz beside it."""
    space = find_model(model_path).with_name(SPACE_FILE)
    if not space.is_file():
        raise ModelError(f"{space} is missing: it goes with {find_model(model_path)} (python -m training.space)")
    return space


def _session(model_path: Path) -> object:
    """One onnxruntime session on the CPU for `model_path`; ModelError when it cannot be had."""
    try:
        import onnxruntime  # here, not at the top: the page imports pyapp modules without onnxruntime
    except ImportError as error:
        raise ModelError(f"onnxruntime is not installed ({error}); pip install onnxruntime") from None
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # a few 28x28 images: threads cost more than they save
    options.log_severity_level = 3  # warnings about unused initialisers are noise for users
    try:
        return onnxruntime.InferenceSession(str(model_path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own (non-exported) exception types
        raise ModelError(f"cannot load the model {model_path}: {error}") from error


def _images(batch: np.ndarray) -> np.ndarray:
    return np.asarray(batch, dtype=np.float32).reshape(-1, MODEL_SIDE, MODEL_SIDE, 1)


def load_model(path: str | Path | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """predict(batch float32 [N, 28, 28, 1]) -> probabilities float32 [N, 11] (ten digits, NOT_ONE), from one
    CPU session."""
    session = _session(find_model(path))

    def predict(batch: np.ndarray) -> np.ndarray:
        images = _images(batch)
        if images.shape[0] == 0:
            return np.zeros((0, OUTPUT_WIDTH), dtype=np.float32)
        (probabilities,) = session.run([MODEL_OUTPUT], {MODEL_INPUT: images})
        return np.asarray(probabilities, dtype=np.float32)

    return predict


def load_model_with_embedding(
    path: str | Path | None = None,
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """predict(batch) -> (probabilities [N, 11], embeddings [N, D]) from one model call, for pyapp.personal."""
    model_path = find_model(path)
    session = _session(model_path)
    if MODEL_EMBEDDING not in [output.name for output in session.get_outputs()]:
        raise ModelError(f"the model {model_path} has no {MODEL_EMBEDDING} output (export it with training/export.py)")

    def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = _images(batch)
        if images.shape[0] == 0:
            return np.zeros((0, OUTPUT_WIDTH), dtype=np.float32), np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        probabilities, embeddings = session.run([MODEL_OUTPUT, MODEL_EMBEDDING], {MODEL_INPUT: images})
        return np.asarray(probabilities, dtype=np.float32), np.asarray(embeddings, dtype=np.float32)

    return predict

"""The embedding space pyapp.personal compares drawings in: model/digits.space.npz.

The model's `embedding` output is a pool of ReLUs: every digit's vector points roughly the same way, so the
plain cosine of two of them is high even for different digits (on the 10k validation digits through the
pad path, different-label pairs reach 0.64 at the 99th percentile). What tells a taught "V" from an MNIST 4
is in directions MNIST hardly uses. So the space is the embedding centred on the validation digits' mean
and whitened by their covariance (eigenvalues floored at SHRINK times the largest, so that directions MNIST
never varies along are not blown up without bound). pyapp.personal then takes cosines there.

Measured while choosing this (10k validation digits through the pad path; the whitening fitted on half of
them, 25 "V" and 25 inverted "V" taught as 7 and 8, tests.helpers.v_shape): the threshold at which none of
the other 5k digits would be read as taught was 0.95 in plain cosine, but only 0.68 once whitened, and new
V shapes reach their nearest of 3 taught ones at 0.75 or more 95% of the time (whitened) against 92.5% above
the plain threshold. The floor was tried from 1e-4 to 0.1: the same separation throughout.

The file holds `mean` float32 [D], `projection` float32 [D, D] and `model`, the sha256 of the model file it
was fitted for: examples taught with another model's embeddings are refused on import.

    python -m training.space    # model/digits.onnx -> model/digits.space.npz, from the validation digits
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from pyapp.config import MODEL_EMBEDDING, MODEL_INPUT, MODEL_PATH, SPACE_PATH

SHRINK = 0.01  # eigenvalue floor, as a share of the largest (see the module's docstring)
PAD_SEED = 5  # the validation digits' painting on the pad (training.pad), fixed so the file is reproducible


def fit(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean [D], projection [D, D]) such that (e - mean) @ projection has about unit variance per direction."""
    data = np.asarray(embeddings, np.float64)
    mean = data.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov((data - mean).T))
    projection = vectors / np.sqrt(np.maximum(values, 0.0) + SHRINK * values.max())
    return mean.astype(np.float32), projection.astype(np.float32)


def embed(model: Path, images: np.ndarray) -> np.ndarray:
    """The model's embedding of [N, 28, 28, 1] images, from onnxruntime on the CPU."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return np.concatenate(
        [session.run([MODEL_EMBEDDING], {MODEL_INPUT: images[i : i + 1000]})[0] for i in range(0, len(images), 1000)]
    )


def write(model: Path, target: Path, digits: np.ndarray) -> dict[str, object]:
    """Fit the space on `digits` (raw MNIST [N, 28, 28(, 1)]) painted on the pad, write `target`."""
    from training.pad import pad_batch

    mean, projection = fit(embed(model, pad_batch(digits, seed=PAD_SEED)))
    buffer = io.BytesIO()
    digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    np.savez_compressed(buffer, mean=mean, projection=projection, model=np.array(digest))
    Path(target).write_bytes(buffer.getvalue())
    return {"space_bytes": Path(target).stat().st_size, "space_digits": len(digits)}


def main() -> None:
    import argparse

    from training.data import load_mnist

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    facts = write(MODEL_PATH, SPACE_PATH, load_mnist().validation.images)
    print(f"{SPACE_PATH}: {facts['space_bytes']:,} bytes, fitted on {facts['space_digits']:,} validation digits")


if __name__ == "__main__":
    main()

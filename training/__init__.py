"""Training, export and evaluation of the digit model (CPython only; the page never imports this)."""

from __future__ import annotations

import os
import sys


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras without their start-up notices.

    TF 2.21 prints its oneDNN notice through absl before TF_CPP_MIN_LOG_LEVEL takes effect, so stderr's
    file descriptor is pointed at /dev/null for the import only (oneDNN itself stays on: it is faster).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)

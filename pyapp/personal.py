"""A person's own examples: drawings they corrected, kept as (embedding, label), read before the model.

Pure numpy, the same in CPython and Pyodide. The page (or the CLI's --examples) keeps an `Examples`; each
correction adds the corrected piece's embedding (the model's `embedding` output for that 28x28 input) with
the label the person chose. When a piece of a later drawing is close to taught examples, their label wins
over the model: `taught(embeddings)` gives, per batch row, the label the examples vote for, or -1, and
`recognize.decide(prepared, probabilities, taught)` reads those rows as taught while the bars keep the
model's own probabilities. With no examples `taught` returns None and the reading is exactly the model's.

    space = Space.load(path_or_bytes)                    # how embeddings are compared (training/space.py)
    examples = Examples(space)                           # or Examples.from_json(text, space)
    examples.add(embedding, 7)                           # capped at MAX_EXAMPLES, oldest out
    reading = read(rgba, predict_both, examples)          # prepare -> model (both outputs) -> decide
    text = examples.to_json()                            # to take them to another browser

The JSON file: {"format": FORMAT, "version": 1, "model": "<sha256 of the model file>", "size": D,
"examples": [{"label": 0..9, "embedding": [D numbers]}, ...]} in the order taught (oldest first).
A file that is not one of ours, is damaged, or was taught with another model raises ExamplesError with a
message for people, and nothing changes.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from pyapp.recognize import Prepared, Reading, decide, prepare

FORMAT = "digit-reader examples"
VERSION = 1
MAX_EXAMPLES = 500  # oldest out: a person's current style matters more than the first drawings
MAX_FILE_BYTES = 4_000_000  # 500 examples take about 0.5 MB; anything far larger is not ours
# Cosine similarity, in the whitened space (training/space.py), above which a taught example counts as
# "the same drawing". Chosen on the 10k MNIST validation digits through the pad path, with 25 "V" and 25
# inverted "V" shapes taught as 7 and 8 (tests.helpers.v_shape), the whitening fitted on the other half:
# no validation digit came closer than 0.68 to a taught shape of another label, while new V shapes came
# within 0.75 of the nearest of 3 taught ones 95% of the time (median 0.85). 0.72 sits between. Checked on
# the 10k test digits (bench/personal.py): with those 50 examples no reading changed; 197 of 200 new V
# shapes read 7 after 3 were taught.
SIMILARITY = 0.72
# The nearest few close examples vote, weighted by similarity: one stray example taught with a wrong label
# is outvoted by two right ones, yet a single example is enough when it is the only close one.
NEIGHBOURS = 3

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class ExamplesError(ValueError):
    """Examples that cannot be used (a damaged, foreign or other model's file); the message is for people."""


class Space:
    """How embeddings are compared: centred and whitened (training/space.py), then cosine."""

    def __init__(self, mean: np.ndarray, projection: np.ndarray, model: str) -> None:
        self.mean = np.asarray(mean, np.float32).reshape(-1)
        self.projection = np.asarray(projection, np.float32)
        self.model = str(model)
        if self.projection.shape != (self.size, self.size):
            raise ValueError(f"projection {self.projection.shape} does not match a mean of {self.size}")

    @property
    def size(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def load(cls, source: str | Path | bytes) -> Space:
        """From training/space.py's .npz file, given as a path or as its bytes (the page fetches them)."""
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return cls(arrays["mean"], arrays["projection"], str(arrays["model"]))

    def unit(self, embeddings: np.ndarray) -> np.ndarray:
        """[N, D] embeddings -> [N, D] unit vectors in the whitened space (zero vectors stay zero)."""
        whitened = (np.asarray(embeddings, np.float32).reshape(-1, self.size) - self.mean) @ self.projection
        norms = np.linalg.norm(whitened, axis=1, keepdims=True)
        return whitened / np.maximum(norms, np.float32(1e-12))


class Examples:
    """The person's examples, oldest first, at most MAX_EXAMPLES."""

    def __init__(self, space: Space) -> None:
        self.space = space
        self.embeddings = np.zeros((0, space.size), np.float32)
        self.labels = np.zeros(0, np.int64)
        self._units: np.ndarray | None = None  # the embeddings in the space, computed when first needed

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def add(self, embedding: np.ndarray, label: int) -> None:
        """Remember one corrected piece: its embedding [D] and the digit the person says it is."""
        vector = np.asarray(embedding, np.float32).reshape(-1)
        if vector.shape != (self.space.size,) or not np.isfinite(vector).all():
            raise ValueError(f"expected {self.space.size} finite numbers, got shape {vector.shape}")
        if isinstance(label, bool) or int(label) != label or not 0 <= int(label) <= 9:
            raise ValueError(f"a label is a digit 0-9, got {label!r}")
        self.embeddings = np.concatenate([self.embeddings, vector[None]])[-MAX_EXAMPLES:]
        self.labels = np.concatenate([self.labels, [int(label)]])[-MAX_EXAMPLES:]
        self._units = None

    def clear(self) -> None:
        self.embeddings = self.embeddings[:0]
        self.labels = self.labels[:0]
        self._units = None

    def taught(self, embeddings: np.ndarray) -> np.ndarray | None:
        """Per row of `embeddings` [N, D], the label its close examples vote for, or -1 where none is close
        (see SIMILARITY, NEIGHBOURS); None when there are no examples, so the model reads alone."""
        if not len(self):
            return None
        if self._units is None:
            self._units = self.space.unit(self.embeddings)
        similarity = self.space.unit(embeddings) @ self._units.T  # [N, examples]
        result = np.full(similarity.shape[0], -1, np.int64)
        count = min(NEIGHBOURS, len(self))
        nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :count]
        for row in np.flatnonzero(similarity.max(axis=1) >= SIMILARITY):
            votes = np.zeros(10)
            for index in nearest[row]:
                if similarity[row, index] >= SIMILARITY:
                    votes[self.labels[index]] += similarity[row, index]
            result[row] = int(votes.argmax())  # ties go to the lower digit; the nearest decides in practice
        return result

    def to_json(self) -> str:
        """The examples as a JSON document (see the module's docstring), for export and for storage."""
        return json.dumps(
            {
                "format": FORMAT,
                "version": VERSION,
                "model": self.space.model,
                "size": self.space.size,
                "examples": [
                    {"label": int(label), "embedding": [round(float(v), 6) for v in vector]}
                    for vector, label in zip(self.embeddings, self.labels, strict=True)
                ],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes, space: Space) -> Examples:
        """Examples from to_json's document; ExamplesError (for people) when it is not a usable one."""
        document = _parse(text)
        found = cls(space)
        embeddings, labels = _checked(document, space)
        found.embeddings, found.labels = embeddings, labels
        return found


def _parse(text: str | bytes) -> dict:
    if len(text) > MAX_FILE_BYTES:
        raise ExamplesError("This file is too large to be a set of taught examples.")
    try:
        document = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ExamplesError("This file is not a set of taught examples (it is not readable JSON).") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ExamplesError("This file is not a set of taught examples from this digit reader.")
    return document


def _checked(document: dict, space: Space) -> tuple[np.ndarray, np.ndarray]:
    """The document's (embeddings [n, D] float32, labels [n]), or ExamplesError saying what is wrong."""
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise ExamplesError(f"These examples are in a format this page does not know (version {version!r}).")
    if document.get("model") != space.model or document.get("size") != space.size:
        raise ExamplesError("These examples were taught to a different version of the model, so they cannot be used.")
    examples = document.get("examples")
    if not isinstance(examples, list):
        raise ExamplesError("This file of taught examples is damaged: it has no list of examples.")
    if len(examples) > MAX_EXAMPLES:
        raise ExamplesError(f"This file has {len(examples)} examples; at most {MAX_EXAMPLES} can be kept.")
    embeddings = np.zeros((len(examples), space.size), np.float32)
    labels = np.zeros(len(examples), np.int64)
    for index, example in enumerate(examples):
        where = f"This file of taught examples is damaged (example {index + 1})"
        if not isinstance(example, dict) or set(example) != {"label", "embedding"}:
            raise ExamplesError(f"{where}: it should hold just a label and an embedding.")
        label, vector = example["label"], example["embedding"]
        if type(label) is not int or not 0 <= label <= 9:
            raise ExamplesError(f"{where}: its label is not a digit 0-9.")
        if (
            not isinstance(vector, list)
            or len(vector) != space.size
            or not all(_finite(v) for v in vector)
        ):
            raise ExamplesError(f"{where}: its embedding is not {space.size} numbers.")
        embeddings[index], labels[index] = vector, label
    return embeddings, labels


def _finite(value: object) -> bool:
    """A JSON number that fits a float32 (no bool, no NaN or infinity, no 400-digit integer)."""
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(float(value)) and abs(float(value)) < 1e30
    except OverflowError:
        return False


def decide_taught(
    prepared: Prepared, probabilities: np.ndarray, embeddings: np.ndarray, examples: Examples | None
) -> Reading:
    """recognize.decide with the person's examples, given the model's two outputs for prepared.batch. With
    no examples (None or empty) the reading is exactly recognize.decide's."""
    taught = examples.taught(embeddings) if examples is not None and len(prepared.batch) else None
    return decide(prepared, probabilities, taught)


def read(rgba: np.ndarray, predict: Predict, examples: Examples | None) -> Reading:
    """recognize.read with the person's examples: prepare -> model (probabilities and embeddings) -> decide."""
    prepared = prepare(rgba)
    if prepared.batch.shape[0] == 0:
        return decide(prepared, None)
    return decide_taught(prepared, *predict(prepared.batch), examples)

"""Train the shipped digit model on MNIST and pieces of written numbers, and export it to model/digits.onnx.

    python -m training.train                     # the shipped model: 24 min on 2 quiet cores (38-48 busy)
    python -m training.train --epochs 2 --no-augment --fit train --out none   # a quick look at validation

Every image the model sees went through the page's own normalisation (pyapp.preprocess.normalise_ink), so
training and the pad agree on size, position and intensity. Next to MNIST, every epoch holds pieces of
numbers as people write them (training.numbers: digits drawn with the pad's round pen in people's styles and
MNIST digits, set close, touching and apart), cut by the reader's own pyapp.segment and labelled by their
overlap with the true digits: a digit, or NOT_ONE, the eleventh class (two digits or parts of them, a
fragment). Seeded end to end (numpy, TF, Keras).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from pyapp.config import CLASSES, DIGITS, MODEL_PATH, MODEL_SIDE, NOT_ONE, OUTPUT_WIDTH, PAIR_LEFT, PAIR_RIGHT, TWO
from training import augment, import_tensorflow_quietly, numbers
from training.data import Mnist, Split, load_mnist


@dataclass(frozen=True)
class Config:
    epochs: int = 10
    batch_size: int = 128
    peak_lr: float = 3e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.05
    clean_fraction: float = augment.PLAIN_FRACTION  # share of each epoch left plain (enlarged, re-normalised)
    augment: bool = True
    fit: str = "all"  # "all": train+validation (shipped); "train": hold validation out to compare ideas
    seed: int = 0
    workers: int = 2
    limit: int = 0  # use only the first N training digits (smoke tests); 0 = all
    quantize: bool = True  # ship the int8 copy when it reads like the float model (training.export.ship)
    numbers: int = 6000  # numbers written (training.numbers) whose pieces join MNIST; 0 = MNIST only
    piece_digits: int = 10000  # per epoch, at most this many pieces labelled a digit ...
    piece_others: int = 12000  # ... and this many labelled NOT_ONE, drawn afresh from the bank each epoch
    piece_pairs: int = 10000  # ... and this many of two whole digits (TWO, with both digits for the pair heads)


ARCHITECTURE = (
    "CNN: conv5x5(24)-BN-ReLU, maxpool, 2 x [conv3x3(48)-BN-ReLU], maxpool, 2 x [conv3x3(96)-BN-ReLU]; "
    "global average pool, dropout 0.25, dense(12) softmax (ten digits, NOT_ONE, TWO); and the 7 columns "
    "averaged over rows, dropout 0.25, two dense(10) softmaxes (a pair's left and right digit)"
)


def build_model(seed: int = 0) -> object:
    """A BatchNorm CNN: 5x5 conv at 28 px, two 3x3 at 14 px, two at 7 px, global pooling, softmax.

    Sized for 2 CPU cores: most of the cost of an MNIST CNN is the full-resolution layers, so only one
    narrow conv runs at 28x28 and the width goes to the pooled 14x14 and 7x7 maps.
    """
    import_tensorflow_quietly()
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)

    def conv(x: object, filters: int, size: int = 3) -> object:
        # No bias: BatchNorm's shift does that job.
        x = layers.Conv2D(filters, size, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = keras.Input((MODEL_SIDE, MODEL_SIDE, 1), name="image")
    x = conv(inputs, 24, 5)
    x = layers.MaxPooling2D()(x)  # 14x14
    x = conv(conv(x, 48), 48)
    x = layers.MaxPooling2D()(x)  # 7x7
    x = conv(conv(x, 96), 96)
    pooled = layers.Dropout(0.25)(layers.GlobalAveragePooling2D(name="pool")(x))
    classes = layers.Dense(CLASSES, activation="softmax", name="classes")(pooled)
    # Which two digits a pair holds needs to know what is left and what is right, which the global pool
    # throws away: the pair heads read the map's 7 columns (each averaged over its rows).
    columns = layers.Dropout(0.25)(layers.Flatten()(layers.AveragePooling2D((7, 1))(x)))
    left = layers.Dense(DIGITS, activation="softmax", name="left")(columns)
    right = layers.Dense(DIGITS, activation="softmax", name="right")(columns)
    outputs = layers.Concatenate(name="probabilities")([classes, left, right])
    return keras.Model(inputs, outputs, name="digits")


def loss(targets: object, outputs: object) -> object:
    """Cross-entropy of the class softmax (label-smoothed) plus, for pairs only, of the two pair softmaxes:
    their targets are all zero for any other piece, so they add nothing there."""
    import keras
    from keras import ops

    outputs = ops.clip(outputs, keras.config.epsilon(), 1.0)
    smoothing = Config.label_smoothing
    classes = targets[:, :CLASSES] * (1 - smoothing) + smoothing / CLASSES
    total = -ops.sum(classes * ops.log(outputs[:, :CLASSES]), axis=-1)
    return total - ops.sum(targets[:, CLASSES:] * ops.log(outputs[:, CLASSES:]), axis=-1)


def accuracy(targets: object, outputs: object) -> object:
    """The class softmax's accuracy (digits, NOT_ONE, TWO)."""
    import keras

    return keras.metrics.categorical_accuracy(targets[:, :CLASSES], outputs[:, :CLASSES])


def class_of(labels: np.ndarray) -> np.ndarray:
    """Training labels (0-9, NOT_ONE, numbers.pair_label) -> the class softmax's (pairs are TWO)."""
    return np.where(labels >= numbers.PAIR_BASE, TWO, labels)


def targets_of(labels: np.ndarray) -> np.ndarray:
    """One-hot rows for the model's output: the class, and for pairs also each of the two digits."""
    out = np.zeros((len(labels), OUTPUT_WIDTH), np.float32)
    out[np.arange(len(labels)), class_of(labels)] = 1.0
    pairs = np.flatnonzero(labels >= numbers.PAIR_BASE)
    code = labels[pairs] - numbers.PAIR_BASE
    out[pairs, PAIR_LEFT + code // 10] = 1.0
    out[pairs, PAIR_RIGHT + code % 10] = 1.0
    return out


def compile_model(model: object, config: Config, steps: int) -> None:
    """AdamW with a short warm-up and cosine decay to zero over `steps` optimizer steps."""
    import keras

    warmup = max(1, steps // 20)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps - warmup, warmup_target=config.peak_lr, warmup_steps=warmup
    )
    model.compile(  # type: ignore[attr-defined]
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=loss,
        metrics=[accuracy],
    )


def epoch_images(base: Split, config: Config, epoch: int) -> np.ndarray:
    """This epoch's inputs: pad-like variations of each digit (fresh per epoch), some left plain."""
    if not config.augment:
        return base.images
    return augment.augment_split(
        base.images, seed=config.seed * 1000 + epoch, clean_fraction=config.clean_fraction,
        workers=config.workers, labels=base.labels,
    )


def piece_bank(config: Config, source: Split) -> Split:
    """Labelled pieces of `config.numbers` numbers (training.numbers), written in worker processes, each
    chunk with its own seed so the bank does not depend on the number of workers."""
    chunks = max(1, config.numbers // 500)
    sizes = [len(c) for c in np.array_split(np.arange(config.numbers), chunks)]
    context = multiprocessing.get_context("spawn")  # TensorFlow's threads and fork do not mix
    with ProcessPoolExecutor(config.workers, mp_context=context) as pool:
        # Each chunk draws its MNIST digits from its own slice: a few MB to send, not the whole split.
        slices = [(source.images[k::chunks], source.labels[k::chunks]) for k in range(chunks)]
        parts = list(pool.map(numbers.training_pieces, sizes, [config.seed * 1000 + k for k in range(chunks)], slices))
    return Split(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def epoch_pieces(bank: Split, config: Config, epoch: int) -> Split:
    """This epoch's share of the bank: up to piece_digits digit pieces, piece_others NOT_ONE ones and
    piece_pairs of two digits."""
    rng = np.random.default_rng([config.seed, epoch, 77])
    kinds = class_of(bank.labels)
    chosen = np.concatenate([
        rng.choice(group, min(len(group), wanted), replace=False)
        for group, wanted in (
            (np.flatnonzero(kinds < DIGITS), config.piece_digits),
            (np.flatnonzero(kinds == NOT_ONE), config.piece_others),
            (np.flatnonzero(kinds == TWO), config.piece_pairs),
        )
    ])
    return Split(bank.images[chosen], bank.labels[chosen])


def train(
    config: Config, out: Path | None = MODEL_PATH, data: Mnist | None = None
) -> tuple[object, dict[str, object]]:
    """Fit a model as `config` says; export it to `out` (skipped when None). Returns model and summary."""
    import_tensorflow_quietly()

    started = time.perf_counter()
    data = data or load_mnist()
    base = data.train_and_validation() if config.fit == "all" else data.train
    if config.limit:
        base = Split(base.images[: config.limit], base.labels[: config.limit])
    # Plain MNIST through the page's normalisation: the pad's reference distribution.
    base = Split(augment.renormalise(base.images, workers=config.workers), base.labels)
    held_out = data.test if config.fit == "all" else data.validation
    held_images = augment.renormalise(held_out.images[: config.limit or None], workers=config.workers)
    held_labels = held_out.labels[: config.limit or None]
    # The bank is written from MNIST's training digits only (never the held-out split), before the fit.
    bank = piece_bank(config, data.train if config.fit == "train" else base) if config.numbers else None
    per_epoch = len(base) + (len(epoch_pieces(bank, config, 0)) if bank is not None else 0)
    if bank is not None:
        print(f"piece bank: {np.bincount(class_of(bank.labels), minlength=CLASSES).tolist()} (0-9, NOT_ONE, TWO) "
              f"in {time.perf_counter() - started:.0f}s", flush=True)

    model = build_model(config.seed)
    steps_per_epoch = -(-per_epoch // config.batch_size)
    compile_model(model, config, steps_per_epoch * config.epochs)
    print(f"{model.count_params():,} parameters; {per_epoch:,} images x {config.epochs} epochs", flush=True)

    rng = np.random.default_rng(config.seed)
    # The next epoch's digits are rendered (in worker processes) while this epoch trains: TF rarely keeps
    # both cores busy, so the augmentation mostly fills idle time instead of adding to the wall time.
    with ThreadPoolExecutor(1) as background:
        upcoming = background.submit(epoch_images, base, config, 0)
        for epoch in range(config.epochs):
            tick = time.perf_counter()
            images, labels = upcoming.result(), base.labels
            waited = time.perf_counter() - tick
            if epoch + 1 < config.epochs:
                upcoming = background.submit(epoch_images, base, config, epoch + 1)
            if bank is not None:
                pieces = epoch_pieces(bank, config, epoch)
                images, labels = np.concatenate([images, pieces.images]), np.concatenate([labels, pieces.labels])
            targets = targets_of(labels)
            order = rng.permutation(len(images))  # shuffle here so the seed fixes the order
            history = model.fit(  # type: ignore[attr-defined]
                images[order], targets[order], batch_size=config.batch_size, epochs=1, shuffle=False, verbose=0
            )
            _report(epoch, config, history.history, model, held_images, held_labels, waited, tick, started)

    summary = {
        **asdict(config),
        "architecture": ARCHITECTURE,
        "augmentation": augment.DESCRIPTION if config.augment else "none",
        "parameters": int(model.count_params()),
        "bank": np.bincount(class_of(bank.labels), minlength=CLASSES).tolist() if bank is not None else [],
        "held_out": "test" if config.fit == "all" else "validation",
        "held_out_accuracy": _accuracy(model, held_images, held_labels),
        "train_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}",
        "load_average": round(os.getloadavg()[1], 1),  # > cores: the wall time includes other people's jobs
    }
    if out is not None:
        summary.update(_export(model, Path(out), config, data, held_images))
        Path(out).with_name("training.json").write_text(json.dumps(summary, indent=1) + "\n")
    return model, summary


def _export(model: object, out: Path, config: Config, data: Mnist, held_images: np.ndarray) -> dict[str, object]:
    """Float ONNX beside `out` (checked against Keras), then `out` itself: its int8 copy, or the float one;
    then the embedding space pyapp.personal compares drawings in (training/space.py), fitted on `out`."""
    from pyapp.config import SPACE_FILE
    from training import space
    from training.export import export, float_path, keep_float, ship

    source = float_path(out)
    facts = {"parity": export(model, source, held_images[:512])}
    validation = data.validation.images[: config.limit or None]
    if config.quantize:
        # Checked on validation digits: fitted on with fit="all", but this compares two models, not digits.
        check = augment.renormalise(validation, workers=config.workers)
        facts.update(ship(source, out, check))
    else:
        facts.update(keep_float(source, out))
    return {**facts, **space.write(out, out.with_name(SPACE_FILE), validation)}


def _report(
    epoch: int, config: Config, history: dict, model: object, images: np.ndarray, labels: np.ndarray,
    waited: float, tick: float, started: float,
) -> None:
    # Validation is watched while comparing ideas; the test split is not looked at until the end.
    watched = f" validation acc {_accuracy(model, images, labels):.4f}" if config.fit == "train" else ""
    print(
        f"epoch {epoch + 1:2d}/{config.epochs} loss {history['loss'][-1]:.4f} "
        f"train acc {history['accuracy'][-1]:.4f}{watched} "
        f"(waited {waited:.0f}s for augmentation, epoch {time.perf_counter() - tick:.0f}s, "
        f"elapsed {(time.perf_counter() - started) / 60:.1f} min)",
        flush=True,
    )


def _accuracy(model: object, images: np.ndarray, labels: np.ndarray) -> float:
    probabilities = model.predict(images, batch_size=512, verbose=0)  # type: ignore[attr-defined]
    return float((np.argmax(probabilities[:, :CLASSES], axis=1) == labels).mean())


def parse_args() -> tuple[Config, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Config()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.peak_lr)
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--fit", choices=["all", "train"], default=defaults.fit)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--numbers", type=int, default=defaults.numbers, help="numbers whose pieces join MNIST")
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="ONNX path; 'none' to skip export")
    parser.add_argument("--no-quantize", action="store_true", help="ship the float model, not its int8 copy")
    args = parser.parse_args()
    config = Config(
        epochs=args.epochs, batch_size=args.batch_size, peak_lr=args.lr, augment=not args.no_augment,
        fit=args.fit, seed=args.seed, limit=args.limit, quantize=not args.no_quantize, numbers=args.numbers,
    )
    return config, None if str(args.out) == "none" else args.out


def main() -> None:
    config, out = parse_args()
    print(config, flush=True)
    _, summary = train(config, out)
    print(
        f"done in {summary['train_seconds'] / 60:.1f} min: {summary['held_out']} accuracy "
        f"{summary['held_out_accuracy']:.4f} (pyapp-normalised digits), {summary['parameters']:,} parameters"
        + (
            f", {out} {summary['bytes']:,} bytes ({'int8' if summary['quantized'] else 'float'}), "
            f"Keras/onnxruntime max diff {summary['parity']:.1e}"
            if out
            else ""
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()

"""Why this digit: occlusion sensitivity for one 28x28 image, in pure numpy (CPython and Pyodide alike).

    batch = occlusions(image)                      # the image, then one copy per patch over ink hidden
    probabilities = predict(batch)                 # ONE model call: [1 + patch_count(image), 10 or 11]
    why = why_map(image, probabilities)            # heat [28, 28] in [0, 1], and a sentence

A patch matters when hiding it lowers the top digit's lead over the runner-up; each ink pixel's heat is the
mean drop over the patches that cover it. The question people ask is "why a 7 and not a 1?", so the lead is
contrastive: log p[top] - log p[runner_up], the log-odds between the two, which ignore the probability that
goes to neither (NOT_ONE, the other eight digits): hiding a 6's stem may make it "not sure what" without
making it any more a 0. The lead in plain probabilities (p[top] - p[runner_up]) weighs exactly that, and on
the drawings of tests/test_why.py it found the deciding part less well: the 6 against the 0 at 1.23-1.37x
(the heat's share on the deciding part over that part's share of the ink) against 1.63-1.81x in log-odds
(measured with the ten-class model and 6 px + 10 px patches every 3 px).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pyapp.config import DIGITS, MODEL_SIDE

# (patch side, stride) in the model's pixels: 6 px and 10 px every 6 px, 25 + 16 = 41 patches, of which those
# over ink are hidden (`hidden`): 14-39 rows per map with the image's, a median of 29 (bench/why.py --variants,
# 200 MNIST test digits on the pad); in the page the image's row comes from its reading (two or three of
# site/model.mjs's turns of 16). The model sees a digit 20 px tall with strokes 2-3 px wide; it reads a 7's
# bar with any 6 px of it hidden (p[7] 0.94 -> 0.75 at least, tests/test_why.py's 7 at its three pens), while
# 10 px can take it to 0.02: 6 px patches alone miss the bar, 10 px alone are coarse on a 6's opening.
# Measured with the model shipped now (bench/why.py --variants): the heat's share on the deciding part over
# its share of the ink on tests/test_why.py's three pairs at its three pens, and how often its 1.4x is
# reached on 72 more drawings of them, their strokes' ends moved by up to 0.04 of the height:
#   patches               rows    7 vs 1              9 vs 4              6 vs 0
#   6/3 + 10/3            56-126  1.27-1.39, 0%       1.81-2.15, 100%     1.42-1.60, 83%
#   10/5                  16-26   1.31-1.41, 29%      1.65-1.94, 100%     1.50-1.68, 92%
#   10/6                  9-17    1.55-1.58, 100%     1.74-2.05, 100%     1.39-1.60, 75%
#   10/8                  5-17    1.37-1.60, 96%      1.62-2.26, 100%     1.51-1.80, 88%
#   6/6 + 10/6            14-39   1.58-1.59, 96%      1.90-2.45, 100%     1.48-1.72, 83%
# 6/6 + 10/6 is the only set above 1.4 on every pair at every pen. 10/6 alone (16 rows, one turn) was chosen
# with the model before this one (6 vs 0 1.49-1.63 then) and fell to 1.39 at the 10 px pen with this one.
# Its map correlates at 0.95 (median) with 6/3 + 10/3's on the MNIST digits' ink; the same heat shuffled reaches
# 1.38 at most.
SCALES = ((6, 6), (10, 6))
# Hidden means background: the model reads white ink on black, so 0 removes ink and adds none. A grey fill
# (0.5) paints a square the model reads as ink, so hiding empty paper changes the answer too: the 7's bar
# was then missed (0.93-1.06x, with 6/3 + 10/3 patches and the ten-class model before this one).
FILL = 0.0
ORANGE = (255, 136, 0)
# The image under the heat is drawn in grey up to this level, not white, so that the orange reads on strokes.
INK_GREY = 200.0
# Probabilities are floored before the logarithm so that an exact 0 from the model stays finite.
FLOOR = 1e-6


@dataclass(frozen=True)
class Why:
    heat: np.ndarray  # float32 [28, 28] in [0, 1]: how much hiding each ink pixel lowered top's lead
    top: int
    runner_up: int
    sentence: str  # for people and screen readers: "The orange parts made it a 7 rather than a 1."


def _one_scale(patch: int, stride: int) -> np.ndarray:
    """bool [K, 28, 28]: each patch's pixels. The last row and column of patches sit on the frame's edge, so
    every pixel is covered whatever the stride."""
    starts = sorted({*range(0, MODEL_SIDE - patch + 1, stride), MODEL_SIDE - patch})
    masks = np.zeros((len(starts) ** 2, MODEL_SIDE, MODEL_SIDE), dtype=bool)
    for index, (top, left) in enumerate((t, s) for t in starts for s in starts):
        masks[index, top : top + patch, left : left + patch] = True
    return masks


@lru_cache(maxsize=1)
def _patches() -> tuple[np.ndarray, np.ndarray]:
    """(bool masks [K, 28, 28], float32 [K, 784] / coverage): built once, shared by every call."""
    masks = np.concatenate([_one_scale(patch, stride) for patch, stride in SCALES])
    flat = masks.reshape(masks.shape[0], -1).astype(np.float32)
    averaging = flat / flat.sum(axis=0)  # drops @ averaging = each pixel's mean drop over its patches
    masks.flags.writeable = averaging.flags.writeable = False
    return masks, averaging


def _image(image: np.ndarray) -> np.ndarray:
    return np.asarray(image, dtype=np.float32).reshape(MODEL_SIDE, MODEL_SIDE)


def hidden(image: np.ndarray) -> np.ndarray:
    """bool [K]: the patches occlusions(image) hides, those that cover ink (a pixel other than FILL).

    Hiding a patch with no ink under it gives back the image itself, and its drop could only count where
    there is no ink, where the heat is 0 whatever it is: the map is the same without its row (on 200 MNIST
    test digits on the pad, 13-38 of the 41 patches cover ink; 55-125 of the 130 patches of 6/3 + 10/3)."""
    masks = _patches()[0]
    return masks.reshape(masks.shape[0], -1)[:, _image(image).ravel() != FILL].any(axis=1)


def patch_count(image: np.ndarray | None = None) -> int:
    """How many patches occlusions(image) hides (every patch when no image is given): the batch has this many
    rows after the original."""
    return int(_patches()[0].shape[0] if image is None else hidden(image).sum())


def occlusions(image: np.ndarray) -> np.ndarray:
    """float32 [1 + patch_count(image), 28, 28, 1] for one model call: `image` (28x28, white ink on black)
    first, then one copy per patch that covers ink, in the order of the patches, with that patch set to FILL."""
    original = _image(image)
    masks = _patches()[0][hidden(original)]
    batch = np.empty((1 + masks.shape[0], MODEL_SIDE, MODEL_SIDE), dtype=np.float32)
    batch[:] = original
    batch[1:][masks] = FILL
    return batch[..., None]


def _article(digit: int) -> str:
    return f"an {digit}" if digit == 8 else f"a {digit}"


def _sentence(heat: np.ndarray, top: int, runner_up: int) -> str:
    rather = f"{_article(top)} rather than {_article(runner_up)}"
    if not heat.any():
        return f"No one part made it {rather}."
    return f"The orange parts made it {rather}."


def _pair(first_row: np.ndarray, top: int | None, runner_up: int | None) -> tuple[int, int]:
    """(top, runner_up): the two likeliest digits of the original unless given."""
    likeliest, second = (int(k) for k in np.argsort(-first_row, kind="stable")[:2])
    top = likeliest if top is None else int(top)
    if runner_up is None:
        runner_up = second if top == likeliest else likeliest
    if not (0 <= top < DIGITS and 0 <= runner_up < DIGITS) or top == runner_up:
        raise ValueError(f"expected two different digits, got top={top}, runner_up={runner_up}")
    return top, int(runner_up)


def why_map(
    image: np.ndarray, probabilities_of_batch: np.ndarray, top: int | None = None, runner_up: int | None = None
) -> Why:
    """The model's answers on occlusions(image) ([1 + patch_count(image), 10 or 11]: only the ten digits
    count) -> Why. `top` and `runner_up` default to the two likeliest digits of the original (row 0)."""
    original = _image(image)
    averaging = _patches()[1][hidden(original)]  # the patches left out have no row: their drop counts as 0
    rows = np.asarray(probabilities_of_batch, dtype=np.float32).reshape(1 + averaging.shape[0], -1)[:, :DIGITS]
    rows = np.nan_to_num(rows, nan=0.0, posinf=0.0, neginf=0.0)  # a broken row reads as "no opinion"
    top, runner_up = _pair(rows[0], top, runner_up)
    logs = np.log(np.maximum(rows[:, [top, runner_up]], FLOOR))
    lead = logs[:, 0] - logs[:, 1]
    mean_drop = ((lead[0] - lead[1:]) @ averaging).reshape(MODEL_SIDE, MODEL_SIDE)
    # Filling with background changes only the ink under a patch: the paper there is the same before and
    # after, so only ink can be why. Weighting by the ink keeps the map on the strokes, not on a patch-sized
    # halo of empty paper around them (60-87% of the heat without it, and the 7's bar missed: 0.45-0.73x).
    heat = np.clip(mean_drop * np.clip(np.nan_to_num(original), 0.0, 1.0), 0.0, None)  # a rise explains nothing
    peak = float(heat.max())
    heat = (heat / peak if peak > 1e-6 else np.zeros_like(heat)).astype(np.float32)
    return Why(heat, top, runner_up, _sentence(heat, top, runner_up))


def picture(image: np.ndarray, heat: np.ndarray, scale: int = 10) -> np.ndarray:
    """uint8 RGB [28 * scale, 28 * scale, 3]: the image the model saw (grey ink on black), `scale` times
    larger (nearest neighbour, so its pixels stay visible), with the heat in orange over it (alpha = heat)."""
    grey = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float32)), 0.0, 1.0).reshape(MODEL_SIDE, MODEL_SIDE)
    alpha = np.clip(np.asarray(heat, dtype=np.float32), 0.0, 1.0).reshape(MODEL_SIDE, MODEL_SIDE, 1)
    colour = (grey[..., None] * INK_GREY) * (1.0 - alpha) + np.array(ORANGE, np.float32) * alpha
    big = np.repeat(np.repeat(colour, scale, axis=0), scale, axis=1)
    return np.round(big).astype(np.uint8)

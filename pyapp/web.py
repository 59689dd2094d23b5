"""The worker's glue, the only module that touches `js`: the page's messages -> pyapp -> plain replies.

It runs in a web worker (site/worker.py starts it). The page (site/app.js) owns the pad and every element;
it sends messages and shows the replies. The protocol, both ways (ids pair a reply with its request):

    read    {id, width, height, pixels: Uint8ClampedArray RGBA, transferred}
            -> reading {id, text, hint, ms, digits: [{box, label, sure, taught, paired,
                        probabilities: Float32Array(10), image: Uint8ClampedArray RGBA 28x28}]}
               or  error {id, message}      (paired: read with its neighbour as two touching digits; the
                                             image is the pair's: teaching it teaches the whole mark as
                                             one digit, and it cannot be explained)
    decode  {id, bytes: Uint8Array, transferred}
            -> decoded {id, width, height, pixels: Uint8ClampedArray RGBA, transferred}
               or refused {id, reason, retry}
    examples {id, json}                       the person's examples replace the worker's (the stored set at
                                              start, or an imported file's text)
            -> taught {id, count}   or  not-taught {id, reason}  (nothing changed)
    teach   {id, reading, digit, label}       the `digit`-th digit of reading `reading` is a `label`
            -> taught {id, count, json}   or  not-taught {id, reason}
    forget  {id}                              -> taught {id, count: 0, json: ""}
    why     {id, reading, digit}              what made the `digit`-th digit of reading `reading` read as it did
            -> why {id, reading, digit, heat: Float32Array(784), top, runnerUp, sentence, ms, modelMs}
               or  error {id, message}

The person's examples (pyapp.personal) are read with every drawing: the model gives probabilities and
embeddings, the examples say which pieces were taught, and decide reads those as taught (the bars keep the
model's own probabilities). With no examples the reading is exactly the model's. A teach uses the embedding
the model gave that digit when it was read (the worker keeps the last RECENT readings' digit embeddings), so
it needs no model call. The page keeps the examples (localStorage) as the JSON the worker gives back.

A why-map (pyapp.why) hides each small patch of the digit's 28x28 image in turn and sees how the top digit's
lead over the runner-up falls: the patches over ink (at most 40, a median of 29) go to the model in one batch
of its own, in site/model.mjs's turns of 16 rows, so a read sent meanwhile waits for one turn at most. The
worker keeps the last RECENT readings' digit images and probabilities for it: the image's own row is not
computed again. `ms` is the worker's time for the map, `modelMs` the model call's part of it (sent to
answered, transfers included).

A read is synchronous Python on both sides of its one asynchronous step, the model: prepare, then the
model's promise calls on_probabilities (or on_model_failure) directly. Awaiting the promise instead would
resume through asyncio's event loop, which cost about 2 ms a read in Pyodide (4.0 vs 1.8 ms for the model).
The page sends one read at a time (the newest drawing wins), so one pending slot is enough.
"""

from __future__ import annotations

import asyncio

import js
import numpy as np
from pyodide.ffi import create_once_callable, create_proxy, to_js

from pyapp import images, personal, recognize, why
from pyapp.config import MODEL_EMBEDDING, MODEL_INPUT, MODEL_OUTPUT, OUTPUT_WIDTH

worker = js.digitWorker  # site/worker.mjs: the model session and the channel to the page

_pending: tuple[int, recognize.Prepared, float] | None = None  # the read waiting for the model
_OUTPUTS = to_js([MODEL_OUTPUT, MODEL_EMBEDDING])  # what a read asks of the model, in this order


def plain(value: dict) -> object:
    """A Python dict as a plain JS object, which postMessage can clone."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def typed(array: np.ndarray, kind) -> object:
    """A numpy array's bytes as a new JS typed array of `kind` (Float32Array, Uint8ClampedArray)."""
    out = kind.new(array.size)
    out.assign(np.ascontiguousarray(array).ravel())
    return out


def on_message(event) -> None:
    message = event.data
    kind = getattr(message, "type", None)
    if kind == "read":
        read(message)
    elif kind == "decode":
        asyncio.ensure_future(decode(message))
    elif kind == "why":
        explain(message)
    elif kind in EXAMPLE_MESSAGES:
        try:
            EXAMPLE_MESSAGES[kind](message)
        except Exception as error:  # a message not as the protocol says: the page's bug, said in the console
            js.console.error(f"{kind} failed: {error!r}")
            not_taught(getattr(message, "id", 0), "Something went wrong with your examples; they are unchanged.")


# ---- reading ----


def read(message) -> None:
    global _pending
    started = js.performance.now()
    try:
        pixels = np.frombuffer(message.pixels.to_bytes(), dtype=np.uint8)
        prepared = recognize.prepare(pixels.reshape(message.height, message.width, 4))
        if not len(prepared.batch):
            nothing = np.zeros((0, OUTPUT_WIDTH), dtype=np.float32)
            finish(message.id, prepared, nothing, nothing[:, :0], started)
            return
        _pending = (message.id, prepared, started)
        shape = to_js(list(prepared.batch.shape))
        batch = typed(prepared.batch, js.Float32Array)
        worker.run(batch, shape, MODEL_INPUT, _OUTPUTS).then(_on_outputs, _on_model_failure)
    except Exception as error:
        reading_failed(message.id, error)


def on_outputs(outputs) -> None:
    request, prepared, started = _pending
    rows = len(prepared.batch)
    probabilities = np.frombuffer(outputs[0].to_bytes(), dtype=np.float32).reshape(rows, -1)
    embeddings = np.frombuffer(outputs[1].to_bytes(), dtype=np.float32).reshape(rows, -1)
    finish(request, prepared, probabilities, embeddings, started)


def on_model_failure(error) -> None:
    reading_failed(_pending[0], error)


_on_outputs = create_proxy(on_outputs)  # made once: per-read proxies would have to be destroyed
_on_model_failure = create_proxy(on_model_failure)


def finish(
    request: int, prepared: recognize.Prepared, probabilities: np.ndarray, embeddings: np.ndarray, started: float
) -> None:
    try:
        reading = personal.decide_taught(prepared, probabilities, embeddings, _examples)
        remember(request, reading, probabilities, embeddings)
        worker.send(reading_message(request, reading, js.performance.now() - started))
    except Exception as error:
        reading_failed(request, error)


def reading_message(request: int, reading: recognize.Reading, milliseconds: float) -> object:
    return plain(
        {
            "type": "reading",
            "id": request,
            "text": reading.text,
            "hint": reading.hint,
            "ms": milliseconds,
            "digits": [digit_message(digit) for digit in reading.digits],
        }
    )


def digit_message(digit: recognize.Digit) -> dict:
    grey = (np.clip(digit.image, 0, 1) * 255).astype(np.uint8)  # white ink on black, as the model sees it
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    return {
        "box": [int(edge) for edge in digit.box],
        "label": digit.label,
        "sure": bool(digit.sure),
        "taught": bool(digit.taught),
        "paired": bool(digit.paired),
        "probabilities": typed(np.asarray(digit.probabilities, dtype=np.float32), js.Float32Array),
        "image": typed(rgba, js.Uint8ClampedArray),
    }


def reading_failed(request: int, error) -> None:
    """The page stays usable and says so; the console keeps the details."""
    js.console.error(f"reading failed: {error!r}")
    worker.send(plain({"type": "error", "id": request, "message": str(error)}))


# ---- why this digit ----


def explain(message) -> None:
    """One model call over the digit's occluded copies (pyapp.why), answered when it resolves. The image's own
    row is the one its reading computed: the batch is only the copies (at most 40, in the model's worker's
    turns of 16 rows)."""
    started = js.performance.now()
    found = _recent_images.get(message.reading)
    digit = message.digit
    if found is None or not isinstance(digit, int) or not 0 <= digit < len(found[0]):
        why_failed(message.id, "That reading has changed since: choose the digit again.")
        return
    if _recent_paired.get(message.reading, [])[digit]:  # the map would be of the pair's image
        why_failed(message.id, PAIRED)
        return
    image, original = found[0][digit], found[1][digit]
    copies = why.occlusions(image)[1:]
    sent = js.performance.now()

    def answer(outputs) -> None:
        try:
            model_ms = js.performance.now() - sent
            rows = np.frombuffer(outputs[0].to_bytes(), dtype=np.float32) if len(copies) else original[:0]
            probabilities = np.vstack([original[None], rows.reshape(len(copies), original.size)])
            found_why = why.why_map(image, probabilities)
            reply = {
                "type": "why", "id": message.id, "reading": message.reading, "digit": digit,
                "heat": typed(found_why.heat.astype(np.float32), js.Float32Array), "top": found_why.top,
                "runnerUp": found_why.runner_up, "sentence": found_why.sentence,
                "ms": js.performance.now() - started, "modelMs": model_ms,
            }
            worker.send(plain(reply))
        except Exception as error:
            why_failed(message.id, error)

    if not len(copies):  # no ink, nothing to hide (a digit always has some)
        answer(None)
        return
    failed = create_once_callable(lambda error: why_failed(message.id, error))
    run = worker.run(typed(copies, js.Float32Array), to_js(list(copies.shape)), MODEL_INPUT, to_js([MODEL_OUTPUT]))
    run.then(create_once_callable(answer), failed)


def why_failed(request: int, error) -> None:
    """The map is not drawn and the page says so; the console keeps the details."""
    js.console.error(f"why-map failed: {error!r}")
    worker.send(plain({"type": "error", "id": request, "message": str(error)}))


# ---- the person's examples ----

_examples: personal.Examples | None = None  # made at start, once the embedding space has loaded
# A digit read as half a pair of touching digits has no image of its own to explain (site/why.js keeps Why?
# off; this is for a message that comes anyway).
PAIRED = "That digit was read together with its neighbour: write the two apart to see why."
RECENT = 4  # readings whose digits can still be taught: the one shown, and a read or two that overtook it
_recent: dict[int, np.ndarray] = {}  # reading id -> its digits' embeddings [digits, D], in reading order
_recent_paired: dict[int, list[bool]] = {}  # reading id -> which of its digits were read as half a pair
# reading id -> its digits' 28x28 images and the model's rows for them [digits, 11], for why-maps
_recent_images: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}


def remember(request: int, reading: recognize.Reading, probabilities: np.ndarray, embeddings: np.ndarray) -> None:
    """Keep each digit's embedding (its batch row's), so that a correction of this reading needs no model
    call, and its image and probabilities, for a why-map."""
    rows = [digit.row for digit in reading.digits]
    _recent[request] = embeddings[rows]
    _recent_paired[request] = [digit.paired for digit in reading.digits]
    _recent_images[request] = (np.stack([d.image for d in reading.digits]), probabilities[rows]) if rows else None
    for old in sorted(_recent)[:-RECENT]:
        del _recent[old]
        del _recent_paired[old]
        del _recent_images[old]


def replace_examples(message) -> None:
    """The stored set at start, or an imported file: used whole, or refused with nothing changed."""
    global _examples
    try:
        found = personal.Examples.from_json(str(message.json), _examples.space)
    except personal.ExamplesError as error:
        not_taught(message.id, str(error))
        return
    _examples = found
    worker.send(plain({"type": "taught", "id": message.id, "count": len(found)}))


def teach(message) -> None:
    embeddings = _recent.get(message.reading)
    digit = message.digit
    if embeddings is None or not isinstance(digit, int) or not 0 <= digit < len(embeddings):
        not_taught(message.id, "That reading has changed since: choose the digit again.")
        return
    # Half of a pair: its embedding is the whole mark's, so the mark is taught as that one digit (a "V" read
    # "11" that is the person's 7); the note beside the keys says so (site/index.html, #paired-note).
    try:
        _examples.add(embeddings[digit], message.label)
    except (ValueError, TypeError) as error:
        not_taught(message.id, f"That is not a digit to teach ({error}).")
        return
    send_examples(message.id)


def forget(message) -> None:
    _examples.clear()
    send_examples(message.id)


def send_examples(request: int) -> None:
    """The set as it is now, for the page to keep: JSON, "" when there are none."""
    text = _examples.to_json() if len(_examples) else ""
    worker.send(plain({"type": "taught", "id": request, "count": len(_examples), "json": text}))


def not_taught(request: int, reason: str) -> None:
    worker.send(plain({"type": "not-taught", "id": request, "reason": reason}))


EXAMPLE_MESSAGES = {"examples": replace_examples, "teach": teach, "forget": forget}


# ---- images ----


async def decode(message) -> None:
    request = message.id
    try:
        await load_pillow()
    except PillowUnavailable as error:
        js.console.warn(f"Pillow did not load: {error}")
        reason = f"Pillow, the part that reads images, did not load ({error})"
        worker.send(plain({"type": "refused", "id": request, "reason": reason, "retry": True}))
        return
    try:
        rgba = images.decode_image(message.bytes.to_bytes())
    except Exception as error:  # an ImageError says what is wrong; anything else is a file Pillow chokes on
        reason = str(error) if isinstance(error, images.ImageError) else "it could not be read as an image"
        js.console.warn(f"image refused: {error!r}")
        worker.send(plain({"type": "refused", "id": request, "reason": reason, "retry": False}))
        return
    pixels = typed(rgba, js.Uint8ClampedArray)
    reply = {"type": "decoded", "id": request, "width": rgba.shape[1], "height": rgba.shape[0], "pixels": pixels}
    worker.send(plain(reply), to_js([pixels.buffer]))


class PillowUnavailable(Exception):
    """Pillow's wheel did not load (offline, HTTP error, damaged or not as built); the message says how."""


_pillow_loaded = False


async def load_pillow() -> None:
    """Pillow is fetched on the first image only: a drawing never needs it. After a failure the next image
    tries again."""
    global _pillow_loaded
    if _pillow_loaded:
        return
    import pyodide_js

    # loadPackage does not raise when a download fails: it reports through errorCallback (by default to
    # stderr) and resolves. Collect and check instead.
    problems: list[str] = []
    report = create_proxy(problems.append)
    try:
        await pyodide_js.loadPackage("pillow", errorCallback=report)
    finally:
        report.destroy()
    try:
        import PIL  # noqa: F401 - only to see that the wheel installed
    except ImportError:
        detail = next((line for line in reversed(problems) if "occurred while loading" not in line), "")
        raise PillowUnavailable(detail.strip().rstrip(".") or "it did not install") from None
    _pillow_loaded = True


# ---- start ----


async def start() -> None:
    """Ready once the model session and the embedding space are: site/worker.mjs started both before Python
    and reports their failures to load; a space file that arrived damaged is reported here."""
    global _examples
    worker.progress("model", 85)
    try:
        await worker.model
        data = await worker.space
    except Exception:
        return
    try:
        _examples = personal.Examples(personal.Space.load(data.to_bytes()))
    except Exception as error:
        worker.spaceFailed(f"the file is damaged or incomplete ({error})")
        return
    worker.ready()

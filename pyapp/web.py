"""The page's glue, the only module that touches `js`: pad pixels -> pyapp -> onnxruntime-web -> the page.

site/app.js owns drawing and the model session; this module reads the pad when it changes, runs
recognize.prepare -> the model -> recognize.decide, and shows the text, the hint, each digit's box, the
selected digit's probabilities and the 28x28 image the model saw.
"""

from __future__ import annotations

import js
import numpy as np
from pyodide.ffi import create_proxy, to_js

from pyapp import images, recognize
from pyapp.config import MODEL_INPUT, MODEL_OUTPUT, MODEL_SIDE

document = js.document
pad = document.getElementById("pad")
pad_context = pad.getContext("2d", to_js({"willReadFrequently": True}, dict_converter=js.Object.fromEntries))
overlay = document.getElementById("overlay")
app = js.window.digitApp

BOX_COLOUR = "#2563eb"
UNSURE_COLOUR = "#d97706"

_last_reading: recognize.Reading | None = None
_selected = 0
_reading = False
_read_again = False
_proxies = []  # event handlers live as long as the page; kept so they are never garbage-collected


def element(element_id: str):
    return document.getElementById(element_id)


def set_status(text: str, percent: int | None = None) -> None:
    element("status-text").textContent = text
    progress = element("progress")
    if percent is None:
        progress.hidden = True
    else:
        progress.hidden = False
        progress.value = percent


def alert_user(message: str) -> None:
    element("alert").textContent = message


# ---- reading the pad ----


def pad_pixels() -> np.ndarray:
    """The pad's RGBA pixels as they are, whoever drew them."""
    width, height = pad.width, pad.height
    data = pad_context.getImageData(0, 0, width, height).data.to_bytes()
    return np.frombuffer(data, dtype=np.uint8).reshape(height, width, 4)


# A read is synchronous Python on both sides of the one asynchronous step, the model: prepare, then the
# model's promise calls on_probabilities (or on_model_failure) directly. Awaiting the promise instead would
# resume through asyncio's event loop, which cost about 2 ms a read in Pyodide (4.0 vs 1.8 ms for the model).
_pending: tuple[recognize.Prepared, float] | None = None  # the read waiting for the model, and when it began


def read_pad() -> None:
    """Read the pad now; reads asked for while one runs collapse into one more read after it."""
    global _reading, _read_again, _pending
    if _reading:
        _read_again = True
        return
    _reading, _read_again = True, False
    try:
        started = js.performance.now()
        prepared = recognize.prepare(pad_pixels())
        if not len(prepared.batch):
            finish(prepared, np.zeros((0, 10), dtype=np.float32), started)
            return
        flat = js.Float32Array.new(prepared.batch.size)
        flat.assign(prepared.batch.ravel())
        _pending = (prepared, started)
        shape = to_js(list(prepared.batch.shape))
        app.model.run(flat, shape, MODEL_INPUT, MODEL_OUTPUT).then(_on_probabilities, _on_model_failure)
    except Exception as error:
        reading_failed(error)


def on_probabilities(result) -> None:
    prepared, started = _pending
    probabilities = np.frombuffer(result.to_bytes(), dtype=np.float32).reshape(len(prepared.batch), -1)
    finish(prepared, probabilities, started)


def on_model_failure(error) -> None:
    reading_failed(error)


def finish(prepared: recognize.Prepared, probabilities: np.ndarray, started: float) -> None:
    global _reading
    try:
        show(recognize.decide(prepared, probabilities))
        record_timing(js.performance.now() - started)
    except Exception as error:
        reading_failed(error)
        return
    _reading = False
    if _read_again:
        read_pad()


def reading_failed(error) -> None:
    """The page must stay usable; the console keeps the details."""
    global _reading
    _reading = False
    js.console.error(f"reading failed: {error!r}")
    alert_user("Something went wrong while reading. Your drawing is kept; try again.")


_on_probabilities = create_proxy(on_probabilities)  # made once: per-read proxies would have to be destroyed
_on_model_failure = create_proxy(on_model_failure)


def record_timing(milliseconds: float) -> None:
    """How long the last read took and how many there were: for the benchmark and the curious."""
    result = element("result")
    result.dataset.readMs = f"{milliseconds:.2f}"
    result.dataset.reads = str(int(result.getAttribute("data-reads") or 0) + 1)


# ---- showing the reading ----


def show(reading: recognize.Reading) -> None:
    global _last_reading, _selected
    _last_reading = reading
    _selected = min(_selected, max(len(reading.digits) - 1, 0))
    result = element("result")
    result.textContent = reading.text
    result.dataset.value = reading.text
    element("hint").textContent = reading.hint
    show_digit_choices(reading)
    show_selected(reading)
    draw_boxes(reading)


def show_digit_choices(reading: recognize.Reading) -> None:
    choices = element("digits")
    choices.replaceChildren()
    if len(reading.digits) < 2:
        return
    for index, digit in enumerate(reading.digits):
        button = document.createElement("button")
        button.type = "button"
        button.setAttribute("role", "radio")
        button.setAttribute("aria-checked", "true" if index == _selected else "false")
        button.textContent = "?" if digit.label is None else str(digit.label)
        button.setAttribute("aria-label", f"Digit {index + 1}: {button.textContent}")
        button.dataset.index = str(index)
        choices.appendChild(button)


def on_choose_digit(event) -> None:
    global _selected
    index = event.target.getAttribute("data-index")
    if index is None or _last_reading is None:
        return
    _selected = int(index)
    show(_last_reading)
    element("digits").querySelector(f'[data-index="{_selected}"]').focus()


# The ten probability bars, looked up once: every read updates them.
_bars = [
    (item, item.querySelector(".fill").style, item.querySelector(".pct"))
    for item in (document.querySelectorAll("#bars li").item(label) for label in range(10))
]


def show_selected(reading: recognize.Reading) -> None:
    digit = reading.digits[_selected] if reading.digits else None
    known = digit is not None and digit.probabilities is not None
    for label, (item, fill, percent) in enumerate(_bars):
        share = float(digit.probabilities[label]) if known else 0.0
        fill.width = f"{share * 100:.1f}%"
        percent.textContent = f"{share * 100:.0f}%" if digit is not None else "–"
        item.classList.toggle("top", digit is not None and digit.label == label)
    draw_seen(digit.image if digit is not None else np.zeros((MODEL_SIDE, MODEL_SIDE), dtype=np.float32))


def draw_seen(image: np.ndarray) -> None:
    """Paint the model's input as it is: white ink on black, 28x28."""
    grey = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    pixels = js.Uint8ClampedArray.new(rgba.size)
    pixels.assign(rgba.ravel())
    canvas = element("seen")
    canvas.getContext("2d").putImageData(js.ImageData.new(pixels, image.shape[1], image.shape[0]), 0, 0)


def draw_boxes(reading: recognize.Reading) -> None:
    context = overlay.getContext("2d")
    context.clearRect(0, 0, overlay.width, overlay.height)
    line = max(2, overlay.height // 140)
    context.lineWidth = line
    context.font = f"bold {max(14, overlay.height // 14)}px system-ui, sans-serif"
    for index, digit in enumerate(reading.digits):
        top, left, bottom, right = digit.box
        context.strokeStyle = BOX_COLOUR if digit.label is not None and digit.sure else UNSURE_COLOUR
        context.fillStyle = context.strokeStyle
        solid = index == _selected or len(reading.digits) == 1
        context.setLineDash(to_js([] if solid else [line * 3, line * 2]))
        pad_by = line * 2
        context.strokeRect(left - pad_by, top - pad_by, right - left + 2 * pad_by, bottom - top + 2 * pad_by)
        label = "?" if digit.label is None else str(digit.label)
        context.fillText(label, left - pad_by, max(top - pad_by - line * 2, overlay.height // 14))


# ---- images ----


async def on_image_file(event) -> None:
    name = event.detail.name
    data = event.detail.bytes.to_bytes()
    try:
        await load_pillow()
    except PillowUnavailable as error:
        js.console.warn(f"Pillow did not load: {error}")
        alert_user(
            f"Could not read “{name}”: Pillow, the part that reads images, did not load ({error}). "
            "Check your connection and try again. Your drawing is unchanged."
        )
        return
    try:
        rgba = images.decode_image(data)
    except Exception as error:  # an ImageError says what is wrong; anything else is a file Pillow chokes on
        message = str(error) if isinstance(error, images.ImageError) else "it could not be read as an image"
        js.console.warn(f"image refused: {error!r}")
        alert_user(f"Could not read “{name}”: {message}. Your drawing is unchanged.")
        return
    pixels = js.Uint8ClampedArray.new(rgba.size)
    pixels.assign(np.ascontiguousarray(rgba).ravel())
    alert_user("")
    await app.addImage(js.ImageData.new(pixels, rgba.shape[1], rgba.shape[0]))


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
    # stderr, which PyScript would show as error boxes on the page) and resolves. Collect and check instead.
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


def listen(target, event_name: str, handler) -> None:
    proxy = create_proxy(handler)
    _proxies.append(proxy)
    target.addEventListener(event_name, proxy)


def on_pad_change(event) -> None:
    read_pad()


def on_predict(event) -> None:
    read_pad()


async def start() -> None:
    set_status("Loading the model…", 85)
    try:
        await app.model.ready
    except Exception as error:  # app.js has most likely said so already: fail() keeps the first report
        app.fail(str(error), "model/digits.onnx")
        return
    listen(pad, "pad-change", on_pad_change)
    listen(pad, "image-file", on_image_file)
    listen(element("predict"), "click", on_predict)
    listen(element("digits"), "click", on_choose_digit)
    set_status("Ready.", None)
    document.documentElement.dataset.state = "ready"
    read_pad()  # whatever was drawn while Python loaded

// The parts that only the browser can do: drawing with pointer events, undo, keyboard shortcuts, files in,
// and the onnxruntime-web session. Python (pyapp/web.py) reads the pad's pixels and writes the result.
// Everything here works from the first paint, before Python has loaded.

const BRUSH_REFERENCE_HEIGHT = 280; // the brush slider's widths are for a 280 px tall pad and scale with it
const LIVE_READ_INTERVAL_MS = 120; // throttle for reading while a stroke is still being drawn
const MAX_FILE_BYTES = 25 * 1024 * 1024; // larger files are refused before they are read into memory
const STARTUP_TIMEOUT_MS = 90_000; // past this, loading has failed even if nothing said so
const INK = "#111827";
const PAPER = "#ffffff";

const root = document.documentElement;
const pad = document.getElementById("pad");
const overlay = document.getElementById("overlay");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const brush = document.getElementById("brush");
const alertBox = document.getElementById("alert");

// What is on the pad, in order, so it can be undone and redrawn at any size. Points are in units of the
// pad's height, so a resize or a change of device pixel ratio redraws the same drawing.
const items = [];
let current = null;
let lastLiveRead = 0;

// ---- the model runtime, started at once so it loads while Python does ----

const model = (() => {
  const session = import("./vendor/ort/ort.wasm.min.mjs").then(async (ort) => {
    ort.env.wasm.wasmPaths = new URL("./vendor/ort/", import.meta.url).href;
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which GitHub Pages cannot give
    const created = await ort.InferenceSession.create("./model/digits.onnx", { executionProviders: ["wasm"] });
    return { ort, created };
  });
  session.catch(() => {}); // reported by Python when it awaits `ready`
  return {
    ready: session.then(() => true),
    // data: Float32Array; shape: [N, 28, 28, 1]; names come from pyapp/config.py.
    async run(data, shape, inputName, outputName) {
      const { ort, created } = await session;
      const tensor = new ort.Tensor("float32", data, Array.from(shape));
      const outputs = await created.run({ [inputName]: tensor });
      tensor.dispose?.();
      const result = outputs[outputName].data;
      return result;
    },
  };
})();

// ---- drawing ----

function padScale() {
  return pad.height; // backing-store pixels per unit of drawing coordinates
}

function resizePad() {
  const rect = pad.getBoundingClientRect();
  if (rect.width < 1 || rect.height < 1) return;
  const ratio = Math.min(window.devicePixelRatio || 1, 2);
  const width = Math.round(rect.width * ratio);
  const height = Math.round(rect.height * ratio);
  if (pad.width === width && pad.height === height) return;
  for (const canvas of [pad, overlay]) {
    canvas.width = width;
    canvas.height = height;
  }
  redraw();
  if (items.length) changed(true);
}

function paintStroke(stroke) {
  const scale = padScale();
  ctx.strokeStyle = INK;
  ctx.fillStyle = INK;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = stroke.width * scale;
  const [first, ...rest] = stroke.points;
  if (!rest.length) {
    ctx.beginPath();
    ctx.arc(first[0] * scale, first[1] * scale, (stroke.width * scale) / 2, 0, Math.PI * 2);
    ctx.fill();
    return;
  }
  ctx.beginPath();
  ctx.moveTo(first[0] * scale, first[1] * scale);
  for (const [x, y] of rest) ctx.lineTo(x * scale, y * scale);
  ctx.stroke();
}

function paintImage(item) {
  // Fit the picture inside the pad with a margin, keeping its aspect ratio.
  const fit = Math.min(pad.width / item.bitmap.width, pad.height / item.bitmap.height) * 0.9;
  const width = item.bitmap.width * fit;
  const height = item.bitmap.height * fit;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(item.bitmap, (pad.width - width) / 2, (pad.height - height) / 2, width, height);
}

function redraw() {
  ctx.fillStyle = PAPER;
  ctx.fillRect(0, 0, pad.width, pad.height);
  for (const item of items) (item.bitmap ? paintImage : paintStroke)(item);
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
}

function pointAt(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) / rect.height, (event.clientY - rect.top) / rect.height];
}

function changed(final) {
  pad.dispatchEvent(new CustomEvent("pad-change", { detail: { final } }));
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  pad.focus({ preventScroll: true });
  current = { width: Number(brush.value) / BRUSH_REFERENCE_HEIGHT, points: [pointAt(event)] };
  items.push(current);
  paintStroke(current);
});

pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  const scale = padScale();
  const from = current.points[current.points.length - 1];
  ctx.strokeStyle = INK;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = current.width * scale;
  ctx.beginPath();
  ctx.moveTo(from[0] * scale, from[1] * scale);
  for (const each of events.length ? events : [event]) {
    const point = pointAt(each);
    current.points.push(point);
    ctx.lineTo(point[0] * scale, point[1] * scale);
  }
  ctx.stroke();
  if (event.timeStamp - lastLiveRead > LIVE_READ_INTERVAL_MS) {
    lastLiveRead = event.timeStamp;
    changed(false);
  }
});

function endStroke() {
  if (!current) return;
  current = null;
  changed(true);
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
pad.addEventListener("lostpointercapture", endStroke);

function undo() {
  if (!items.length) return;
  items.pop();
  redraw();
  changed(true);
}

function clear() {
  items.length = 0;
  redraw();
  changed(true);
}

document.getElementById("undo").addEventListener("click", undo);
document.getElementById("clear").addEventListener("click", clear);
document.getElementById("predict").addEventListener("click", () => {
  if (root.dataset.state === "loading") say("Still loading: your drawing is read as soon as Python is ready.");
});

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement && event.target.type !== "range";
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape") {
    clear();
  } else if (event.key === "Enter" && !typing && !(event.target instanceof HTMLButtonElement)) {
    event.preventDefault();
    document.getElementById("predict").click();
  }
});

new ResizeObserver(resizePad).observe(pad);
window.matchMedia("(resolution: 1dppx)").addEventListener?.("change", resizePad);

// ---- images in: file picker, paste, drag and drop (decoded by Python with Pillow) ----

function alertUser(message) {
  alertBox.textContent = message;
}

function say(message) {
  document.getElementById("hint").textContent = message;
}

async function openFile(file) {
  alertUser("");
  if (!file) return;
  if (file.size > MAX_FILE_BYTES) {
    alertUser(`“${file.name}” is ${(file.size / 1048576).toFixed(0)} MB; images up to 25 MB can be read. Your drawing is unchanged.`);
    return;
  }
  if (root.dataset.state !== "ready") {
    alertUser("Still loading: open the image again in a moment.");
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  pad.dispatchEvent(new CustomEvent("image-file", { detail: { name: file.name || "pasted image", bytes } }));
}

const fileInput = document.getElementById("file");
fileInput.addEventListener("change", async () => {
  await openFile(fileInput.files[0]);
  fileInput.value = ""; // the same file can be opened again
});

document.addEventListener("paste", (event) => {
  const item = [...(event.clipboardData?.items || [])].find((entry) => entry.type.startsWith("image/"));
  if (item) {
    event.preventDefault();
    openFile(item.getAsFile());
  }
});

const dropHint = document.getElementById("drop-hint");
document.addEventListener("dragover", (event) => {
  if (![...(event.dataTransfer?.types || [])].includes("Files")) return;
  event.preventDefault();
  dropHint.hidden = false;
});
document.addEventListener("dragleave", (event) => {
  if (!event.relatedTarget) dropHint.hidden = true;
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dropHint.hidden = true;
  openFile(event.dataTransfer?.files?.[0]);
});

// ---- startup failures: an error state with a way out, never an endless spinner ----

function fail(message) {
  if (root.dataset.state === "error") return;
  root.dataset.state = "error";
  document.getElementById("status-text").textContent = "Could not start.";
  document.getElementById("progress").hidden = true;
  alertUser(message);
  const retry = document.getElementById("retry");
  retry.hidden = false;
  retry.onclick = () => window.location.reload();
}

window.addEventListener("unhandledrejection", (event) => {
  if (root.dataset.state === "loading") fail(`Could not load the app: ${event.reason?.message || event.reason}`);
});
window.addEventListener(
  "error",
  (event) => {
    const source = event.target?.src || event.target?.href;
    if (root.dataset.state === "loading" && source) fail(`Could not load ${new URL(source).pathname}.`);
  },
  true,
);
setTimeout(() => {
  if (root.dataset.state === "loading") fail("Loading took too long. Check your connection and retry.");
}, STARTUP_TIMEOUT_MS);

// What Python calls: the model, the pad's drawing (to add a decoded image), the error state.
window.digitApp = {
  model,
  fail,
  async addImage(imageData) {
    items.push({ bitmap: await createImageBitmap(imageData) });
    redraw();
    changed(true);
  },
  isEmpty: () => items.length === 0,
};

resizePad();
redraw();

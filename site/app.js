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
  session.catch(modelFailed); // at once, not when Python gets to it (see "startup failures" below)
  const ready = session.then(() => true);
  ready.catch(() => {}); // web.start() awaits it as well
  return {
    ready,
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
  pad.focus({ preventScroll: true, focusVisible: false }); // the ring is for keyboard users
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
//
// One mechanism: every sign that the start failed goes to fail(problem, file), which names the part that
// failed in words, with its file and what went wrong, and offers Retry. The signs, as each layer gives them:
// - one of the app's files answered with an HTTP error (Resource Timing's responseStatus). Seen even where the
//   loader says nothing: PyScript writes a 404 page into pyapp/*.py, a 404 pyscript.toml stalls it silently;
// - a <script> or <link> that did not load, a module that did not parse (error events);
// - a WebAssembly file that did not compile: Pyodide 0.27 catches that itself, logs a warning and then waits
//   forever, so compiles are watched here;
// - the model session (above) failed;
// - a promise nobody handled was rejected: PyScript's and Pyodide's loaders (a bad python_stdlib.zip ends so);
// - main.py ended while the page was still loading (a Python error: a missing numpy, a damaged pyapp module).
// Past STARTUP_TIMEOUT_MS with none of these, the timeout says so.

// What to call each of the app's files, in words (first match wins). Paths are relative to the site.
const PARTS = [
  [/^model\//, "the model"],
  [/^vendor\/ort\//, "the model runtime"],
  [/python_stdlib\.zip$/, "Python's standard library"],
  [/^vendor\/pyodide\/numpy\b/, "numpy"],
  [/^vendor\/pyodide\/pillow\b/, "Pillow"],
  [/^vendor\/pyodide\//, "the Python runtime"],
  [/^vendor\/pyscript\//, "PyScript"],
  [/^(pyapp\/|main\.py$|pyscript\.toml$)/, "the app's Python code"],
];
// The app's files as they appear in URLs, error messages and Python tracebacks (/home/pyodide/pyapp/web.py).
const APP_FILE = /(?:model|vendor\/(?:ort|pyodide|pyscript)|pyapp)\/[\w.-]+|\bmain\.py\b|\bpyscript\.toml\b/g;
// Errors that mean the bytes arrived but are not what was built: cut short or changed on the way.
const DAMAGED = /^(CompileError|SyntaxError|IndentationError|TabError)$/;
const pythonErrors = []; // what PyScript showed while loading, for when main.py ends early

function messageOf(problem) {
  return String(problem?.message ?? problem ?? "");
}

function appFile(text, which = "first") {
  const found = String(text ?? "").match(APP_FILE) || [];
  return which === "last" ? found.at(-1) : found[0];
}

function isFile(path) {
  return /\.[^/]+$/.test(path ?? ""); // not a folder ("vendor/pyodide/") or a package ("vendor/pyodide/numpy")
}

function partOf(file) {
  return PARTS.find(([pattern]) => pattern.test(file))?.[1];
}

function failedRequest(file) {
  const ours = (entry) => entry.name.startsWith(location.origin) && entry.name.includes(file);
  return performance.getEntriesByType("resource").find((entry) => ours(entry) && entry.responseStatus >= 400);
}

function detailOf(problem, file) {
  const failed = file && failedRequest(file);
  if (failed) return `HTTP ${failed.responseStatus}`;
  if (DAMAGED.test(problem?.name)) return `${isFile(file) ? "the" : "a"} file is damaged or incomplete`;
  const line = messageOf(problem).trim().split("\n")[0].replace(/\.$/, "");
  return line.length > 160 ? `${line.slice(0, 159)}…` : line || "it did not load";
}

// file: the app's file (or folder) to blame; found in the problem's message when not given.
function fail(problem, file = appFile(messageOf(problem))) {
  if (root.dataset.state !== "loading") return; // later errors are web.py's to report, next to what failed
  root.dataset.state = "error";
  const part = (file && partOf(file)) || "the app";
  const named = isFile(file) ? `${part} (${file})` : part;
  document.getElementById("status-text").textContent = "Could not start.";
  document.getElementById("progress").hidden = true;
  alertUser(`Could not load ${named}: ${detailOf(problem, file)}. Check your connection and retry.`);
  const retry = document.getElementById("retry");
  retry.hidden = false;
  retry.onclick = () => window.location.reload();
}

function modelFailed(error) {
  // The model's session (above) fails in onnxruntime-web's words; say which of its files it was.
  const message = messageOf(error);
  if (error?.name === "SyntaxError") {
    fail(error, "vendor/ort/ort.wasm.min.mjs"); // the one module app.js imports did not parse
  } else if (/no available backend/.test(message)) {
    // Its wasm backend did not start: the glue module did not parse, or another of its files failed.
    if (/SyntaxError/.test(message)) fail({ name: "SyntaxError" }, "vendor/ort/ort-wasm-simd-threaded.mjs");
    else fail(error, appFile(message) ?? "vendor/ort/");
  } else {
    // "Can't create a session. ERROR_CODE: 7, ERROR_MESSAGE: Failed to load model because protobuf parsing failed."
    fail(message.replace(/^.*ERROR_MESSAGE: /s, ""), appFile(message) ?? "model/digits.onnx");
  }
}

function pythonFailed() {
  // main.py ended before web.start() made the page ready: PyScript showed the Python error.
  const text = pythonErrors.join("\n");
  const missing = text.match(/No module named '(\w+)'/)?.[1]; // a package (numpy) that loadPackage could not load
  if (missing && missing !== "pyapp") {
    const wheel = `vendor/pyodide/${{ PIL: "pillow" }[missing] ?? missing.toLowerCase()}`;
    const failed = failedRequest(wheel);
    const detail = failed ? `HTTP ${failed.responseStatus}` : "its download failed or did not match the build";
    fail(detail, appFile(failed?.name) ?? wheel);
    return;
  }
  const [, name, message] = [...text.matchAll(/^(\w+(?:Error|Exception)): ?(.*)$/gm)].at(-1) ?? [];
  const problem = name ? { name, message: `${name}: ${message}` } : text;
  fail(problem, appFile(text, "last") ?? "main.py");
}

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const file = entry.name.startsWith(location.origin) && appFile(entry.name);
    if (file && entry.responseStatus >= 400) fail(`HTTP ${entry.responseStatus}`, file);
  }
}).observe({ type: "resource", buffered: true });

window.addEventListener(
  "error",
  (event) => {
    const url = event.target?.src || event.target?.href || event.filename;
    const file = url && appFile(url);
    if (file) fail(event.error ?? "it did not load", file);
  },
  true,
);

// Unhandled rejections while loading come from PyScript's and Pyodide's loaders (app.js handles its own).
window.addEventListener("unhandledrejection", (event) => {
  // Pyodide exits (ExitStatus) when Python cannot start, e.g. with a damaged python_stdlib.zip.
  const problem = event.reason?.name === "ExitStatus" ? "Python stopped as it started" : event.reason;
  fail(problem, appFile(messageOf(event.reason)) ?? "vendor/pyodide/");
});

// Pyodide 0.27 catches a failed compile of pyodide.asm.wasm, logs "wasm instantiation failed!" and never
// settles loadPyodide(): watch every streaming compile while loading. A CompileError means the bytes are
// wrong (onnxruntime-web's fallback to an ArrayBuffer would fail the same); other errors are left to the loader.
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = function (source, ...rest) {
  const compiling = instantiateStreaming.call(this, source, ...rest);
  compiling.catch((error) =>
    Promise.resolve(source)
      .then((response) => {
        const file = appFile(response.url);
        if (!response.ok) fail(`HTTP ${response.status}`, file);
        else if (error instanceof WebAssembly.CompileError) fail(error, file);
      })
      .catch(() => {}), // the request itself failed: its loader reports that
  );
  return compiling;
};

// PyScript shows each Python error (and Pyodide's loading errors) as a .py-error box at the end of the
// body. Until the page is ready they are kept for pythonFailed() and taken off the page, also after a
// failure (they follow from it): the alert says it for people, and the console keeps the traceback.
new MutationObserver((changes) => {
  if (root.dataset.state === "ready") return;
  for (const node of changes.flatMap((change) => [...change.addedNodes])) {
    if (node.classList?.contains("py-error")) {
      pythonErrors.push(node.textContent);
      node.remove();
    }
  }
}).observe(document.body, { childList: true });
window.addEventListener("py:done", () => {
  if (root.dataset.state === "loading") pythonFailed();
});

setTimeout(() => fail("loading took too long"), STARTUP_TIMEOUT_MS);

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

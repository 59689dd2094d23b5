// The page's one script and the only writer of its elements: drawing with pointer events, undo, keyboard
// shortcuts, files in, and showing what the reader says. Python and the model run in a web worker (the
// <script type="py" worker> in index.html: site/worker.mjs, site/worker.py, pyapp/web.py), so nothing here
// ever waits for them: the pad draws from the first paint, while Python loads and while it reads.
//
// Messages to the worker: read {pixels}, decode {bytes}, and for the person's examples (section
// "teaching") examples {json}, teach {reading, digit, label}, forget; from it: progress, ready, failed,
// reading, error, decoded, refused, taught, not-taught (pyapp/web.py describes each).

const BRUSH_REFERENCE_HEIGHT = 280; // the brush slider's widths are for a 280 px tall pad and scale with it
const LIVE_READ_INTERVAL_MS = 120; // throttle for reading while a stroke is still being drawn
const BOX_COLOUR = "#2563eb";
const UNSURE_COLOUR = "#d97706";
const MAX_FILE_BYTES = 25 * 1024 * 1024; // larger files are refused before they are read into memory
const STARTUP_TIMEOUT_MS = 90_000; // past this, loading has failed even if nothing said so
const INK = "#111827";
const PAPER = "#ffffff";
// The eraser paints paper twice as wide as the brush: a stroke of the brush's own width is then rubbed out
// in one pass even when the hand wavers by half a width either side.
const ERASER_SCALE = 2;

const root = document.documentElement;
const pad = document.getElementById("pad");
const overlay = document.getElementById("overlay");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const brush = document.getElementById("brush");
const eraser = document.getElementById("eraser");
const alertBox = document.getElementById("alert");
const result = document.getElementById("result");

// What is on the pad, in order, so it can be undone and redrawn at any size. Points are in units of the
// pad's height, so a resize or a change of device pixel ratio redraws the same drawing.
const items = [];
let current = null;
let lastLiveRead = 0;

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
  if (items.length) changed();
}

function colourOf(stroke) {
  return stroke.erase ? PAPER : INK;
}

function paintStroke(stroke) {
  const scale = padScale();
  ctx.strokeStyle = colourOf(stroke);
  ctx.fillStyle = colourOf(stroke);
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

function changed() {
  reader.read();
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  pad.focus({ preventScroll: true, focusVisible: false }); // the ring is for keyboard users
  const erase = eraser.getAttribute("aria-pressed") === "true";
  const width = (Number(brush.value) * (erase ? ERASER_SCALE : 1)) / BRUSH_REFERENCE_HEIGHT;
  current = { width, erase, points: [pointAt(event)] };
  items.push(current);
  paintStroke(current);
});

pad.addEventListener("pointermove", (event) => {
  if (!current) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  const scale = padScale();
  const from = current.points[current.points.length - 1];
  ctx.strokeStyle = colourOf(current);
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
    changed();
  }
});

function endStroke() {
  if (!current) return;
  current = null;
  changed();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);
pad.addEventListener("lostpointercapture", endStroke);

function undo() {
  if (!items.length) return;
  items.pop();
  redraw();
  changed();
}

function clear() {
  items.length = 0;
  redraw();
  changed();
}

// The eraser is a mode of the pen: strokes drawn while it is on paint paper, and Undo takes them back like
// any stroke. Mouse, touch and pen all draw through the same pointer events.
function toggleEraser() {
  const on = eraser.getAttribute("aria-pressed") !== "true";
  eraser.setAttribute("aria-pressed", String(on));
  pad.classList.toggle("erasing", on);
}

eraser.addEventListener("click", toggleEraser);
document.getElementById("undo").addEventListener("click", undo);
document.getElementById("clear").addEventListener("click", clear);
document.getElementById("predict").addEventListener("click", () => {
  if (root.dataset.state === "loading") say("Still loading: your drawing is read as soon as Python is ready.");
  else reader.read();
});

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement && event.target.type !== "range";
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape") {
    clear();
  } else if (event.key.toLowerCase() === "e" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    toggleEraser();
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
  reader.decode(file.name || "pasted image", bytes);
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

// ---- the reader: Python and the model in a web worker ----
//
// One read at a time goes to the worker, and the newest drawing wins: a change while a read is out only
// marks the pad as changed, and the pad's pixels are taken when that read comes back. Stale drawings are
// never queued. Pixels and image bytes are transferred to the worker, not copied.

const STEPS = {
  python: "Loading Python…",
  booted: "Starting Python…",
  numpy: "Loading numpy…",
  model: "Loading the model…",
};

const reader = (() => {
  const script = document.querySelector('script[type="py"][worker]');
  let worker = null;
  let busy = false; // a read is with the worker
  let again = false; // the pad changed while it was
  let lastId = 0;
  let sentAt = 0;
  const names = new Map(); // decode id -> the file's name, for the messages

  const handlers = {
    hi: () => worker.postMessage({ type: "hello" }), // worker.mjs listens now (see there)
    progress({ step, percent, at }) {
      mark(step, at);
      if (root.dataset.state === "loading") showStatus(STEPS[step], percent);
    },
    ready({ at }) {
      mark("ready", at);
      if (root.dataset.state !== "loading") return;
      showStatus("Ready.", null);
      root.dataset.state = "ready";
      teaching.start(); // the stored examples go first, so the first read uses them
      read(); // whatever was drawn while Python loaded
    },
    failed: workerFailed,
    reading(reading) {
      showReading(reading);
      result.dataset.readMs = (performance.now() - sentAt).toFixed(2);
      result.dataset.reads = String(Number(result.dataset.reads || 0) + 1);
      readDone();
    },
    error({ message }) {
      console.error(`reading failed: ${message}`);
      alertUser("Something went wrong while reading. Your drawing is kept; try again.");
      readDone();
    },
    decoded({ id, width, height, pixels }) {
      names.delete(id);
      alertUser("");
      addImage(new ImageData(pixels, width, height));
    },
    taught: (message) => teaching.taught(message),
    "not-taught": (message) => teaching.notTaught(message),
    refused({ id, reason, retry }) {
      const advice = retry ? "Check your connection and try again. " : "";
      alertUser(`Could not read “${names.get(id)}”: ${reason}. ${advice}Your drawing is unchanged.`);
      names.delete(id);
    },
  };

  function connect() {
    worker = script?.xworker;
    if (!worker) return setTimeout(connect, 10); // PyScript makes the worker once core.js has loaded
    worker.addEventListener("message", (event) => handlers[event.data?.type]?.(event.data));
    worker.postMessage({ type: "hello" }); // the worker holds what it has to say until now
  }

  function read() {
    if (root.dataset.state !== "ready") return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    again = false;
    const { data, width, height } = ctx.getImageData(0, 0, pad.width, pad.height);
    sentAt = performance.now();
    send("read", { width, height, pixels: data }, [data.buffer]);
  }

  function readDone() {
    busy = false;
    if (again) read();
  }

  function decode(name, bytes) {
    names.set(send("decode", { bytes }, [bytes.buffer]), name);
  }

  // One message to the worker, with a new id (returned) that its reply carries; `transfer`: buffers handed over.
  function send(type, fields = {}, transfer = []) {
    worker.postMessage({ type, id: ++lastId, ...fields }, transfer);
    return lastId;
  }

  connect();
  return { read, decode, send };
})();

function mark(step, at) {
  // The worker's moments on the page's timeline, for bench/page.py's waterfall.
  performance.mark(`worker:${step}`, { startTime: at - performance.timeOrigin });
}

function showStatus(text, percent) {
  document.getElementById("status-text").textContent = text;
  const progress = document.getElementById("progress");
  progress.hidden = percent === null;
  if (percent !== null) progress.value = percent;
}

async function addImage(imageData) {
  items.push({ bitmap: await createImageBitmap(imageData) });
  redraw();
  changed();
}

// ---- showing a reading ----

let shown = { text: "", hint: "", digits: [] };
let selected = 0;
const seen = document.getElementById("seen");
const digitChoices = document.getElementById("digits");
// The ten probability bars, looked up once: every read updates them.
const bars = [...document.querySelectorAll("#bars li")].map((item) => ({
  item,
  fill: item.querySelector(".fill").style,
  percent: item.querySelector(".pct"),
}));

function showReading(reading) {
  shown = reading;
  selected = Math.min(selected, Math.max(reading.digits.length - 1, 0));
  result.textContent = reading.text;
  result.dataset.value = reading.text;
  say(reading.hint);
  showDigitChoices();
  showSelected();
  drawBoxes();
  teaching.showReading();
}

function labelOf(digit) {
  return digit.label === null || digit.label === undefined ? "?" : String(digit.label);
}

function showDigitChoices() {
  digitChoices.replaceChildren();
  if (shown.digits.length < 2) return;
  shown.digits.forEach((digit, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.setAttribute("role", "radio");
    button.setAttribute("aria-checked", String(index === selected));
    button.textContent = labelOf(digit);
    button.setAttribute("aria-label", `Digit ${index + 1}: ${button.textContent}`);
    button.dataset.index = String(index);
    digitChoices.appendChild(button);
  });
}

digitChoices.addEventListener("click", (event) => {
  const index = event.target.getAttribute("data-index");
  if (index === null) return;
  selected = Number(index);
  showReading(shown);
  digitChoices.querySelector(`[data-index="${selected}"]`).focus();
});

function showSelected() {
  const digit = shown.digits[selected];
  bars.forEach(({ item, fill, percent }, label) => {
    const share = digit ? digit.probabilities[label] : 0;
    fill.width = `${(share * 100).toFixed(1)}%`;
    percent.textContent = digit ? `${(share * 100).toFixed(0)}%` : "–";
    item.classList.toggle("top", digit?.label === label);
  });
  // What the model saw, as it saw it: white ink on black, 28x28.
  const context = seen.getContext("2d");
  if (digit) context.putImageData(new ImageData(digit.image, seen.width, seen.height), 0, 0);
  else context.fillRect(0, 0, seen.width, seen.height);
}

function drawBoxes() {
  const context = overlay.getContext("2d");
  context.clearRect(0, 0, overlay.width, overlay.height);
  const line = Math.max(2, Math.floor(overlay.height / 140));
  context.lineWidth = line;
  context.font = `bold ${Math.max(14, Math.floor(overlay.height / 14))}px system-ui, sans-serif`;
  shown.digits.forEach((digit, index) => {
    const [top, left, bottom, right] = digit.box;
    context.strokeStyle = labelOf(digit) !== "?" && digit.sure ? BOX_COLOUR : UNSURE_COLOUR;
    context.fillStyle = context.strokeStyle;
    const solid = index === selected || shown.digits.length === 1;
    context.setLineDash(solid ? [] : [line * 3, line * 2]);
    const padBy = line * 2;
    context.strokeRect(left - padBy, top - padBy, right - left + 2 * padBy, bottom - top + 2 * padBy);
    context.fillText(labelOf(digit), left - padBy, Math.max(top - padBy - line * 2, Math.floor(overlay.height / 14)));
  });
}

// ---- teaching: the person's own examples ----
//
// Pressing a digit in "Correct this digit" teaches the selected digit of the reading on show that label:
// the worker keeps that digit's embedding with the label (pyapp.personal) and gives back the whole set as
// JSON, which is kept here in localStorage (this browser only, also offline), and the pad is read again at
// once, so the reading changes in front of the person. At start the stored set goes to the worker before
// the first read. Export downloads the JSON (a blob: URL: no inline script, allowed by the CSP); Import
// sends a file's text to the worker, which takes it whole or refuses it with a reason, nothing changed.

const EXAMPLES_KEY = "digit-reader:examples";
const EXAMPLES_FILE = "digit-reader-examples.json";
const MAX_EXAMPLES_FILE_BYTES = 4_000_000; // pyapp.personal.MAX_FILE_BYTES: larger is refused before reading

const teaching = (() => {
  const keys = [...document.querySelectorAll("#correct button[data-label]")];
  const status = document.getElementById("examples-status");
  const forgetButton = document.getElementById("forget");
  const exportButton = document.getElementById("export-examples");
  const importInput = document.getElementById("import-examples");
  const note = document.getElementById("taught-note");
  const requests = new Map(); // id -> what was asked: {kind: "start" | "import" | "teach" | "forget", ...}
  let json = ""; // the set as the worker last gave it ("" when none)
  let count = 0;

  function stored() {
    try {
      return localStorage.getItem(EXAMPLES_KEY) || "";
    } catch {
      return ""; // storage blocked (a privacy setting): teaching lasts as long as the page
    }
  }

  function keep(text) {
    json = text;
    try {
      if (text) localStorage.setItem(EXAMPLES_KEY, text);
      else localStorage.removeItem(EXAMPLES_KEY);
    } catch {
      alertUser("This browser would not store your examples: they last until you close the page. Export them to keep them.");
    }
  }

  function ask(type, request, fields) {
    requests.set(reader.send(type, fields), request);
  }

  function start() {
    const text = stored();
    if (text) ask("examples", { kind: "start", text }, { json: text });
  }

  function showCount(message) {
    forgetButton.hidden = exportButton.hidden = count === 0;
    forgetButton.textContent = `Forget what I taught (${count})`;
    status.textContent = message ?? (count ? `You taught ${count} example${count === 1 ? "" : "s"}.` : "Nothing taught yet.");
  }

  function showReading() {
    const digit = shown.digits[selected];
    const teachable = root.dataset.state === "ready" && Boolean(digit) && !requests.size;
    for (const key of keys) key.disabled = !teachable;
    note.hidden = !digit?.taught;
  }

  function taught({ id, count: total, json: text }) {
    const request = requests.get(id);
    requests.delete(id);
    count = total;
    if (request?.kind === "start") json = request.text;
    else if (request?.kind === "import") keep(request.text);
    else keep(text);
    if (request?.kind === "import") alertUser("");
    const said = {
      teach: `Taught: ${request?.label}. You taught ${count} example${count === 1 ? "" : "s"}.`,
      import: `Imported ${count} example${count === 1 ? "" : "s"} from “${request?.name}”.`,
      forget: "Forgotten: the model reads alone again.",
    }[request?.kind];
    showCount(said);
    // The Forget button hides itself: keyboard focus goes to what it did, not to the page's start.
    if (request?.kind === "forget" && [forgetButton, document.body].includes(document.activeElement)) status.focus();
    showReading();
    if (request?.kind !== "start") reader.read(); // the reading changes in front of the person
  }

  function notTaught({ id, reason }) {
    const request = requests.get(id);
    requests.delete(id);
    showReading();
    if (request?.kind === "import") {
      alertUser(`Could not import “${request.name}”: ${reason} Your taught examples are unchanged.`);
    } else if (request?.kind === "start") {
      keep(""); // never usable again (another model's, or damaged): said once, then set aside
      alertUser(`Your taught examples could not be used: ${reason} The model reads alone.`);
    } else {
      alertUser(reason);
    }
  }

  document.getElementById("correct").addEventListener("click", (event) => {
    const label = event.target.closest?.("button[data-label]")?.dataset.label;
    if (label === undefined || event.target.disabled || !shown.digits[selected]) return;
    ask("teach", { kind: "teach", label }, { reading: shown.id, digit: selected, label: Number(label) });
    showReading(); // the keys wait for the answer: one correction at a time
  });

  forgetButton.addEventListener("click", () => ask("forget", { kind: "forget" }));

  exportButton.addEventListener("click", () => {
    if (!json) return;
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    link.download = EXAMPLES_FILE;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000); // once the download has started
  });

  importInput.addEventListener("change", async () => {
    const file = importInput.files[0];
    importInput.value = ""; // the same file can be chosen again
    if (!file) return;
    alertUser("");
    if (root.dataset.state !== "ready") {
      alertUser("Still loading: import the file again in a moment.");
    } else if (file.size > MAX_EXAMPLES_FILE_BYTES) {
      alertUser(`Could not import “${file.name}”: it is too large to be a set of taught examples. Your taught examples are unchanged.`);
    } else {
      const text = await file.text();
      ask("examples", { kind: "import", name: file.name, text }, { json: text });
    }
  });

  showCount();
  return { start, showReading, taught, notTaught };
})();

// ---- startup failures: an error state with a way out, never an endless spinner ----
//
// One mechanism: every sign that the start failed goes to fail(problem, file), which names the part that
// failed in words, with its file and what went wrong, and offers Retry. The signs, as each layer gives them:
// - one of the app's files answered with an HTTP error (Resource Timing's responseStatus), on this page or
//   in the worker (site/worker.mjs watches there and sends "failed"). Seen even where the loader says
//   nothing: PyScript writes a 404 page into pyapp/*.py;
// - a <script> or <link> that did not load, a module that did not parse (error events, here or there);
// - a WebAssembly file that did not compile (worker.mjs watches the compiles: Pyodide 0.27 catches that
//   itself, logs a warning and then waits forever);
// - the model session failed (worker.mjs says which of onnxruntime-web's files it was);
// - a promise nobody handled was rejected: PyScript's and Pyodide's loaders (a bad python_stdlib.zip ends so);
// - worker.py failed before it was ready (a Python error: a missing numpy, a damaged pyapp module).
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
  [/^worker\.mjs$/, "the app's worker"],
  [/^(pyapp\/|worker\.py$)/, "the app's Python code"],
];
// The app's files as they appear in URLs, error messages and Python tracebacks (/home/pyodide/pyapp/web.py).
const APP_FILE = /(?:model|vendor\/(?:ort|pyodide|pyscript)|pyapp)\/[\w.-]+|\bworker\.(?:py|mjs)\b/g;
// Errors that mean the bytes arrived but are not what was built: cut short or changed on the way.
const DAMAGED = /^(CompileError|SyntaxError|IndentationError|TabError)$/;
const SITE = new URL("./", location.href).href;

function messageOf(problem) {
  return String(problem?.message ?? problem ?? "");
}

function appFile(text, which = "first") {
  const found = String(text ?? "").match(APP_FILE) || [];
  return which === "last" ? found.at(-1) : found[0];
}

function sitePath(url) {
  return url?.startsWith(SITE) ? url.slice(SITE.length) : undefined;
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
  if (root.dataset.state !== "loading") return; // later errors are the reader's to report, next to what failed
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

function workerFailed({ name, message, url }) {
  if (name === "PythonError") return pythonFailed(message);
  const file = appFile(message) ?? appFile(url) ?? sitePath(url) ?? "vendor/pyodide/";
  fail({ name, message }, file);
}

function pythonFailed(traceback) {
  // worker.py stopped before the reader was ready; its traceback names the file.
  const missing = traceback.match(/No module named '(\w+)'/)?.[1]; // a package (numpy) loadPackage could not load
  if (missing && missing !== "pyapp") {
    fail("its download failed or did not match the build", `vendor/pyodide/${missing.toLowerCase()}`);
    return;
  }
  const [, name, message] = [...traceback.matchAll(/^(\w+(?:Error|Exception)): ?(.*)$/gm)].at(-1) ?? [];
  const problem = name ? { name, message: `${name}: ${message}` } : traceback;
  fail(problem, appFile(traceback, "last") ?? "worker.py");
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

// Unhandled rejections while loading come from PyScript's loader on this page, which also passes on the
// worker's failures in its own words ("Ar is not a function"): the worker's report, which names the file,
// is given GENERIC_FAILURE_DELAY_MS to arrive first.
const GENERIC_FAILURE_DELAY_MS = 1000;
window.addEventListener("unhandledrejection", (event) => {
  const file = appFile(messageOf(event.reason));
  if (file) fail(event.reason, file);
  else setTimeout(fail, GENERIC_FAILURE_DELAY_MS, event.reason, "vendor/pyscript/");
});

// PyScript shows Python errors as a .py-error box at the end of the body. Until the page is ready each is
// a failed start, taken off the page (the alert says it for people; the console keeps the traceback).
new MutationObserver((changes) => {
  if (root.dataset.state === "ready") return;
  for (const node of changes.flatMap((change) => [...change.addedNodes])) {
    if (node.classList?.contains("py-error")) {
      node.remove();
      pythonFailed(node.textContent);
    }
  }
}).observe(document.body, { childList: true });

setTimeout(() => fail("loading took too long"), STARTUP_TIMEOUT_MS);

resizePad();
redraw();

// The drawing pad: strokes drawn with pointer events (a mouse, a finger and a pen alike), the eraser, Undo,
// Clear, the pictures that files.js puts on it, and the keyboard shortcuts. What is on the pad is kept as a
// list, so it can be undone and redrawn at any size; this module only says that the drawing changed and
// never waits for the reader: the pad draws from the first paint, while Python loads and while it reads.
//
// Writes: canvas#pad (its size, its pixels, its "erasing" class) and #eraser (aria-pressed). Nothing else.

const BRUSH_REFERENCE_HEIGHT = 280; // the brush slider's widths are for a 280 px tall pad and scale with it
const LIVE_READ_INTERVAL_MS = 120; // throttle for reading while a stroke is still being drawn
const INK = "#111827";
const PAPER = "#ffffff";
// The eraser paints paper twice as wide as the brush: a stroke of the brush's own width is then rubbed out
// in one pass even when the hand wavers by half a width either side.
const ERASER_SCALE = 2;

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d", { willReadFrequently: true });
const brush = document.getElementById("brush");
const eraser = document.getElementById("eraser");

// What is on the pad, in order, so it can be undone and redrawn at any size. Points are in units of the
// pad's height, so a resize or a change of device pixel ratio redraws the same drawing.
const items = [];
let current = null;
let lastLiveRead = 0;

// What app.js asked startPad to call: changed() when the drawing changed (it is read), repainted(width,
// height) when the pad was painted afresh at that size (the last reading's boxes no longer fit it).
let changed;
let repainted;

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
  pad.width = width;
  pad.height = height;
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
  repainted(pad.width, pad.height);
}

function pointAt(event) {
  const rect = pad.getBoundingClientRect();
  return [(event.clientX - rect.left) / rect.height, (event.clientY - rect.top) / rect.height];
}

function startStroke(event) {
  if (event.button !== 0 && event.pointerType === "mouse") return;
  event.preventDefault();
  pad.setPointerCapture(event.pointerId);
  pad.focus({ preventScroll: true, focusVisible: false }); // the ring is for keyboard users
  const erase = eraser.getAttribute("aria-pressed") === "true";
  const width = (Number(brush.value) * (erase ? ERASER_SCALE : 1)) / BRUSH_REFERENCE_HEIGHT;
  current = { width, erase, points: [pointAt(event)] };
  items.push(current);
  paintStroke(current);
}

function extendStroke(event) {
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
}

function endStroke() {
  if (!current) return;
  current = null;
  changed();
}

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

function shortcut(event) {
  const typing = event.target instanceof HTMLInputElement && event.target.type !== "range";
  if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z") {
    event.preventDefault();
    undo();
  } else if (event.key === "Escape") {
    clear();
  } else if (event.key.toLowerCase() === "e" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    toggleEraser();
  } else if (event.key === "Enter" && !typing && !event.target.closest?.("button, a[href], summary")) {
    // Enter reads, except on what Enter itself presses: a button, a link, a disclosure's summary.
    event.preventDefault();
    document.getElementById("predict").click();
  }
}

// The pad's pixels as they are now, for the reader to send.
export function padPixels() {
  return ctx.getImageData(0, 0, pad.width, pad.height);
}

// An opened image (decoded in the worker), put on the pad like a stroke: Undo takes it off.
export async function addImage(imageData) {
  items.push({ bitmap: await createImageBitmap(imageData) });
  redraw();
  changed();
}

// predict(): the Predict button and Enter (app.js decides what a press does while Python loads).
export function startPad(callbacks) {
  ({ changed, repainted } = callbacks);
  pad.addEventListener("pointerdown", startStroke);
  pad.addEventListener("pointermove", extendStroke);
  pad.addEventListener("pointerup", endStroke);
  pad.addEventListener("pointercancel", endStroke);
  pad.addEventListener("lostpointercapture", endStroke);
  eraser.addEventListener("click", toggleEraser);
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("clear").addEventListener("click", clear);
  document.getElementById("predict").addEventListener("click", callbacks.predict);
  document.addEventListener("keydown", shortcut);
  new ResizeObserver(resizePad).observe(pad);
  window.matchMedia("(resolution: 1dppx)").addEventListener?.("change", resizePad);
  resizePad();
  redraw();
}

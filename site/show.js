// Shows what the reader read, and what the page has to say to the person: the text read, the hint, a choice
// of digit when there are several, the selected digit's probabilities and the 28x28 image the model saw, a
// box around each digit on the pad; and the alert line that every part of the page speaks through.
//
// Writes: #result (its text, data-value, data-read-ms, data-reads), #hint, #alert, #digits, #bars, #seen and
// canvas#overlay (its size and the boxes). Nothing else: teach.js follows the selected digit through
// the callback startShow takes.

const BOX_COLOUR = "#2563eb";
const UNSURE_COLOUR = "#d97706";

const result = document.getElementById("result");
const hint = document.getElementById("hint");
const alertLine = document.getElementById("alert");
const overlay = document.getElementById("overlay");
const seen = document.getElementById("seen");
const digitChoices = document.getElementById("digits");
// The ten probability bars, looked up once: every read updates them.
const bars = [...document.querySelectorAll("#bars li")].map((item) => ({
  item,
  fill: item.querySelector(".fill").style,
  percent: item.querySelector(".pct"),
}));

let shown = { text: "", hint: "", digits: [] };
let selected = 0;
let digitSelected; // (reading id, index, digit): set by startShow; teach.js corrects the selected digit

// The alert line: what went wrong and what to do ("" takes it away).
export function showAlert(message) {
  alertLine.textContent = message;
}

export function showHint(message) {
  hint.textContent = message;
}

// A reading from the worker; roundTripMs: from the read sent to its answer (the page's own figure).
export function showReading(reading, roundTripMs) {
  show(reading);
  result.dataset.readMs = roundTripMs.toFixed(2);
  result.dataset.reads = String(Number(result.dataset.reads || 0) + 1);
}

// The pad was painted afresh at this size: no box fits it any more until the next reading.
export function clearBoxes(width, height) {
  if (overlay.width !== width || overlay.height !== height) {
    overlay.width = width;
    overlay.height = height;
  }
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
}

export function startShow(onDigitSelected) {
  digitSelected = onDigitSelected;
  digitChoices.addEventListener("click", (event) => {
    const index = event.target.getAttribute("data-index");
    if (index === null) return;
    selected = Number(index);
    show(shown);
    digitChoices.querySelector(`[data-index="${selected}"]`).focus();
  });
}

function show(reading) {
  shown = reading;
  selected = Math.min(selected, Math.max(reading.digits.length - 1, 0));
  result.textContent = reading.text;
  result.dataset.value = reading.text;
  showHint(reading.hint);
  showDigitChoices();
  showSelected();
  drawBoxes();
  digitSelected(shown.id, selected, shown.digits[selected]);
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

// Shows what the reader read, and what the page has to say to the person: the text read, the hint, a choice
// of digit when there are several, the selected digit's probabilities and the 28x28 image the model saw, a
// box around each digit on the pad; and the alert line that every part of the page speaks through.
//
// A calm panel: the selected digit's part (#digit-panel: the choice of digit, the correction keys, the 28x28
// view, the bars, Why?) is shown only while the reading on show has a digit, so there are no empty bars or
// greyed keys before anything is read, nor after Clear; the how-to (#how-to) is shown until the first digit
// is read, then never again on this page.
//
// Writes: #result (its text, data-value, data-read-ms, data-reads), #hint, #alert, #digits, #bars, #seen,
// #digit-panel (hidden), #how-to (hidden) and canvas#overlay (its size, the boxes, and a why-map faint on its
// digit's box when why.js asks). Nothing else: teach.js and why.js follow the selected digit through the
// callback startShow takes, and write their own elements inside #digit-panel.

const BOX_COLOUR = "#2563eb";
const UNSURE_COLOUR = "#d97706";
const FAINT = 0.6; // a why-map on the pad is drawn at this opacity: the ink stays readable under it

const result = document.getElementById("result");
const hint = document.getElementById("hint");
const alertLine = document.getElementById("alert");
const overlay = document.getElementById("overlay");
const seen = document.getElementById("seen");
const digitChoices = document.getElementById("digits");
const digitPanel = document.getElementById("digit-panel");
const howTo = document.getElementById("how-to");
// The ten probability bars, looked up once: every read updates them.
const bars = [...document.querySelectorAll("#bars li")].map((item) => ({
  item,
  fill: item.querySelector(".fill").style,
  percent: item.querySelector(".pct"),
}));

let shown = { text: "", hint: "", digits: [] };
let selected = 0;
let digitSelected; // (reading id, index, digit): set by startShow; teach.js corrects the selected digit
let boxHeat = null; // {reading, index, picture}: a why-map to draw on that digit's box while it is shown

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
  boxHeat = null;
  if (overlay.width !== width || overlay.height !== height) {
    overlay.width = width;
    overlay.height = height;
  }
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
}

// A why-map {reading (its id), index (of the digit), picture (why.js's 28x28 ImageData: orange, alpha by
// heat)}, drawn faintly on that digit's box for as long as that digit of that reading is the one shown;
// null takes it away.
export function showHeatOnBox(map) {
  if (!map && !boxHeat) return; // nothing to take away (clearBoxes may have done it: no boxes to redraw)
  boxHeat = map;
  drawBoxes();
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
  if (boxHeat?.reading !== reading.id) boxHeat = null; // another reading: its map is of a drawing gone
  shown = reading;
  selected = Math.min(selected, Math.max(reading.digits.length - 1, 0));
  result.textContent = reading.text;
  result.dataset.value = reading.text;
  showHint(reading.hint);
  showPanel(reading.digits.length > 0);
  showDigitChoices();
  showSelected();
  drawBoxes();
  digitSelected(shown.id, selected, shown.digits[selected]);
}

// The selected digit's part of the panel, while there is a digit to show. Keyboard focus on one of its
// controls (Escape on a correction key clears the pad) goes back to the pad rather than to the page's start.
function showPanel(withDigit) {
  if (withDigit) howTo.hidden = true; // a newcomer's help: once a digit is read, it has done its job
  if (digitPanel.hidden === !withDigit) return;
  const hadFocus = digitPanel.contains(document.activeElement);
  digitPanel.hidden = !withDigit;
  if (hadFocus && !withDigit) document.getElementById("pad").focus({ preventScroll: true });
}

function labelOf(digit) {
  return digit.label === null || digit.label === undefined ? "?" : String(digit.label);
}

// A later reading of the same pad (a live read overtaken by the finished drawing, Predict) redraws the
// choices: a keyboard user on one of them keeps their place, not the page's start.
function showDigitChoices() {
  const focused = digitChoices.contains(document.activeElement) ? document.activeElement.dataset.index : null;
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
  if (focused !== null) digitChoices.querySelector(`[data-index="${focused}"]`)?.focus({ preventScroll: true });
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
  const digit = shown.digits[selected];
  if (digit && boxHeat?.reading === shown.id && boxHeat.index === selected) drawHeat(context, digit, boxHeat.picture);
}

// The 28x28 is the digit's crop scaled to 20 px on its long side (area averaging, sizes rounded) and moved
// so that its centre of mass is at the centre, so no exact mapping back to the pad is kept. The map's
// part inside the 28x28's ink bounding box is stretched onto the digit's box: the two frame the same ink, up
// to a pixel of the 28x28 (the rounding, and faint edges that the crop's ink threshold left out).
function drawHeat(context, digit, picture) {
  const side = picture.width;
  let top = side;
  let left = side;
  let bottom = 0;
  let right = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (digit.image[4 * (y * side + x)] === 0) continue; // the red channel of white ink on black
      top = Math.min(top, y);
      left = Math.min(left, x);
      bottom = Math.max(bottom, y + 1);
      right = Math.max(right, x + 1);
    }
  }
  if (bottom <= top || right <= left) return;
  const source = new OffscreenCanvas(side, side);
  source.getContext("2d").putImageData(picture, 0, 0);
  const [boxTop, boxLeft, boxBottom, boxRight] = digit.box;
  context.save();
  context.globalAlpha = FAINT;
  context.imageSmoothingEnabled = true;
  context.drawImage(source, left, top, right - left, bottom - top, boxLeft, boxTop, boxRight - boxLeft, boxBottom - boxTop);
  context.restore();
}

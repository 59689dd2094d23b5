// Images in: Open image…, paste (Ctrl+V) and drag and drop. The file's bytes go to the reader's worker,
// which decodes them with Pillow (pyapp/images.py, pyapp/photo.py); the picture it gives back lands on the
// pad (pad.js), where it is read like a drawing.
//
// Writes: #drop-hint (shown while a file is dragged over the page) and #file (emptied after each pick).
// What went wrong goes to #alert through show.js.

import { addImage } from "./pad.js";
import { decode } from "./reader.js";
import { showAlert } from "./show.js";
import { isReady } from "./startup.js";

const MAX_FILE_BYTES = 25 * 1024 * 1024; // larger files are refused before they are read into memory

const fileInput = document.getElementById("file");
const dropHint = document.getElementById("drop-hint");
const names = new Map(); // decode id -> the file's name, for the messages

async function openFile(file) {
  showAlert("");
  if (!file) return;
  if (file.size > MAX_FILE_BYTES) {
    showAlert(`“${file.name}” is ${(file.size / 1048576).toFixed(0)} MB; images up to 25 MB can be read. Your drawing is unchanged.`);
    return;
  }
  if (!isReady()) {
    showAlert("Still loading: open the image again in a moment.");
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  names.set(decode(bytes), file.name || "pasted image");
}

// The worker's "decoded" message: the image as dark ink on white, RGBA.
export function imageDecoded({ id, width, height, pixels }) {
  names.delete(id);
  showAlert("");
  addImage(new ImageData(pixels, width, height));
}

// The worker's "refused" message: not an image it can read (reason), or Pillow did not load (retry).
export function imageRefused({ id, reason, retry }) {
  const advice = retry ? "Check your connection and try again. " : "";
  showAlert(`Could not read “${names.get(id)}”: ${reason}. ${advice}Your drawing is unchanged.`);
  names.delete(id);
}

export function startFiles() {
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
}

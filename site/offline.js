// Registers the service worker (./sw.js) that keeps the whole site for offline use and instant returns.
// Included by index.html as <script type="module" src="./offline.js">. On a first visit registration
// waits until Python is ready (PyScript dispatches "py:all-done" on window), so precaching does not
// compete with the first load; a fallback timer covers a page where that event never comes.
const FALLBACK_MS = 20000;

function register() {
  navigator.serviceWorker.register("./sw.js").catch((error) => {
    console.warn("offline mode unavailable:", error.message);
  });
}

function registerOnce() {
  let done = false;
  const go = () => {
    if (!done) {
      done = true;
      register();
    }
  };
  window.addEventListener("py:all-done", go, { once: true });
  setTimeout(go, FALLBACK_MS);
}

if ("serviceWorker" in navigator && window.isSecureContext) {
  if (navigator.serviceWorker.controller) register(); // a return visit: just check for a new version
  else registerOnce();
}

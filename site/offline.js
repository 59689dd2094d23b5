// Registers the service worker (./sw.js) that keeps the whole site for offline use and instant returns.
// Included by index.html as <script type="module" src="./offline.js">. On a first visit registration
// waits until the page has started (startup.js sets <html data-state> to "ready" or "error"), so precaching
// does not compete with the first load.
const root = document.documentElement;

function register() {
  navigator.serviceWorker.register("./sw.js").catch((error) => {
    console.warn("offline mode unavailable:", error.message);
  });
}

function registerOnceStarted() {
  if (root.dataset.state !== "loading") return register();
  const watch = new MutationObserver(() => {
    if (root.dataset.state === "loading") return;
    watch.disconnect();
    register();
  });
  watch.observe(root, { attributes: true, attributeFilter: ["data-state"] });
}

if ("serviceWorker" in navigator && window.isSecureContext) {
  if (navigator.serviceWorker.controller) register(); // a return visit: just check for a new version
  else registerOnceStarted();
}

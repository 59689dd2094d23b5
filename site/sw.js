// Service worker: the whole built site, precached under a cache named after the build version.
// serve.py's build replaces the two placeholders below; a new deployment gets a new cache and the
// old one is deleted when the new worker activates.
const VERSION = "__BUILD_VERSION__";
const FILES = ["__PRECACHE_FILES__"];
const PREFIX = "digits-";
const CACHE = PREFIX + VERSION;
const SCOPE = new URL("./", self.location.href);

// Revalidate with the server while precaching, so an old copy from the HTTP cache never slips in.
async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(FILES.map((file) => new Request(new URL(file, SCOPE), { cache: "no-cache" })));
}

async function dropOldCaches() {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
  await self.clients.claim();
}

// A folder URL ("./", "/REPO/") is its index.html.
function cacheKey(request) {
  const url = new URL(request.url);
  url.search = "";
  url.hash = "";
  if (url.pathname.endsWith("/")) url.pathname += "index.html";
  return url.href;
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(cacheKey(request));
  return hit || fetch(request);
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldCaches());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !request.url.startsWith(SCOPE.href)) return;
  if (request.headers.has("range")) return;
  event.respondWith(cacheFirst(request));
});

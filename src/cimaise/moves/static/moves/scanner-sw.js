// Service worker of the handheld scanner. Django serves it at /custody/scanner/sw.js (so that its
// scope covers the page) with `const SCANNER = {version, page, assets, static}` written above
// this line; a new version (this file or a precached asset changed) installs a new cache.
//
// - The page: network first (fresh when online, with the session's own CSRF token), the cached
//   copy when the network fails or takes more than a few seconds.
// - Static files: from the cache at once, refreshed in the background.
// - Everything else (the API above all) is not touched: uploads and the code list go to the
//   network, and the page keeps its own queue in IndexedDB.

const PREFIX = "cimaise-scanner-";
const CACHE = PREFIX + SCANNER.version;
const PAGE_TIMEOUT_MS = 4000;

async function cachePage(cache) {
  const response = await fetch(SCANNER.page, { credentials: "same-origin", cache: "no-store" });
  // Never keep a redirect to the sign-in page in place of the scanner.
  if (response.ok && !response.redirected) await cache.put(SCANNER.page, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(SCANNER.assets);
      await cachePage(cache).catch(() => undefined);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

function timeout(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

async function pageNetworkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await Promise.race([fetch(request), timeout(PAGE_TIMEOUT_MS)]);
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(SCANNER.page, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(SCANNER.page);
    if (cached) return cached;
    throw error;
  }
}

async function staticCacheFirst(event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(event.request, { ignoreSearch: true });
  const refresh = fetch(event.request).then(async (response) => {
    if (response.ok) await cache.put(event.request, response.clone());
    return response;
  });
  if (!cached) return refresh;
  event.waitUntil(refresh.catch(() => undefined));
  return cached;
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === SCANNER.page) {
    event.respondWith(pageNetworkFirst(request));
  } else if (url.pathname.startsWith(SCANNER.static)) {
    event.respondWith(staticCacheFirst(event));
  }
});

// The page names itself and what else it loaded (htmx, say): keep whatever is not kept yet.
async function cacheUrls(urls) {
  const cache = await caches.open(CACHE);
  if (!(await cache.match(SCANNER.page))) await cachePage(cache).catch(() => undefined);
  for (const href of urls) {
    const url = new URL(href, self.location.origin);
    if (url.origin !== self.location.origin || !url.pathname.startsWith(SCANNER.static)) continue;
    if (await cache.match(url.href)) continue;
    try {
      const response = await fetch(url.href);
      if (response.ok) await cache.put(url.href, response);
    } catch {
      // Offline now: the next visit will fetch it.
    }
  }
}

// Answers "cached" when done, so that the page can check that it would open offline.
self.addEventListener("message", (event) => {
  if (event.data?.type !== "cache" || !Array.isArray(event.data.urls)) return;
  event.waitUntil(cacheUrls(event.data.urls).then(() => event.source?.postMessage({ type: "cached" })));
});

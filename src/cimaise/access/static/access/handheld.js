// The handheld check (/access/scan/): a fresh nonce for every submission, the code field kept
// focused for the next scan, and the camera where the browser has BarcodeDetector. No library:
// htmx does the requests and swaps.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // A nonce per submission ("c-…", where the page's own are "h-…"): two codes scanned in quick
  // succession from the same form are two scans, never one resent request. getRandomValues works
  // on plain http too (randomUUID does not).
  function nonce() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "c-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function ours(elt) {
    return elt instanceof HTMLFormElement && (elt.id === "scan-form" || elt.closest("#scan-zone"));
  }

  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    // parameters is htmx's proxy over FormData: read through get, not with the ``in`` operator
    if (!ours(form) || !event.detail.parameters.nonce) return;
    event.detail.parameters.nonce = nonce();
    if (form.id === "scan-form") {
      const field = $("scan-code");
      field.value = ""; // the code is on its way: the field is ready for the next one
      field.focus();
    }
  });

  // A check that did not reach the server (network down, server error): say so in the answer.
  function unsent(event) {
    const zone = $("scan-zone");
    if (!zone || !ours(event.detail.elt)) return;
    const alert = document.createElement("p");
    alert.className = "error";
    alert.setAttribute("role", "alert");
    alert.textContent = zone.dataset.unsent;
    zone.replaceChildren(alert);
  }
  document.addEventListener("htmx:sendError", unsent);
  document.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status >= 500) unsent(event);
  });

  // After an override (its form is gone), the focus goes back to the field for the next scan.
  document.addEventListener("htmx:afterSettle", () => {
    const field = $("scan-code");
    if (field && (document.activeElement === document.body || !document.activeElement)) field.focus();
  });

  // --- camera ----------------------------------------------------------------------------------
  let camera = null;

  function submitCode(value) {
    const field = $("scan-code");
    const form = $("scan-form");
    if (!field || !form) return;
    field.value = value;
    form.requestSubmit();
  }

  async function startCamera(button) {
    const supported = await BarcodeDetector.getSupportedFormats();
    const wanted = ["qr_code", "code_128", "aztec", "data_matrix", "pdf417"].filter((f) => supported.includes(f));
    const detector = new BarcodeDetector(wanted.length ? { formats: wanted } : undefined);
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    const video = $("camera-video");
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    camera = { stream, last: "", lastAt: 0 };
    button.textContent = button.dataset.stop;
    const look = async () => {
      if (!camera || camera.stream !== stream) return;
      try {
        const [hit] = await detector.detect(video);
        const now = Date.now();
        if (hit?.rawValue && (hit.rawValue !== camera.last || now - camera.lastAt > 2500)) {
          camera.last = hit.rawValue;
          camera.lastAt = now;
          submitCode(hit.rawValue);
        } else if (hit?.rawValue) {
          camera.lastAt = now; // the same code still in view: not a new scan
        }
      } catch (_error) {
        // a frame the detector could not read: try the next one
      }
      setTimeout(look, 150);
    };
    look();
  }

  function stopCamera(button) {
    camera?.stream.getTracks().forEach((track) => track.stop());
    camera = null;
    const video = $("camera-video");
    if (video) video.hidden = true;
    if (button) button.textContent = button.dataset.start;
  }

  function setUpCamera() {
    const button = $("camera-toggle");
    const unsupported = $("camera-unsupported");
    if (!button || !unsupported) return;
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices?.getUserMedia) {
      unsupported.hidden = false;
      return;
    }
    button.hidden = false;
    button.addEventListener("click", () => {
      if (camera) {
        stopCamera(button);
        return;
      }
      startCamera(button).catch(() => {
        stopCamera(button);
        unsupported.textContent = button.dataset.failed;
        unsupported.hidden = false;
      });
    });
    window.addEventListener("pagehide", () => stopCamera(button));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpCamera);
  } else {
    setUpCamera();
  }
})();

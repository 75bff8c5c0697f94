// The live screen (pages/screen.py): updates from a WebSocket drawn into the canvas; the
// canvas's mouse and keyboard events sent back as the guest's input.
"use strict";

function ozScreen(canvas) {
  const sid = canvas.dataset.space;
  const status = document.getElementById("screen-status");
  const errorEl = document.getElementById("screen-error");
  const ctx = canvas.getContext("2d");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(scheme + "//" + location.host + "/screen/" + sid + "/live");
  socket.binaryType = "arraybuffer";
  let frames = 0, last = null, shownAt = performance.now(), rate = 0;

  const showError = (message) => { errorEl.hidden = !message; errorEl.textContent = message || ""; };
  const send = (message) => { if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message)); };

  async function draw(buffer) {
    const view = new DataView(buffer);
    const n = view.getUint32(0);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, n)));
    if (canvas.width !== header.width || canvas.height !== header.height) {
      canvas.width = header.width;
      canvas.height = header.height;
    }
    let at = 4 + n;
    const images = [];
    for (const [x, y, w, h, size] of header.rects) {
      const blob = new Blob([new Uint8Array(buffer, at, size)], {type: "image/png"});
      at += size;
      images.push(createImageBitmap(blob).then(bitmap => [x, y, bitmap]));
    }
    for (const [x, y, bitmap] of await Promise.all(images)) {
      ctx.drawImage(bitmap, x, y);
      bitmap.close();
    }
    if ("cursor" in header) ozCursor(canvas, header.cursor);
    frames += 1;
    canvas.dataset.frames = String(frames);
    canvas.dataset.serial = String(header.serial);
    canvas.dataset.bytecodes = String(header.bytecodes);
    canvas.dataset.running = header.running ? "yes" : "no";
    const now = performance.now();
    if (now - shownAt > 1000) { rate = (frames - (last || 0)) * 1000 / (now - shownAt); last = frames; shownAt = now; }
    status.textContent = header.width + "x" + header.height + "x" + header.depth + " · " +
      (header.running ? "running" : "stopped" + (header.stopped ? " (" + header.stopped + ")" : "")) +
      " · update " + header.serial + (rate ? " · " + rate.toFixed(1) + " updates/s" : "");
  }

  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.error) showError(message.error);
      return;
    }
    draw(event.data).then(() => send({type: "ack"}), e => { showError(String(e)); send({type: "ack"}); });
  };
  socket.onopen = () => { status.textContent = "connected"; };
  socket.onclose = () => { status.textContent = "disconnected (reload the page)"; canvas.dataset.closed = "yes"; };

  const flags = (e) => ({shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey});
  const where = (e) => ({
    x: Math.floor(e.offsetX * canvas.width / canvas.clientWidth),
    y: Math.floor(e.offsetY * canvas.height / canvas.clientHeight),
  });
  let moveQueued = null;
  const mouse = (type) => (e) => {
    if (type === "mousedown") canvas.focus();
    const message = Object.assign({type: type, buttons: e.buttons}, where(e), flags(e));
    if (type === "mousemove") {        // one move per animation frame is enough
      if (moveQueued === null) requestAnimationFrame(() => { send(moveQueued); moveQueued = null; });
      moveQueued = message;
      return;
    }
    if (moveQueued !== null) { send(moveQueued); moveQueued = null; }
    send(message);
    e.preventDefault();
  };
  canvas.addEventListener("mousedown", mouse("mousedown"));
  canvas.addEventListener("mouseup", mouse("mouseup"));
  canvas.addEventListener("mousemove", mouse("mousemove"));
  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("keydown", (e) => {
    if (e.key.length !== 1 && !OZ_KEYS.has(e.key)) return;
    send(Object.assign({type: "keydown", key: e.key}, flags(e)));
    e.preventDefault();
  });

  const post = (path) => fetch(path, {method: "POST"}).then(() => {})
    .catch(e => showError(String(e)));
  document.getElementById("screen-run").onclick = () => post("/spaces/" + sid + "/run");
  document.getElementById("screen-stop").onclick = () => post("/spaces/" + sid + "/stop");
}

// The guest's cursor (16x16 RGBA, its hotspot) as the canvas's mouse cursor; none: a crosshair.
function ozCursor(canvas, cursor) {
  if (!cursor) {
    canvas.style.cursor = "crosshair";
    delete canvas.dataset.cursor;
    return;
  }
  const bytes = Uint8ClampedArray.from(atob(cursor.rgba), c => c.charCodeAt(0));
  const c = document.createElement("canvas");
  c.width = c.height = 16;
  c.getContext("2d").putImageData(new ImageData(bytes, 16, 16), 0, 0);
  canvas.style.cursor = "url(" + c.toDataURL() + ") " + cursor.hotspot[0] + " " + cursor.hotspot[1] + ", crosshair";
  canvas.dataset.cursor = cursor.hotspot.join(",");
}

const OZ_KEYS = new Set(["Backspace", "Tab", "Enter", "Escape", "Delete", "Home", "End", "PageUp",
                         "PageDown", "Insert", "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"]);

document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("screen-canvas");
  if (canvas) ozScreen(canvas);
});

// The Live page's camera and answers (cnnviz/ui/live_view.py; the server side is cnnviz/live_http.py).
//
// Streamlit (components v2) runs this module in the page, in the component's shadow root, and
// calls the default export again with the same root whenever the data changes: the camera,
// the loop and the nodes are built once per root and only updated after that.
//
// The loop: grab the video's current picture into a canvas (shorter side data.side px, JPEG),
// POST it with the stream's token, draw the answer, wait the `next_ms` the server granted,
// repeat. One frame in flight at a time, so a slow server slows the stream, never queues it.
// No script rerun per frame: Streamlit hears only of the camera's state ("on", "denied",
// "absent", "insecure", "refused") when it changes. Labels from the server are set as text.
// Every word shown comes translated from Python (data.words, "{name}" filled in here) and the
// numbers follow the reader's language (data.lang): no English is written in this file.

const STATES = { NotAllowedError: "denied", SecurityError: "denied", NotFoundError: "absent", OverconstrainedError: "absent", NotReadableError: "absent" };

// a template's {name} places filled from values (a translation may reorder them)
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));

function el(tag, cls, parent) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (parent) parent.appendChild(e);
  return e;
}

function build(root) {
  const box = el("div", "live", root);
  const left = el("div", "left", box);
  const video = el("video", "cam", left);
  video.muted = true; video.playsInline = true; video.autoplay = true;
  const status = el("p", "status", left);
  status.setAttribute("role", "status");
  const speed = el("p", "speed", left);
  speed.setAttribute("aria-hidden", "true"); // changes many times a second: not read aloud
  const right = el("div", "right", box);
  const topTitle = el("h2", "", right);
  const list = el("ol", "top", right);
  list.setAttribute("aria-live", "polite");
  const pics = el("div", "pics", right);
  // A picture with its caption, made with its first answer: an <img> without a source would
  // count as a broken picture (and there is nothing to describe yet).
  const figure = (cls, imgCls) => {
    const fig = el("figure", cls, pics);
    return { fig, img: el("img", imgCls, fig), cap: el("figcaption", "", fig) };
  };
  let figs = null;
  right.hidden = true; // no answers yet
  video.hidden = true; // no camera yet
  const canvas = document.createElement("canvas");
  // words, num, pct: set from the data at each update (the reader's language)
  const ui = { words: {}, num: null, pct: null, data: null, stream: null, running: false, asking: false, state: "", send: null, times: [], lastTop: "" };

  const report = (state) => { // only changes reach Streamlit (each one reruns the page once)
    if (state === ui.state) return;
    ui.state = state;
    if (ui.send) ui.send("camera", state);
  };
  // the token travels in a header (a beacon: its body), never in the URL that logs keep
  const url = (path) => new URL(`${ui.data.base}/api/live/${path}`, window.location.origin).href;
  const close = () => { if (ui.data && ui.data.token) navigator.sendBeacon(url("close"), ui.data.token); };

  const stop = () => {
    ui.running = false;
    if (ui.stream) { ui.stream.getTracks().forEach((t) => t.stop()); ui.stream = null; close(); }
    video.srcObject = null;
    video.hidden = right.hidden = true;
  };

  const grab = () => new Promise((resolve) => {
    const w = video.videoWidth, h = video.videoHeight;
    const k = ui.data.side / Math.min(w, h);
    canvas.width = Math.round(w * Math.min(1, k)); canvas.height = Math.round(h * Math.min(1, k));
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(resolve, "image/jpeg", 0.85);
  });

  const show = (r, t0) => {
    right.hidden = false;
    const names = r.top.map((c) => `${c.label} ${ui.pct(c.prob, 0)}`).join(", ");
    if (names !== ui.lastTop) { // the list is a live region: rewrite it only when it changes
      ui.lastTop = names;
      list.replaceChildren(...r.top.map((c) => {
        const li = el("li");
        const name = el("span", "name", li); name.textContent = c.label;
        const p = el("span", "prob", li); p.textContent = ui.pct(c.prob, 1);
        const bar = el("span", "bar", li); bar.style.width = `${Math.max(1, 100 * c.prob)}%`;
        bar.setAttribute("aria-hidden", "true");
        return li;
      }));
    }
    // a digit model's own view (grey, inverted, 28×28), the Grad-CAM overlay, the channels
    figs = figs || { seen: figure("seen", "tiles"), cam: figure("gradcam", ""), tiles: figure("channels", "tiles") };
    const put = (f, src, alt, cap) => {
      f.fig.hidden = !src;
      if (src) { f.img.src = src; f.img.alt = alt; f.cap.textContent = cap; }
    };
    put(figs.seen, r.seen, r.seen_alt, r.seen_alt);
    const w = ui.words;
    put(figs.cam, r.cam, r.cam_alt, fill(w.cam, { label: r.cam_label, layer: r.cam_layer }));
    put(figs.tiles, r.tiles, r.tiles_alt, fill(w.tiles, { layer: r.layer, n: r.channels.length, channels: r.channels.join(", ") }));
    const now = performance.now();
    ui.times.push([now, now - t0, r.server_ms]);
    while (ui.times.length > 1 && now - ui.times[0][0] > 3000) ui.times.shift();
    const n = ui.times.length;
    const fps = n > 1 ? (1000 * (n - 1)) / (now - ui.times[0][0]) : 0;
    const delay = ui.times.reduce((a, x) => a + x[1], 0) / n;
    const server = ui.times.reduce((a, x) => a + x[2], 0) / n;
    speed.textContent = fill(w.speed, { fps: ui.num(fps, 1), delay: ui.num(delay, 0), server: ui.num(server, 0) });
    box.dataset.frames = String(Number(box.dataset.frames || 0) + 1); // answers drawn, for a look from outside
  };

  const loop = async () => {
    while (ui.running) {
      if (video.readyState < 2 || !video.videoWidth) { await new Promise((ok) => setTimeout(ok, 100)); continue; }
      const t0 = performance.now();
      let wait = 1000;
      try {
        const blob = await grab();
        const res = await fetch(url("frame"), { method: "POST", body: blob, headers: { "Content-Type": "image/jpeg", "X-Live-Token": ui.data.token }, credentials: "same-origin" });
        const r = await res.json();
        wait = r.next_ms ?? 1000;
        if (!ui.running) break;
        if (res.ok) {
          show(r, t0);
          status.textContent = ui.words.live;
          report("on");
        } else {
          if (res.status === 409) stop(); // the student's other tab has the live view now: this camera goes off
          status.textContent = r.error;
          if (res.status === 429 || res.status === 409 || res.status === 410) report("refused");
        }
      } catch (e) {
        console.error("live view:", e);
        status.textContent = ui.words.retry;
        wait = 2000;
      }
      await new Promise((ok) => setTimeout(ok, wait));
    }
  };

  const start = async () => {
    if (ui.running || ui.stream || ui.asking) return; // one camera, however many reruns meanwhile
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      status.textContent = ui.words.insecure;
      report("insecure");
      return;
    }
    status.textContent = ui.words.asking;
    ui.asking = true;
    try {
      ui.stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    } catch (e) {
      ui.asking = false;
      const state = STATES[e.name] || "absent";
      status.textContent = state === "denied" ? ui.words.denied : ui.words.absent;
      report(state);
      return;
    }
    ui.asking = false;
    if (!ui.data.on) { stop(); return; } // turned off while the browser asked
    video.srcObject = ui.stream;
    video.hidden = false;
    ui.running = true;
    loop();
  };

  addEventListener("pagehide", close);
  ui.update = (data, setStateValue) => {
    const token = ui.data && ui.data.token;
    ui.data = data;
    ui.send = setStateValue;
    ui.words = data.words || {};
    const lang = data.lang || "en";
    ui.num = (x, d) => x.toLocaleString(lang, { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: false });
    ui.pct = (p, d) => p.toLocaleString(lang, { style: "percent", minimumFractionDigits: d, maximumFractionDigits: d });
    video.setAttribute("aria-label", ui.words.video || "");
    topTitle.textContent = ui.words.top || "";
    box.classList.toggle("grey", !!data.grey);
    if (token && token !== data.token) ui.times = [];
    if (data.on) start(); else stop();
  };
  ui.cleanup = () => { stop(); removeEventListener("pagehide", close); };
  return ui;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!parentElement.__cnnvizLive) parentElement.__cnnvizLive = build(parentElement);
  const ui = parentElement.__cnnvizLive;
  ui.update(data, setStateValue);
  return ui.cleanup; // at unmount (another page): the camera goes off and the stream's place is freed
}

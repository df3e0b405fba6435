// A picture a student can click, tap or walk with the keyboard (cnnviz/ui/clickable.py).
//
// Streamlit (components v2) runs this module in the page itself, in the component's own
// shadow root: no iframe, so the picture is as wide as its column and its height follows
// the picture at every width. Streamlit calls the default export again, with the same
// root, whenever the data changes: the nodes and listeners are built once per root and
// only updated after that. Whatever comes from Python (alt text, labels) is set as text or
// attributes through the DOM API, never parsed as markup.
//
// Hotspots (cnnviz/hotspots.py): a "grid" of equal cells (the arrow-key rule is
// hotspots.Grid.move, mirrored here) or "boxes" with a neighbour table computed in Python.
// The value sent back is a click in displayed pixels with the displayed size, or for a key
// press the hotspot's centre in the picture's own pixels with its own size.

const KEYS = {
  ArrowUp: "up", ArrowDown: "down", ArrowLeft: "left", ArrowRight: "right",
  PageUp: "pageup", PageDown: "pagedown", Home: "home", End: "end",
};
const ORDER = ["up", "down", "left", "right"]; // hotspots.KEYS

export function gridMove(s, i, key) {
  let r = Math.floor(i / s.cols);
  const c = i % s.cols;
  const last = s.n - 1;
  const step = { up: -1, down: 1, pageup: -s.page, pagedown: s.page }[key];
  if (step !== undefined) {
    r = Math.min(Math.max(r + step, 0), s.rows - 1);
    while (r * s.cols + c > last) r -= 1; // a short last row: the cell above the hole
    return r * s.cols + c;
  }
  if (key === "left") return c > 0 ? i - 1 : i;
  if (key === "right") return c < s.cols - 1 && i < last ? i + 1 : i;
  if (key === "home") return r * s.cols;
  if (key === "end") return Math.min(r * s.cols + s.cols - 1, last);
  if (key === "first") return 0;
  if (key === "last") return last;
  return i;
}

export function move(s, i, key) {
  if (s.kind === "grid") return gridMove(s, i, key);
  const k = ORDER.indexOf(key);
  if (k >= 0) return s.next[i][k];
  if (key === "home" || key === "first" || key === "pageup") return 0;
  if (key === "end" || key === "last" || key === "pagedown") return s.n - 1;
  return i;
}

export function boxOf(s, i) { // [top, left, bottom, right] in the picture's pixels
  if (s.kind !== "grid") return s.boxes[i];
  const r = Math.floor(i / s.cols), c = i % s.cols;
  const [ch, cw] = s.cell, [oy, ox] = s.origin;
  return [oy + r * ch, ox + c * cw, oy + (r + 1) * ch, ox + (c + 1) * cw];
}

export function labelOf(s, i) {
  if (s.labels) return s.labels[i];
  const r = Math.floor(i / s.cols), c = i % s.cols;
  return s.template.replaceAll("{row}", r).replaceAll("{col}", c).replaceAll("{i}", i);
}

function node(tag, cls) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function build(root) {
  const pic = node("div", "pic");
  const img = node("img");
  const cursor = node("div", "cursor");
  const badge = node("div", "badge");
  const help = node("div", "sr");
  const live = node("div", "sr");
  const note = node("p", "note");
  const more = node("p", "note"); // a phone: the picture is wider than the screen
  const scroller = node("div", "scroll");
  pic.dataset.testid = "cnnvizPicture"; // the tests' handle (testing/browser.py)
  help.id = "cnnviz-help";
  live.setAttribute("aria-live", "polite");
  img.draggable = false;
  cursor.hidden = badge.hidden = note.hidden = more.hidden = true;
  pic.append(img, cursor, badge);
  scroller.append(pic);
  const wrap = node("div", "cp");
  wrap.append(scroller, more, note, help, live);
  root.append(wrap);
  const sideways = new ResizeObserver(() => { more.hidden = scroller.scrollWidth <= scroller.clientWidth + 1; });
  sideways.observe(scroller);
  sideways.observe(pic);

  const ui = { data: null, spots: null, at: null, selected: null, kbd: false, seq: 0, send: null, src: null,
    nonce: Math.random().toString(36).slice(2) };
  const natural = () => ui.data.natural; // [height, width]

  function say(text) { live.textContent = text; }

  function send(value) {
    ui.seq += 1;
    ui.send("click", { ...value, id: `${ui.nonce}-${ui.seq}` });
  }

  function show() { // the cursor and its label over the focused hotspot (keyboard only)
    const s = ui.spots;
    const on = !!s && ui.at !== null && ui.kbd && pic.matches(":focus");
    cursor.hidden = badge.hidden = !on;
    if (!on) return;
    const [nh, nw] = natural();
    const [t, l, b, r] = boxOf(s, ui.at);
    Object.assign(cursor.style, {
      top: `${(100 * t) / nh}%`, left: `${(100 * l) / nw}%`,
      height: `${(100 * (b - t)) / nh}%`, width: `${(100 * (r - l)) / nw}%`,
    });
    badge.textContent = labelOf(s, ui.at);
    const below = (t + b) / 2 < nh / 2, fromLeft = (l + r) / 2 < nw / 2;
    Object.assign(badge.style, {
      top: below ? `calc(${(100 * b) / nh}% + 6px)` : "",
      bottom: below ? "" : `calc(${100 - (100 * t) / nh}% + 6px)`,
      left: fromLeft ? `${(100 * l) / nw}%` : "",
      right: fromLeft ? "" : `${100 - (100 * r) / nw}%`,
    });
    cursor.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function start() { return ui.selected !== null ? ui.selected : 0; }

  function choose() {
    if (ui.data.disabled) { say(ui.data.locked); return; }
    const [t, l, b, r] = boxOf(ui.spots, ui.at);
    const [nh, nw] = natural();
    // the centre pixel (hotspots.Grid.centre / Boxes.centre) plus half a pixel: inside it
    send({ x: Math.floor((l + r - 1) / 2) + 0.5, y: Math.floor((t + b - 1) / 2) + 0.5, width: nw, height: nh });
    say(ui.data.words.chosen.replace("{label}", labelOf(ui.spots, ui.at)));
  }

  // Where the pointer went down, in fractions of CSS pixels: Chrome rounds a click's own
  // coordinates to whole pixels, a pointerdown's it keeps (a 224-pixel photo drawn 276 px
  // wide is picked to the right pixel).
  let down = null;
  pic.addEventListener("pointerdown", (e) => {
    down = { x: e.clientX, y: e.clientY };
    ui.kbd = false;
    show();
  });
  pic.addEventListener("click", (e) => {
    if (ui.data.disabled) { say(ui.data.locked); return; }
    const at = down && Math.abs(down.x - e.clientX) <= 1 && Math.abs(down.y - e.clientY) <= 1 ? down : { x: e.clientX, y: e.clientY };
    down = null;
    const box = img.getBoundingClientRect();
    const x = at.x - box.left, y = at.y - box.top;
    if (x < 0 || y < 0 || x >= box.width || y >= box.height) return;
    send({ x, y, width: box.width, height: box.height });
  });
  pic.addEventListener("focus", () => {
    ui.kbd = pic.matches(":focus-visible");
    if (ui.spots && ui.at === null) ui.at = start();
    show();
  });
  pic.addEventListener("blur", () => show());
  pic.addEventListener("keydown", (e) => {
    const s = ui.spots;
    if (!s || e.altKey || e.metaKey) return;
    let key = KEYS[e.key];
    if (key) {
      if (e.ctrlKey && (key === "home" || key === "end")) key = key === "home" ? "first" : "last";
      e.preventDefault(); // arrows move the cursor, not the page
      ui.kbd = true;
      ui.at = ui.at === null ? start() : move(s, ui.at, key);
      show();
      say(labelOf(s, ui.at));
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      ui.kbd = true;
      if (ui.at === null) ui.at = start();
      show();
      choose();
    }
  });

  ui.update = (data, setTriggerValue) => {
    ui.data = data;
    ui.send = setTriggerValue;
    if (ui.src !== data.src) { img.src = data.src; ui.src = data.src; }
    const [nh, nw] = data.natural;
    img.width = nw; // the frame keeps the picture's shape before it has loaded: no jump
    img.height = nh;
    pic.style.setProperty("--aspect", String(nw / nh));
    img.alt = data.alt;
    more.textContent = data.words.sideways; // the words come translated from Python
    img.classList.toggle("pixelated", !!data.pixelated);
    pic.style.maxWidth = data.width ? `${data.width}px` : "";
    scroller.classList.toggle("has-min", !!data.min_width);
    pic.style.setProperty("--min-width", data.min_width ? `${data.min_width}px` : "auto");
    pic.style.cursor = data.disabled ? "not-allowed" : data.cursor;
    const s = data.spots;
    ui.spots = s;
    if (s) {
      pic.tabIndex = 0;
      pic.setAttribute("role", "application");
      pic.setAttribute("aria-roledescription", data.words.role);
      pic.setAttribute("aria-label", data.alt);
      pic.setAttribute("aria-describedby", help.id);
      help.textContent = data.help;
      // a new selection (a click, a key, another widget) moves the cursor; a rerun that
      // changed nothing leaves it where the student walked it
      if (s.selected !== ui.selected || (ui.at !== null && ui.at >= s.n)) ui.at = s.selected;
      ui.selected = s.selected;
    } else {
      pic.removeAttribute("tabindex");
      for (const a of ["role", "aria-roledescription", "aria-label", "aria-describedby"]) pic.removeAttribute(a);
      ui.at = ui.selected = null;
    }
    if (data.disabled) pic.setAttribute("aria-disabled", "true");
    else pic.removeAttribute("aria-disabled");
    note.hidden = !data.disabled;
    note.textContent = data.disabled ? data.locked : "";
    show();
  };
  return ui;
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement;
  if (!root.__cnnvizPicture) root.__cnnvizPicture = build(root);
  root.__cnnvizPicture.update(data, setTriggerValue);
  // no cleanup function: Streamlit calls only the last one, at unmount, and the nodes and
  // listeners go away with the root
}

"""The live page: one self-contained HTML file (inline CSS and script, nothing fetched from
elsewhere, no build step), fed by /events and drawing every scene of the run."""

PAGE = b"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>dreamzoom: live</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: dark; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 15px/1.4 system-ui, sans-serif; background: #111; color: #e8e8e8; }
  header { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 12px 18px;
           background: #1c1c1c; position: sticky; top: 0; }
  h1 { font-size: 18px; margin: 0; font-weight: 600; }
  header progress { flex: 1 1 200px; }
  .state { padding: 1px 8px; border-radius: 4px; background: #444; font-size: 12px; letter-spacing: .06em;
           text-transform: uppercase; }
  .state.rendering { background: #2b5c9c; } .state.done { background: #2e7d32; }
  .state.interrupted { background: #9a6500; } .state.failed { background: #b3261e; }
  #note { color: #aaa; font-size: 13px; }
  main { display: grid; gap: 18px; padding: 18px; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
  section { background: #1c1c1c; border-radius: 8px; padding: 12px 14px; }
  section.current { outline: 1px solid #555; }
  h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 10px; align-items: center; word-break: break-all; }
  .frame { display: block; width: 100%; max-height: 60vh; object-fit: contain; background: #000; min-height: 40px; }
  progress { width: 100%; height: 10px; }
  .numbers { font-variant-numeric: tabular-nums; color: #bbb; font-size: 13px; margin: 4px 0; }
  .timeline { position: relative; display: flex; height: 24px; margin: 8px 0 4px; border-radius: 4px;
              overflow: hidden; }
  .segment { flex: 1 1 0; min-width: 2px; padding: 3px 5px; background: #333; border-right: 2px solid #1c1c1c;
             font-size: 11px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .segment.now { background: #d19a00; color: #000; font-weight: 600; }
  .cursor { position: absolute; top: 0; bottom: 0; width: 2px; background: #fff; }
  details { margin-top: 8px; } summary { cursor: pointer; color: #bbb; font-size: 13px; }
  .storyboard { width: 100%; margin-top: 6px; }
</style>
</head>
<body>
<header>
  <h1>dreamzoom</h1>
  <span id="state" class="state">connecting</span>
  <progress id="progress" value="0" max="1"></progress>
  <span id="numbers" class="numbers"></span>
  <span id="note"></span>
</header>
<main id="scenes"></main>
<script>
"use strict";
const cards = [];
let last = null;

function element(tag, className, parent) {
  const made = document.createElement(tag);
  if (className) made.className = className;
  if (parent) parent.append(made);
  return made;
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "\\u2013";
  const s = Math.round(seconds), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
  const mm = h ? String(m).padStart(2, "0") : String(m);
  return (h ? h + ":" : "") + mm + ":" + String(s % 60).padStart(2, "0");
}

function numbers(s) {
  const parts = [s.frames ? s.frame + " of " + s.frames + " frames" : s.frame + " frames"];
  if (s.fps !== null && s.fps !== undefined) parts.push(s.fps.toFixed(2) + " frames/s");
  if (s.state === "rendering" || s.eta_s !== null) parts.push("ETA " + clock(s.eta_s));
  return parts.join(" \\u00b7 ");
}

function setState(node, state) {
  node.textContent = state;
  node.className = "state " + state;
}

function card(index) {
  if (cards[index]) return cards[index];
  const c = {shown: null, want: null, loading: false, timeline: ""};
  c.box = element("section", "scene", document.getElementById("scenes"));
  c.box.dataset.scene = index;
  const title = element("h2", "", c.box);
  c.name = element("span", "name", title);
  c.state = element("span", "state", title);
  c.img = element("img", "frame", c.box);
  c.img.alt = "the latest frame";
  c.img.onload = c.img.onerror = () => { c.loading = false; loadFrame(c, index); };
  c.progress = element("progress", "", c.box);
  c.numbers = element("div", "numbers", c.box);
  c.line = element("div", "timeline", c.box);
  c.board = element("details", "", c.box);
  c.board.hidden = true;
  element("summary", "", c.board).textContent = "storyboard";
  c.boardImg = element("img", "storyboard", c.board);
  c.boardImg.alt = "the storyboard";
  cards[index] = c;
  return c;
}

function loadFrame(c, index) {  // one at a time; the newest frame once the one loading is in
  if (c.want === null || c.want === c.shown || c.loading) return;
  c.loading = true;
  c.shown = c.want;
  c.img.src = "/frame.jpg?scene=" + index + "&i=" + c.want;
}

function drawTimeline(c, s) {
  const key = JSON.stringify(s.timeline);
  if (key !== c.timeline) {
    c.timeline = key;
    c.line.replaceChildren();
    c.blocks = s.timeline.map((segment, i) => {
      const block = element("div", "segment", c.line);
      block.style.flexGrow = segment.last - segment.first + 1;
      block.textContent = i + ": " + segment.label;
      block.title = "segment " + i + ", frames " + segment.first + "\\u2013" + segment.last + ": " + segment.label;
      return block;
    });
    c.cursor = element("div", "cursor", c.line);
  }
  c.blocks.forEach((block, i) => {
    const now = i === s.segment && s.state === "rendering";
    block.classList.toggle("now", now);
    if (now) block.setAttribute("aria-current", "step"); else block.removeAttribute("aria-current");
  });
  const end = s.timeline.length ? s.timeline[s.timeline.length - 1].last + 1 : 1;
  c.cursor.style.left = Math.min(100, 100 * s.frame / end) + "%";
  c.line.hidden = !s.timeline.length;
}

function drawScene(s, index, current) {
  const c = card(index);
  c.box.classList.toggle("current", current);
  c.name.textContent = s.scene;
  setState(c.state, s.state);
  c.progress.max = Math.max(1, s.frames);
  c.progress.value = s.frame;
  c.numbers.textContent = numbers(s);
  drawTimeline(c, s);
  c.want = s.shown;
  loadFrame(c, index);
  c.img.hidden = c.shown === null;
  if (s.storyboard && !c.boardImg.getAttribute("src")) {
    c.boardImg.src = "/storyboard.png?scene=" + index;
    c.board.open = s.shown === null;  // a storyboard run has no frames of its own
  }
  c.board.hidden = !s.storyboard;
}

function draw(status) {
  last = status;
  setState(document.getElementById("state"), status.state);
  const bar = document.getElementById("progress");
  bar.max = Math.max(1, status.frames);
  bar.value = status.frame;
  document.getElementById("numbers").textContent = numbers(status);
  document.title = (status.state === "rendering" && status.frames
    ? Math.floor(100 * status.frame / status.frames) + "% " : status.state + ": ") + "dreamzoom";
  status.scenes.forEach((s, i) => drawScene(s, i, i === status.current && status.scenes.length > 1));
}

function note(text) { document.getElementById("note").textContent = text; }

function poll() {
  fetch("/status.json", {cache: "no-store"}).then(r => r.json()).then(status => {
    draw(status);
    note("");
    if (status.state === "rendering") setTimeout(poll, 1000);
    else note("The render has ended; this page no longer updates.");
  }).catch(() => ended());
}

function ended() {
  note(last && last.state !== "rendering" ? "The render has ended; this page no longer updates."
                                          : "The render's server is not answering.");
}

if (window.EventSource) {
  const events = new EventSource("/events");
  events.onmessage = message => { draw(JSON.parse(message.data)); note(""); };
  events.onerror = () => {
    if (last && last.state !== "rendering") { events.close(); ended(); } else note("Reconnecting\\u2026");
  };
} else {
  poll();
}
</script>
</body>
</html>
"""

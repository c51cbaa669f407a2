// The class's map (the Class page, for a projector): the test digits faint on the model's fixed
// 2-d map of codes, and every student's current drawing as a small picture where its code lies,
// framed in the colour of the digit class nearest its code. New drawings pulse as they land. Under
// it, the most unusual drawings (by the meter) and the most digit-like. Click two drawings, on the
// map or in a strip, and the model, in the page, morphs one into the other (Interpolate's walk);
// the server hears which are chosen (to hide one). Where the page cannot run the model, the server
// decodes the pair's frame where the slider is let go (`served`), and this paints it.
//
// The page follows the room itself: it asks our route (ae/web.py, /ae/room/<code>/map, with the
// teacher's key cookie) for what changed after the tag it holds, the question held until
// something does (ae/ui/classmap.py), so the server's work follows the class's strokes, not the
// room's size, and never waits behind the students' reruns.

import { lerp } from "./latent.js";
import { countPaint, digitCanvas, paintDigit } from "./paint.js";
import { LiveWidget, element } from "./widget.js";

const SIDE = 900; // the map's own pixels (before the screen's pixel ratio)
const PICTURE = 46;
const PULSE_MS = 900;
const STRIP = 8; // drawings in each strip
const HERE = new URL("./", import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const backgrounds = new Map(); // url -> promise of the test digits' points [[x, y, class], ...]
function pointsAt(url) {
  if (!backgrounds.has(url)) {
    backgrounds.set(url, fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const text = await new Response(response.body.pipeThrough(new DecompressionStream("gzip"))).text();
      return JSON.parse(text);
    }).catch(() => (backgrounds.delete(url), [])));
  }
  return backgrounds.get(url);
}

export class ClassMapWidget extends LiveWidget {
  constructor(root) {
    super();
    this.map = element("canvas", { class: "classmap", role: "img" });
    this.tip = element("div", { class: "tip", hidden: "" });
    this.legend = element("div", { class: "legend" });
    this.picture = digitCanvas("The digit decoded between the two chosen drawings");
    this.slider = element("input", { type: "range", min: 0, max: 1, step: 0.01, value: 0, "aria-label": "From the first chosen drawing (0) to the second (1)" });
    this.play = element("button", { type: "button", class: "live-only", text: "Pause" });
    this.pairNote = element("p", { class: "caption" });
    this.strips = { picks: element("div", { class: "strip" }), unusual: element("div", { class: "strip" }), digitlike: element("div", { class: "strip" }) };
    this.picksTitle = element("h3", { text: "The teacher's picks" });
    this.counts = element("div", { class: "counts", role: "status" });
    this.every = element("input", { type: "checkbox" });
    this.everyLabel = element("label", { class: "every", hidden: "" }, this.every, " Every step's drawings (off: this step's)");
    this.morph = element("section", { class: "pair" },
      element("h3", { text: "Morph" }), this.pairNote, this.picture, this.slider, this.play, this.status);
    root.append(element("section", { class: "class" },
      element("div", { class: "mapbox" }, this.counts, this.everyLabel, this.map, this.tip, this.legend, this.picksTitle, this.strips.picks,
        element("h3", { text: "Most unusual" }), this.strips.unusual, element("h3", { text: "Most digit-like" }), this.strips.digitlike),
      this.morph));
    this.points = [];
    this.rows = new Map(); // drawing id -> the latest heard of it (a hidden one: id, seat, step)
    this.drawings = []; // what the map shows: each seat's latest drawing, unless hidden
    this.images = new Map(); // drawing id -> {image, born}
    this.selected = [];
    this.playing = true;
    this.every.addEventListener("change", () => this.show());
    this.map.addEventListener("click", (e) => this.click(e));
    this.map.addEventListener("pointermove", (e) => this.hover(e));
    this.map.addEventListener("pointerleave", () => (this.tip.hidden = true));
    this.slider.addEventListener("input", (e) => {
      this.playing = false;
      this.play.textContent = "Play";
      this.frames.request(e.timeStamp);
    });
    this.slider.addEventListener("change", () => this.runtime === "failed" && this.send({ t: Number(this.slider.value) }));
    this.play.addEventListener("click", () => {
      this.playing = !this.playing;
      this.play.textContent = this.playing ? "Pause" : "Play";
      if (this.playing) this.tick();
    });
  }

  update(args) {
    this.args = args;
    if (args.points_url) {
      pointsAt(args.points_url).then((points) => {
        this.points = points;
        this.draw();
      });
    } else this.points = args.points;
    this.legend.replaceChildren(...args.palette.map((colour, k) => element("span", {}, element("i", { style: `background:${colour}` }), String(k))));
    if (this.room !== args.room) {
      this.room = args.room;
      this.rows.clear();
      this.heard = null;
      this.follow(args.room);
    }
    this.morph.hidden = !args.pair;
    this.map.parentElement.parentElement.classList.toggle("paired", Boolean(args.pair));
    this.pairNote.textContent = args.pair ? `${args.pair.names[0]} to ${args.pair.names[1]}, through the code space` : "";
    this.useModel(args); // at once, so that the first pair morphs without a wait
    this.show();
    if (args.pair && this.playing) this.tick();
    this.paintServed();
  }

  // The server's frame of the pair, where the page does not run the model.
  paintServed() {
    const shown = this.paintServedDigit(this.morph, this.picture, this.args.pair && this.args.served);
    if (shown && document.activeElement !== this.slider) this.slider.value = shown.t;
  }

  async follow(room) {
    let pause = 0;
    while (this.room === room) {
      try {
        const since = this.heard ? this.heard.tag : "";
        const response = await fetch(new URL(`../../ae/room/${room}/map?since=${since}`, HERE), { cache: "no-store", credentials: "same-origin" });
        if (response.status === 404) {
          this.counts.textContent = "This class has ended.";
          return;
        }
        if (!response.ok) throw new Error(await response.text()); // 403 until the teacher's key is kept on this device
        const heard = await response.json();
        pause = 0;
        if (this.room === room) this.take(heard);
      } catch (e) {
        pause = Math.min(2 * pause || 250, 5_000); // a server restarting, a network gone: ask again, less and less often
        await sleep(pause);
      }
    }
  }

  // A change heard: the rows it brings replace those held; each seat keeps its latest drawing in
  // this step and in any (the rest are let go), and the map shows one of the two.
  take(heard) {
    if (this.heard && heard.tag === this.heard.tag) return;
    if (heard.afresh) this.rows.clear();
    for (const d of heard.drawings) this.rows.set(d.id, d);
    this.heard = heard;
    const keep = new Set([...this.latest(false), ...this.latest(true)].map((d) => d.id));
    for (const id of this.rows.keys()) if (!keep.has(id)) this.rows.delete(id);
    this.everyLabel.hidden = !heard.step;
    this.show();
    window.aeClassMap = { tag: heard.tag, shown: this.drawings.length, heard: (window.aeClassMap?.heard || 0) + 1 };
  }

  latest(inStep) {
    const step = this.heard ? this.heard.step : 0, bySeat = new Map();
    for (const d of this.rows.values()) {
      if (inStep && step && d.step !== step) continue;
      if (!bySeat.has(d.seat) || bySeat.get(d.seat).id < d.id) bySeat.set(d.seat, d);
    }
    return [...bySeat.values()];
  }

  show() {
    if (!this.args) return;
    const heard = this.heard, inStep = Boolean(heard && heard.step && !this.every.checked);
    this.drawings = this.latest(inStep).filter((d) => !d.hidden).sort((a, b) => a.id - b.id);
    const ids = new Set(this.drawings.map((d) => d.id));
    for (const d of this.drawings) {
      const kept = this.images.get(d.id);
      if (kept && kept.png === d.png) continue;
      const image = new Image();
      image.onload = () => this.draw();
      image.src = d.png;
      this.images.set(d.id, { image, png: d.png, born: this.seeded ? performance.now() : -Infinity });
    }
    for (const id of this.images.keys()) if (!ids.has(id)) this.images.delete(id);
    this.seeded = Boolean(heard); // the drawings there when the page opened do not pulse
    this.selected = this.selected.filter((id) => ids.has(id));
    if (heard) {
      const shown = heard.step ? ` · the map: ${inStep ? heard.heading : "every step"}` : "";
      this.counts.replaceChildren(element("b", { text: String(heard.students) }), " students · ", element("b", { text: String(heard.count) }),
        ` drawings · ${heard.state}${shown}`);
    }
    this.map.setAttribute("aria-label", `The class's map: ${this.drawings.length} drawings among the test digits' codes`);
    this.draw();
    this.fillStrips();
  }

  modelReady() {
    this.frames.request();
    if (this.args.pair && this.playing) this.tick(); // it stopped while the server drew the morph
  }

  place([x, y]) {
    const { lo, hi } = this.args;
    const fx = Math.min(Math.max((x - lo[0]) / (hi[0] - lo[0]), 0), 1), fy = Math.min(Math.max((hi[1] - y) / (hi[1] - lo[1]), 0), 1);
    return [PICTURE / 2 + fx * (SIDE - PICTURE), PICTURE / 2 + fy * (SIDE - PICTURE)];
  }

  draw() {
    const ratio = window.devicePixelRatio || 1;
    if (this.map.width !== Math.round(SIDE * ratio)) this.map.width = this.map.height = Math.round(SIDE * ratio);
    const ctx = this.map.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, SIDE, SIDE);
    ctx.globalAlpha = 0.4;
    for (const [x, y, label] of this.points) {
      const [px, py] = this.place([x, y]);
      ctx.fillStyle = this.args.palette[label];
      ctx.fillRect(px - 2, py - 2, 4, 4);
    }
    ctx.globalAlpha = 1;
    const now = performance.now();
    let pulsing = false;
    for (const d of this.drawings) {
      const kept = this.images.get(d.id);
      if (!kept || !kept.image.complete) continue;
      const age = (now - kept.born) / PULSE_MS;
      const grow = age < 1 ? 1 + 0.8 * (1 - age) ** 2 : 1;
      pulsing ||= age < 1;
      const size = PICTURE * grow, [px, py] = this.place(d.xy);
      ctx.fillStyle = d.tint >= 0 ? this.args.palette[d.tint] : "#666";
      ctx.fillRect(px - size / 2 - 3, py - size / 2 - 3, size + 6, size + 6);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(kept.image, px - size / 2, py - size / 2, size, size);
      const rank = this.selected.indexOf(d.id);
      if (rank >= 0) {
        ctx.strokeStyle = "#fff";
        ctx.lineWidth = 4;
        ctx.strokeRect(px - size / 2 - 7, py - size / 2 - 7, size + 14, size + 14);
        ctx.fillStyle = "#fff";
        ctx.font = "bold 22px sans-serif";
        ctx.fillText(rank === 0 ? "A" : "B", px + size / 2 + 6, py - size / 2 + 4);
      }
    }
    countPaint(this.map);
    if (pulsing) requestAnimationFrame(() => this.draw());
  }

  // The teacher's picks (starred), the most unusual drawings and the most digit-like, each a
  // picture to click, named under it.
  fillStrips() {
    const scored = this.drawings.filter((d) => d.unusual !== null).sort((a, b) => b.unusual - a.unusual);
    const fill = (strip, picked) => strip.replaceChildren(...picked.map((d) => {
      const picture = element("img", { src: d.png, alt: `A drawing by ${d.name}`, class: this.selected.includes(d.id) ? "chosen" : "" });
      picture.addEventListener("click", () => this.choose(d.id));
      return element("figure", { title: d.verdict }, picture, element("figcaption", { text: d.name }));
    }));
    const picks = this.drawings.filter((d) => d.starred);
    this.picksTitle.hidden = this.strips.picks.hidden = !picks.length;
    fill(this.strips.picks, picks);
    fill(this.strips.unusual, scored.slice(0, STRIP));
    fill(this.strips.digitlike, scored.slice(-STRIP).reverse());
  }

  choose(id) {
    this.selected = this.selected.includes(id) ? this.selected.filter((i) => i !== id) : [...this.selected, id].slice(-2);
    this.draw();
    this.fillStrips();
    this.send({ selected: this.selected });
  }

  // The drawing under a point of the map (the one drawn last, on top), or null.
  at(e) {
    const box = this.map.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * SIDE, y = ((e.clientY - box.top) / box.height) * SIDE;
    const hits = this.drawings.filter((d) => {
      const [px, py] = this.place(d.xy);
      return Math.abs(px - x) <= PICTURE / 2 + 3 && Math.abs(py - y) <= PICTURE / 2 + 3;
    });
    return hits.length ? hits[hits.length - 1] : null;
  }

  click(e) {
    const d = this.at(e);
    if (d) this.choose(d.id);
  }

  hover(e) {
    const d = this.at(e);
    this.tip.hidden = !d;
    if (!d) return;
    const box = this.map.getBoundingClientRect();
    this.tip.textContent = `${d.name} · ${d.verdict}`; // text, never markup
    this.tip.style.left = `${e.clientX - box.left + 14}px`;
    this.tip.style.top = `${e.clientY - box.top + 14}px`;
  }

  tick() {
    if (this.ticking) return;
    this.ticking = true;
    const step = (time) => {
      if (!this.playing || !this.args.pair || this.runtime === "failed") { // offline: the slider is the teacher's
        this.ticking = false;
        return;
      }
      const t = (time / 2500) % 2;
      this.slider.value = t <= 1 ? t : 2 - t; // there and back, 2.5 s each way
      this.frames.request(time);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  async frame() {
    const model = this.model, pair = this.args.pair;
    if (!model || !pair) return false;
    const image = await model.decode(lerp(pair.a, pair.b, Number(this.slider.value)));
    if (model !== this.model) return false;
    paintDigit(this.picture, image);
    countPaint(this.picture);
    return true;
  }
}

// The pen on a canvas: one pointer per stroke (the first to touch with its primary button; a
// second finger, a palm or the right button is ignored until it lifts), and its positions in the
// canvas's own pixels, as early as the engine gives them.
//
// Positions are each event's clientX/Y in this frame against the canvas's box, both CSS pixels:
// right at any browser or pinch zoom. pointermove, with the positions coalesced into it, comes in
// every engine (Firefox sends a finger's moves only as pointermove) but once a frame, after the
// pen moved. pointerrawupdate comes at once where it exists, but inside a frame Chromium gives it
// the top page's coordinates: so its positions are used only once a pointermove of the same
// moment has shown how far off they are (a shift that must hold still), and never otherwise.

export class Pen {
  // handlers: down(point, time), move(points, oldestTime), up(time)
  constructor(canvas, size, handlers) {
    Object.assign(this, { canvas, size, handlers });
    this.enabled = true; // false: no stroke starts, and the one under way ends (the teacher's pens down)
    this.stroke = null; // {id, drawn: the time of the last position handed out, last: that position, shift, raw: time -> [x, y]}
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    if ("onpointerrawupdate" in window) canvas.addEventListener("pointerrawupdate", (e) => this.raw(e));
    for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) canvas.addEventListener(type, (e) => this.up(e));
    // touch-action: none keeps the page still under a finger; Safari before 13 needs this too.
    canvas.addEventListener("touchmove", (e) => e.preventDefault(), { passive: false });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  }

  at(x, y, box) {
    return [((x - box.left) / box.width) * this.size, ((y - box.top) / box.height) * this.size];
  }

  down(e) {
    e.preventDefault();
    if (!this.enabled || this.stroke !== null || e.button !== 0 || !e.isPrimary) return;
    this.canvas.setPointerCapture(e.pointerId);
    const point = this.at(e.clientX, e.clientY, this.canvas.getBoundingClientRect());
    this.stroke = { id: e.pointerId, drawn: e.timeStamp, shift: null, steady: true, raw: new Map(), last: point };
    this.handlers.down(point, e.timeStamp);
  }

  move(e) {
    const s = this.stroke;
    if (s === null || e.pointerId !== s.id) return;
    if (!this.enabled) return this.up(e);
    const box = this.canvas.getBoundingClientRect();
    const all = coalesced(e);
    for (const p of all) {
      const raw = s.raw.get(p.timeStamp);
      if (raw) this.calibrate(s, [raw[0] - p.clientX, raw[1] - p.clientY]);
    }
    s.raw.clear();
    const fresh = all.filter((p) => p.timeStamp > s.drawn);
    if (!fresh.length) return;
    s.drawn = fresh[fresh.length - 1].timeStamp;
    this.give(s, fresh.map((p) => this.at(p.clientX, p.clientY, box)), fresh[0].timeStamp);
  }

  give(s, points, since) {
    s.last = points[points.length - 1];
    this.handlers.move(points, since);
  }

  raw(e) {
    const s = this.stroke;
    if (s === null || e.pointerId !== s.id) return;
    const all = coalesced(e);
    if (s.shift === null || !s.steady) {
      for (const p of all) s.raw.set(p.timeStamp, [p.clientX, p.clientY]);
      return;
    }
    const fresh = all.filter((p) => p.timeStamp > s.drawn);
    if (!fresh.length) return;
    s.drawn = fresh[fresh.length - 1].timeStamp;
    for (const p of fresh) s.raw.set(p.timeStamp, [p.clientX, p.clientY]); // checked against pointermove
    const box = this.canvas.getBoundingClientRect();
    this.give(s, fresh.map((p) => this.at(p.clientX - s.shift[0], p.clientY - s.shift[1], box)), fresh[0].timeStamp);
  }

  // The raw positions' offset from pointermove's; one that moves (a zoom or scroll that is not a
  // shift) stops the raw positions for the rest of the stroke.
  calibrate(s, shift) {
    if (s.shift !== null && Math.hypot(shift[0] - s.shift[0], shift[1] - s.shift[1]) > 0.5) s.steady = false;
    s.shift = shift;
  }

  up(e) {
    const s = this.stroke;
    if (s === null || e.pointerId !== s.id) return;
    if (e.type === "pointerup") {
      // where the pen lifted, if no move brought it there (a stylus may lift a little further on)
      const point = this.at(e.clientX, e.clientY, this.canvas.getBoundingClientRect());
      if (Math.hypot(point[0] - s.last[0], point[1] - s.last[1]) > 0.5) this.give(s, [point], e.timeStamp);
    }
    this.stroke = null;
    this.handlers.up(e.timeStamp);
  }
}

function coalesced(e) {
  const list = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  return list.length ? list : [e];
}

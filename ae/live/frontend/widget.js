// What every widget shares: its model, loaded into the page, and a status line saying where it runs.

import { countPaint, floatsOf, paintDigit } from "./paint.js";
import { dropModel, loadModel, placement } from "./runtime.js";
import { setValue } from "./streamlit.js";

export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

// Runs `paint` at most once per animation frame and one at a time: the first input of a frame runs
// at once (no wait for the next frame), inputs that arrive while a run is busy or after this frame's
// run are painted together by one run at the next frame, from the latest state (no queue). `paint`
// returns true when it painted a model's output; the time from the oldest input to then is kept
// in `latencies`.
export class FrameLoop {
  constructor(paint, onError = (error) => console.error(error)) {
    this.paint = paint;
    this.onError = onError;
    this.latencies = [];
    this.since = null;
    this.requested = false;
    this.busy = false;
    this.again = false;
    this.frameUsed = false;
    this.waiting = []; // callbacks for when everything requested so far has been painted
  }

  // Calls `then` once every input requested so far has been painted (at once if none is pending).
  afterPainting(then) {
    if (!this.busy && !this.requested) then();
    else this.waiting.push(then);
  }

  request(time = performance.now()) {
    this.since ??= time;
    if (this.busy) {
      this.again = true; // the run in progress asks for another when it is done
      return;
    }
    if (this.requested) return;
    this.requested = true;
    if (this.frameUsed) requestAnimationFrame(() => this.run());
    else queueMicrotask(() => this.run());
  }

  async run() {
    this.requested = false;
    const since = this.since;
    this.since = null;
    this.busy = true;
    this.frameUsed = true;
    requestAnimationFrame(() => (this.frameUsed = false));
    try {
      if (await this.paint()) this.latencies.push(performance.now() - since);
    } catch (error) {
      this.onError(error);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.request();
      } else if (!this.requested) {
        for (const then of this.waiting.splice(0)) then();
      }
    }
  }
}

const DEADLINE_MS = 15_000; // loading longer than this: the server draws until the page is ready

// A failure in words a class can read; the engine's own text stays in `detail` (and the console).
export function plainReason(error) {
  const text = String((error && error.message) || error || "");
  if (/no WebAssembly/.test(text)) return "this browser has no WebAssembly";
  if (/DecompressionStream/.test(text)) return "this browser is too old to unpack the model";
  if (/memory|allocate|OOM/i.test(text)) return "this device ran out of memory for it";
  return "its files did not load";
}

export class LiveWidget {
  constructor() {
    this.model = null;
    this.digest = null;
    this.runtime = "loading"; // "loading", "ok" or "failed" (also while slow); the server falls back on "failed"
    this.placement = placement; // where its models run: {isolated, threads, worker}
    this.reason = "";
    this.detail = "";
    this.status = element("p", { class: "status", role: "status" });
    this.value = {};
    this.deadline = null;
    this.broken = new Map(); // digest -> why: models that failed after loading
    this.servedPaints = 0; // paintings of what the server computed: the tests and the bench read it
    this.frames = new FrameLoop(() => this.frame(), (error) => this.broke(error));
  }

  // Load the model the page asks for, if it is not the one loaded; then `modelReady()`.
  useModel(args) {
    const spec = args.model;
    const name = args.model_name;
    if (!spec) {
      const reason = `the server could not prepare it: ${args.export_error || "no export"}`;
      if (this.digest === `none: ${reason}`) return; // said already
      this.digest = `none: ${reason}`;
      this.model = null;
      this.fail(name, reason);
      return;
    }
    if (spec.digest === this.digest) return;
    this.digest = spec.digest;
    this.model = null;
    if (this.broken.has(spec.digest)) {
      this.fail(name, this.broken.get(spec.digest)); // not again in this page: it would break again
      return;
    }
    this.setStatus(this.runtime === "failed" ? "failed" : "loading", `Loading ${name} into this page…`);
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      if (this.digest !== spec.digest || this.model) return;
      this.reason = "slow";
      this.setStatus("failed", `${name} is still loading into this page (a slow network?): the server computes the pictures until it is ready.`);
      this.send({});
    }, DEADLINE_MS);
    loadModel(args.version, spec).then(
      (model) => {
        if (this.digest !== spec.digest) return;
        clearTimeout(this.deadline);
        const wasFailed = this.runtime === "failed";
        this.model = model;
        this.reason = this.detail = "";
        this.setStatus("ok", `${name} runs in your browser: every frame is computed here, not on the server.`);
        this.readyAt ??= performance.timeOrigin + performance.now(); // the bench reads when the page first ran a model
        if (wasFailed) this.send({}); // the server stops drawing its fallback
        this.modelReady();
      },
      (error) => {
        if (this.digest !== spec.digest) return;
        clearTimeout(this.deadline);
        this.detail = String((error && error.message) || error);
        this.fail(name, plainReason(error));
      },
    );
  }

  modelReady() {}

  // An error after the model loaded (a frame that threw): the server takes over for this model,
  // whose sessions are released; another model may still run in the page.
  broke(error) {
    if (!this.model) return;
    dropModel(this.digest);
    this.model = null;
    this.detail = String((error && error.message) || error);
    this.broken.set(this.digest, plainReason(error));
    this.fail(this.args.model_name, plainReason(error));
  }

  fail(name, reason) {
    if (this.detail) console.warn(`live widget: ${this.detail}`);
    this.status.dataset.detail = this.detail;
    this.reason = reason;
    this.setStatus("failed", `${name || "The model"} cannot run in this page (${reason}): the server computes the pictures instead.`);
    this.send({});
  }

  setStatus(state, text) {
    this.runtime = state;
    document.body.classList.toggle("offline", state === "failed");
    this.status.textContent = text;
    this.status.classList.toggle("problem", state === "failed");
    if (this.args) this.paintServed(); // the server's pictures, from the moment it computes them
  }

  // What the server computed (the widget's `served` argument), painted where the page does not run the model.
  paintServed() {}

  // The digit the server decoded (`given.image`, with where: t or the point) painted on `picture`,
  // where the page does not run the model; `section` is marked `served` (live.css). Returns `given`
  // when it was painted now, null when nothing changed.
  paintServedDigit(section, picture, given) {
    const shown = this.runtime === "failed" ? given || null : null;
    section.classList.toggle("served", Boolean(shown));
    const key = shown && `${shown.t ?? shown.z} ${shown.image}`;
    if (key === this.painted) return null;
    this.painted = key;
    if (!shown) return null;
    paintDigit(picture, floatsOf(shown.image));
    countPaint(picture);
    this.servedPaints += 1;
    return shown;
  }

  // Tell the server something (a rerun there): the widget's value, with where it runs.
  send(value) {
    this.value = { ...this.value, ...value, runtime: this.runtime, reason: this.reason };
    setValue(this.value);
  }

  get latencies() {
    return this.frames.latencies;
  }

  // Test hook: the loaded model on 784 pixels.
  async run(pixels) {
    const code = await this.model.encode(pixels);
    const output = await this.model.decode(code);
    return { code: Array.from(code), output: Array.from(output) };
  }
}

// What every widget shares: its model, loaded into the page, and a status line saying where it runs.

import { loadModel } from "./runtime.js";
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
  constructor(paint) {
    this.paint = paint;
    this.latencies = [];
    this.since = null;
    this.requested = false;
    this.busy = false;
    this.again = false;
    this.frameUsed = false;
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
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.request();
      }
    }
  }
}

export class LiveWidget {
  constructor() {
    this.model = null;
    this.digest = null;
    this.runtime = "loading"; // "loading", "ok" or "failed"; the server falls back on "failed"
    this.reason = "";
    this.status = element("p", { class: "status", role: "status" });
    this.value = {};
  }

  // Load the model the page asks for, if it is not the one loaded; then `modelReady()`.
  useModel(args) {
    const spec = args.model;
    if (!spec) {
      const reason = args.export_error || "this model could not be made ready for the browser";
      if (this.digest === `none: ${reason}`) return; // said already
      this.digest = `none: ${reason}`;
      this.model = null;
      this.fail(reason);
      return;
    }
    if (spec.digest === this.digest) return;
    this.digest = spec.digest;
    this.model = null;
    this.setStatus("loading", `Loading ${args.model_name} into this page…`);
    loadModel(args.version, spec).then(
      (model) => {
        if (this.digest !== spec.digest) return;
        this.model = model;
        this.setStatus("ok", `${args.model_name} runs in your browser: every frame is computed here, not on the server.`);
        this.modelReady();
      },
      (error) => {
        if (this.digest === spec.digest) this.fail(error.message || String(error));
      },
    );
  }

  modelReady() {}

  fail(reason) {
    this.setStatus("failed", `Live mode is off (${reason}): the server computes the pictures instead.`);
    this.reason = reason;
    this.send({});
  }

  setStatus(state, text) {
    this.runtime = state;
    document.body.classList.toggle("offline", state === "failed");
    this.status.textContent = text;
    this.status.classList.toggle("problem", state === "failed");
  }

  // Tell the server something (a rerun there): the widget's value, with where it runs.
  send(value) {
    this.value = { ...this.value, ...value, runtime: this.runtime, reason: this.reason };
    setValue(this.value);
  }

  // Test hook: the loaded model on 784 pixels.
  async run(pixels) {
    const code = await this.model.encode(pixels);
    const output = await this.model.decode(code);
    return { code: Array.from(code), output: Array.from(output) };
  }
}

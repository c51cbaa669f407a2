// Edit the code: start from the drawing's code and move one number (codes of up to 16 numbers) or
// one principal direction of the model's test codes (larger codes) with a slider; the decoder
// redraws the digit on every frame of the drag.

import { countPaint, digitCanvas, paintDigit } from "./paint.js";
import { FrameLoop, element } from "./widget.js";

export class CodeEditor {
  constructor(owner) {
    this.owner = owner;
    this.picture = digitCanvas("The digit decoded from the edited code");
    this.reset = element("button", { type: "button", text: "Reset" });
    this.sliders = element("div", { class: "sliders" });
    this.note = element("p", { class: "caption" });
    this.element = element("details", { class: "edit" },
      element("summary", { text: "Edit the code" }),
      this.note,
      element("div", { class: "editor" },
        element("div", {}, element("figure", {}, this.picture, element("figcaption", { text: "Decoded from the edited code" })), this.reset),
        this.sliders));
    this.inputs = [];
    this.z0 = null;
    this.frames = new FrameLoop(() => this.frame(), (error) => owner.broke(error));
    this.reset.addEventListener("click", () => this.start(this.z0, true));
    this.element.addEventListener("toggle", () => this.start(this.z0, true)); // closed, it does nothing
  }

  // spec: {kind: "numbers", lo, hi} or {kind: "directions", mean, basis, spread}, or null.
  update(spec, latentDim) {
    const key = JSON.stringify([spec && spec.kind, latentDim, spec && (spec.lo || spec.spread)]);
    if (key === this.key) return;
    this.key = key;
    this.spec = spec;
    this.sliders.replaceChildren();
    this.inputs = [];
    if (!spec) {
      this.note.textContent = "Editing a code this large needs its principal directions, measured on the MNIST test digits, which this server does not have.";
      return;
    }
    this.note.textContent = spec.kind === "numbers"
      ? "Each slider is one number of the code. Move one and watch which strokes it controls: the decoder redraws the digit from the edited code as you drag."
      : `This code has ${latentDim} numbers, too many for a slider each. A direction is a mix of all of them: the direction along which the codes of the test digits spread the most, then the next, at right angles to it, and so on. Each slider moves the code along one direction, and the decoder redraws the digit as you drag.`;
    const count = spec.kind === "numbers" ? spec.lo.length : spec.basis.length;
    for (let i = 0; i < count; i++) {
      const input = element("input", { type: "range", step: "any", "aria-label": spec.kind === "numbers" ? `Code number ${i + 1}` : `Direction ${i + 1}` });
      if (spec.kind === "numbers") Object.assign(input, { min: spec.lo[i], max: spec.hi[i] });
      else Object.assign(input, { min: -3 * spec.spread[i], max: 3 * spec.spread[i] });
      input.addEventListener("input", (e) => this.frames.request(e.timeStamp));
      this.inputs.push(input);
      const name = spec.kind === "numbers" ? `number ${i + 1}` : `direction ${i + 1}${i === 0 ? " (the widest spread)" : ""}`;
      this.sliders.append(element("label", {}, name, input));
    }
    if (this.z0) this.start(this.z0, true);
  }

  // The sliders at a new code (a new drawing), unless one is being dragged.
  start(code, force = false) {
    if (!code) return;
    if (!force && this.inputs.includes(document.activeElement)) return;
    this.z0 = Array.from(code);
    if (!this.spec || !this.element.open) return;
    this.inputs.forEach((input, i) => {
      const value = this.spec.kind === "numbers" ? this.z0[i] : this.projection(i);
      input.min = Math.min(Number(input.min), value);
      input.max = Math.max(Number(input.max), value);
      input.value = value;
      input.dataset.start = value;
    });
    this.frames.request();
  }

  projection(i) {
    const { basis, mean } = this.spec;
    return basis[i].reduce((s, v, j) => s + v * (this.z0[j] - mean[j]), 0);
  }

  code() {
    const z = this.z0.slice();
    this.inputs.forEach((input, i) => {
      const value = Number(input.value);
      if (this.spec.kind === "numbers") z[i] = value;
      else this.spec.basis[i].forEach((v, j) => (z[j] += (value - Number(input.dataset.start)) * v));
    });
    return z;
  }

  async frame() {
    const model = this.owner.model;
    if (!model || !this.z0 || !this.spec || !this.element.open) return false;
    paintDigit(this.picture, await model.decode(this.code()));
    countPaint(this.picture);
    return true;
  }
}

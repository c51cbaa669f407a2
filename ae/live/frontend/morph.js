// Interpolate: the frame at t follows the slider while it is dragged, decoded in the page from the
// two codes the server sent; the server hears t when the slider is let go. Where the page cannot
// run the model, the server decodes the frame at that t (`served`) and this paints it.

import { METHODS } from "./latent.js";
import { countPaint, digitCanvas, paintDigit } from "./paint.js";
import { LiveWidget, element } from "./widget.js";

export class MorphWidget extends LiveWidget {
  constructor(root) {
    super();
    this.picture = digitCanvas("The digit decoded at this point of the path");
    this.slider = element("input", { type: "range", min: 0, max: 1, step: 0.01, "aria-label": "t, from digit A (0) to digit B (1)" });
    this.label = element("output");
    root.append(element("section", { class: "morph" },
      element("label", { class: "caption", text: "t: from A (0) to B (1)" }), this.slider, this.label, this.picture, this.status));
    this.slider.addEventListener("input", (e) => this.frames.request(e.timeStamp));
    this.slider.addEventListener("change", () => this.send({ t: Number(this.slider.value) }));
  }

  update(args) {
    this.args = args;
    if (document.activeElement !== this.slider) this.slider.value = args.served ? args.served.t : args.t;
    this.useModel(args);
    this.frames.request();
    this.paintServed();
  }

  // The server's frame, where the page does not run the model.
  paintServed() {
    const shown = this.paintServedDigit(this.picture.parentElement, this.picture, this.args.served);
    if (shown) this.label.textContent = `decode at t = ${shown.t.toFixed(2)} (${this.args.method}), by the server`;
  }

  modelReady() {
    this.frames.request();
  }

  code() {
    return METHODS[this.args.method](this.args.za, this.args.zb, Number(this.slider.value));
  }

  async frame() {
    const t = Number(this.slider.value);
    const model = this.model;
    if (!model) {
      if (this.runtime === "failed" && t !== this.args.served?.t) this.label.textContent = `t = ${t.toFixed(2)}: let go, and the server decodes it`;
      return false;
    }
    this.label.textContent = `decode at t = ${t.toFixed(2)} (${this.args.method})`;
    const image = await model.decode(this.code());
    if (model !== this.model) return false;
    paintDigit(this.picture, image);
    countPaint(this.picture);
    return true;
  }
}

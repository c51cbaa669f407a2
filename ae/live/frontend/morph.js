// Interpolate: the frame at t follows the slider while it is dragged, decoded in the page from the
// two codes the server sent; the server hears t when the slider is let go.

import { METHODS } from "./latent.js";
import { countPaint, digitCanvas, paintDigit } from "./paint.js";
import { LiveWidget, element } from "./widget.js";

export class MorphWidget extends LiveWidget {
  constructor(root) {
    super();
    this.picture = digitCanvas("The digit decoded at this point of the path");
    this.slider = element("input", { type: "range", class: "live-only", min: 0, max: 1, step: 0.01, "aria-label": "t, from digit A (0) to digit B (1)" });
    this.label = element("output");
    root.append(element("section", { class: "morph" },
      element("label", { class: "caption live-only", text: "t: from A (0) to B (1)" }), this.slider, this.label, this.picture, this.status));
    this.slider.addEventListener("input", (e) => this.frames.request(e.timeStamp));
    this.slider.addEventListener("change", () => this.send({ t: Number(this.slider.value) }));
  }

  update(args) {
    this.args = args;
    if (document.activeElement !== this.slider) this.slider.value = args.t;
    this.useModel(args);
    this.frames.request();
  }

  modelReady() {
    this.frames.request();
  }

  code() {
    return METHODS[this.args.method](this.args.za, this.args.zb, Number(this.slider.value));
  }

  async frame() {
    const t = Number(this.slider.value);
    this.label.textContent = `decode at t = ${t.toFixed(2)} (${this.args.method})`;
    const model = this.model;
    if (!model) return false;
    const image = await model.decode(this.code());
    if (model !== this.model) return false;
    paintDigit(this.picture, image);
    countPaint(this.picture);
    return true;
  }
}

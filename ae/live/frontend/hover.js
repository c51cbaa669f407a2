// Explore, 2-d models: the test digits on the code plane, and the digit the decoder makes of the
// point under the cursor (or finger), decoded in the page as it moves. Where the page cannot run
// the model, a click asks the server for the digit of that point (`served`), which this paints.

import { countPaint, digitCanvas, paintDigit } from "./paint.js";
import { LiveWidget, element } from "./widget.js";

const SIDE = 560;

export class HoverWidget extends LiveWidget {
  constructor(root) {
    super();
    this.map = element("canvas", { class: "map", width: SIDE, height: SIDE, role: "img", "aria-label": "Map of the code plane: each dot is a test digit, coloured by its class" });
    this.picture = digitCanvas("The digit decoded at the point under the pointer");
    this.where = element("figcaption", { text: "Move over the map" });
    root.append(element("section", { class: "hover" },
      this.map, element("div", {}, element("figure", {}, this.picture, this.where), this.status)));
    this.point = null;
    const move = (e) => {
      const box = this.map.getBoundingClientRect();
      this.point = [(e.clientX - box.left) / box.width, (e.clientY - box.top) / box.height];
      this.frames.request(e.timeStamp);
    };
    this.map.addEventListener("pointermove", move);
    this.map.addEventListener("pointerdown", (e) => {
      move(e);
      if (this.runtime === "failed") this.send({ point: this.code(this.point) });
    });
  }

  update(args) {
    this.args = args;
    this.plot();
    this.useModel(args);
    this.paintServed();
  }

  // The server's digit for the point clicked, where the page does not run the model.
  paintServed() {
    const shown = this.paintServedDigit(this.map.parentElement, this.picture, this.args.served);
    if (shown) this.where.textContent = `decode(${shown.z[0].toFixed(2)}, ${shown.z[1].toFixed(2)}), by the server`;
    else if (this.runtime === "failed" && !this.args.served) this.where.textContent = "Click the map: the server decodes the point";
  }

  modelReady() {
    if (this.point) this.frames.request();
  }

  // Map fractions of the square to code coordinates: x right, y up, as on the plotted map.
  code([fx, fy]) {
    const { lo, hi } = this.args;
    return [lo[0] + fx * (hi[0] - lo[0]), hi[1] - fy * (hi[1] - lo[1])];
  }

  plot() {
    const ctx = this.map.getContext("2d");
    const { lo, hi, points, labels } = this.args;
    ctx.clearRect(0, 0, SIDE, SIDE);
    points.forEach(([x, y], i) => {
      ctx.fillStyle = this.args.palette[labels[i]];
      ctx.globalAlpha = 0.7;
      ctx.fillRect(((x - lo[0]) / (hi[0] - lo[0])) * SIDE - 1.5, ((hi[1] - y) / (hi[1] - lo[1])) * SIDE - 1.5, 3, 3);
    });
    ctx.globalAlpha = 1;
  }

  async frame() {
    const model = this.model;
    if (!model || !this.point) return false;
    const z = this.code(this.point);
    const image = await model.decode(z);
    if (model !== this.model) return false;
    paintDigit(this.picture, image);
    this.where.textContent = `decode(${z[0].toFixed(2)}, ${z[1].toFixed(2)})`;
    countPaint(this.picture);
    return true;
  }
}

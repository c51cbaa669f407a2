// Compare live: up to four models rebuild the same drawing on every frame the main one does,
// side by side with their errors (the Draw page's compare mode). Each model is loaded into the
// page like the main one; one that cannot run says so under its picture.

import { countPaint, digitCanvas, floatsOf, mse, paintDigit } from "./paint.js";
import { loadModel } from "./runtime.js";
import { element } from "./widget.js";

export class CompareStrip {
  constructor(onReady) {
    this.onReady = onReady;
    this.row = element("div", { class: "compare-row" });
    this.title = element("h3", { text: "Compare live" });
    this.element = element("section", { class: "compare", hidden: "" }, this.title, this.row);
    this.entries = [];
    this.key = "";
  }

  // list: [{name, model (the export's spec, or null), latent_dim}] from Python's live.model_args;
  // `load`: false where only the server's reconstructions are shown (an upload).
  update(list, version, load = true) {
    const key = JSON.stringify(list.map((m) => [m.model_name, m.model && m.model.digest]));
    if (key === this.key) return;
    this.key = key;
    this.entries = list.map((m) => {
      const entry = { name: m.model_name, canvas: digitCanvas(`The reconstruction by ${m.model_name}`), caption: element("figcaption", { text: m.model_name }), model: null };
      if (!load) return entry;
      if (!m.model) entry.caption.textContent = `${m.model_name}: cannot run in this page`;
      else loadModel(version, m.model).then(
        (model) => {
          if (!this.entries.includes(entry)) return;
          entry.model = model;
          this.onReady();
        },
        () => entry.served || (entry.caption.textContent = `${m.model_name}: cannot run in this page`),
      );
      return entry;
    });
    this.row.replaceChildren(...this.entries.map((e) => element("figure", {}, e.canvas, e.caption)));
    this.element.hidden = !this.entries.length;
  }

  // Every loaded model on the same 28x28 input (null: a blank canvas); the drawn model's own
  // reconstruction (`shown`: {digest, output}) is not computed twice.
  async paint(x, shown = null) {
    for (const entry of this.entries) {
      const model = entry.model;
      if (!model) continue;
      if (!x) {
        paintDigit(entry.canvas, null);
        entry.caption.textContent = entry.name;
        continue;
      }
      this.title.textContent = "Compare live";
      const output = shown && model.spec.digest === shown.digest ? shown.output : await model.decode(await model.encode(x));
      if (model !== entry.model) continue;
      this.paintOne(entry, x, output);
    }
  }

  // Where the page cannot run the models: the server's reconstructions ([{name, output}], base64).
  paintServed(x, outputs) {
    this.title.textContent = "Compare";
    for (const entry of this.entries) {
      const given = outputs.find((o) => o.name === entry.name);
      if (!given) continue;
      entry.served = true;
      this.paintOne(entry, x, floatsOf(given.output));
    }
  }

  paintOne(entry, x, output) {
    paintDigit(entry.canvas, output);
    entry.caption.textContent = `${entry.name} · MSE ${mse(x, output).toFixed(4)}`;
    countPaint(entry.canvas);
  }
}

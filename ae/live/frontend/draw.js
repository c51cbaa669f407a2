// Draw: a canvas for the mouse, a pen or a finger, and beside it (above it on a phone) the 28x28
// input, the reconstruction, the error map, the figures and the code, redrawn on every animation
// frame that has new ink. The server hears of the drawing only when a stroke ends. In a class, a
// stroke the page's model ran on is posted to the room itself (ae/web.py's /ae/room/<code>/draw),
// with no Streamlit rerun where the page shows nothing of it (`post.quiet`).
// Where the page cannot run the model, and for an upload (no canvas: `canvas` false), the server
// sends what it computed (`served`: the input, the reconstruction, the code, the meter's shares
// and words) and the same code paints it: one painter for each picture, whoever computed it.

import { CompareStrip } from "./compare.js";
import { CodeEditor } from "./edit.js";
import { channelOf } from "./follow.js";
import { codeNetwork, meterCaption, shareBetter, verdict } from "./meter.js";
import { countPaint, digitCanvas, floatsOf, mse, paintBars, paintDigit, paintError, paintMeter, psnr } from "./paint.js";
import { Pen } from "./pen.js";
import { toMnist } from "./preprocess.js";
import { loadMeter } from "./runtime.js";
import { LiveWidget, element } from "./widget.js";

const SIZE = 280; // the canvas's own pixels, whatever its size on screen
const HERE = new URL("./", import.meta.url);

export class DrawWidget extends LiveWidget {
  constructor(root) {
    super();
    this.ink = element("canvas", { class: "ink", width: SIZE, height: SIZE, role: "img", "aria-label": "Drawing area: draw one digit here" });
    this.ctx = this.ink.getContext("2d", { willReadFrequently: true });
    this.brush = element("input", { type: "range", min: 8, max: 40, value: 20, "aria-label": "Brush size" });
    const clear = element("button", { type: "button", text: "Clear" });
    const figure = (canvas, caption) => element("figure", {}, canvas, caption);
    this.pictures = {
      input: digitCanvas("The model's input: your drawing at 28 by 28 pixels"),
      output: digitCanvas("The model's reconstruction of your drawing"),
      error: digitCanvas("Error map: orange where the reconstruction adds ink, blue where it misses ink"),
    };
    this.outputCaption = element("figcaption", { text: "Rebuilt" });
    this.stats = {};
    const stat = (label, tip) => {
      this.stats[label] = element("div", { "data-stat": label, text: "–" });
      return element("div", { title: tip }, element("div", { text: label }), this.stats[label]);
    };
    this.bars = element("canvas", { class: "bars", width: 600, height: 140, role: "img", "aria-label": "The code as a bar chart" });
    this.barsCaption = element("figcaption", { text: "The code" });
    const meter = (label) => element("canvas", { class: "meter", width: 600, height: 56, role: "img", "aria-label": label });
    this.meters = {
      error: meter("A histogram of the test digits' reconstruction errors, and your drawing's"),
      code: meter(""), // its words come with the meter's numbers (ae/meter.py's WORDS, code_alt)
    };
    this.meterCaptions = { error: element("figcaption"), code: element("figcaption") };
    this.verdict = element("p", { class: "verdict", "aria-live": "polite" });
    this.codeMeter = element("div", {}, this.meters.code, this.meterCaptions.code);
    this.novelty = element("figure", { class: "novelty" },
      element("figcaption", { class: "title", text: "Is this a digit?" }), this.verdict, this.meters.error, this.meterCaptions.error, this.codeMeter);
    this.novelty.hidden = true; // until the model and its meter are loaded
    this.stopped = element("div", { class: "stopped", role: "alert" }); // pens down: over the canvas, which takes no ink
    this.stopped.hidden = true;
    this.picked = element("p", { class: "picked", role: "status" });
    this.sent = element("p", { class: "sent", role: "status" }); // what came of a stroke posted to the class
    this.posting = Promise.resolve(); // one post at a time, in the strokes' order
    this.postedDrawing = null; // the clears counted when a stroke was last stored: a new count begins a drawing
    this.editor = new CodeEditor(this);
    this.compare = new CompareStrip(() => this.frames.request());
    this.section = element("section", { class: "draw" },
      element("div", { class: "figures" },
        figure(this.pictures.input, element("figcaption", { text: "Model input, 28×28" })),
        figure(this.pictures.output, this.outputCaption),
        figure(this.pictures.error, element("figcaption", { text: "Error: orange extra ink, blue missing" }))),
      element("div", { class: "pad" }, this.ink, this.stopped, element("div", { class: "tools" }, clear, element("label", {}, "Brush size", this.brush)), this.picked, this.sent),
      element("div", { class: "rest" },
        element("div", { class: "stats" },
          stat("MSE", "Mean squared difference per pixel (0 is perfect)"),
          stat("PSNR", "Higher is better; 20 dB looks close"),
          stat("Code size", "Everything the decoder knows about your digit")),
        this.compare.element,
        element("figure", {}, this.bars, this.barsCaption),
        this.novelty,
        this.status,
        this.editor.element));
    root.append(this.section);
    this.given = null; // the server's pictures of the latest drawing, where it computes them
    this.strokes = 0;
    this.cleared = 0; // a class's drawing is the strokes between two clears: the server keeps each one drawn
    this.input = null;
    this.code = null;
    this.output = null;
    this.blank();
    this.listen(clear);
  }

  update(args) {
    this.args = args;
    this.canvasless = args.canvas === false; // an upload: the server's pictures of it, nothing run here
    this.section.classList.toggle("upload", this.canvasless);
    this.outputCaption.textContent = `Rebuilt by ${args.model_name}`;
    this.stats["Code size"].textContent = `${args.latent_dim} numbers`;
    this.compare.update(args.compare || [], args.version, !this.canvasless);
    this.useMeter(args.model);
    if (!this.canvasless) {
      this.editor.update(args.editor, args.latent_dim);
      this.useModel(args);
      this.joinRoom(args.room);
    }
    this.given = args.served || null;
    this.paintServed();
  }

  // The meter's numbers, for its histograms: the model's own once it runs here; fetched alone for
  // the server's pictures (without them these show the server's words and no histogram).
  useMeter(spec) {
    const digest = spec ? spec.digest : null;
    if (this.meterOf === digest) return;
    this.meterOf = digest;
    this.reference = null;
    loadMeter(spec).then((reference) => {
      if (this.meterOf !== digest || this.model) return;
      this.reference = reference;
      this.painted = null; // painted again, with the histograms
      this.paintServed();
    });
  }

  // What the server computed for the latest drawing, painted where the page does not run the model.
  paintServed() {
    const serving = this.canvasless || this.runtime === "failed";
    const given = serving ? this.given : null;
    this.section.classList.toggle("served", Boolean(given));
    const key = given && [given.input, given.output, JSON.stringify(given.meter), ...(given.compare || []).map((c) => c.name + c.output)].join();
    if (key === this.painted) return; // a rerun that changed nothing of it
    this.painted = key;
    if (!given) return;
    const x = floatsOf(given.input);
    paintDigit(this.pictures.input, x);
    this.paint(floatsOf(given.code), floatsOf(given.output), x, given.meter ?? null);
    this.compare.paintServed(x, given.compare || []);
    this.servedPaints += 1;
    this.servedAt = performance.now(); // the bench reads it
  }

  // In a class: the teacher's pens down stops this canvas the moment the page hears of it (from
  // the page's Follow widget) and lifts with it; a pick of one of this student's drawings is said.
  joinRoom(room) {
    if (!room) return;
    this.me = room.me; // this student's pick tag (ae/rooms' pick_tag)
    this.post = room.post; // the student, their pass, the nickname, and whether a post needs a rerun too
    this.words = room.words;
    if (this.room !== room.code) {
      this.room = room.code;
      this.roomState = { pens_down: room.pens_down, picked: [] }; // until the Follow widget tells the room's state
      this.channel?.close();
      this.channel = channelOf(room.code);
      this.channel.onmessage = (event) => {
        if (!event.data || typeof event.data !== "object") return;
        this.roomState = event.data;
        this.heardRoom();
      };
      this.channel.postMessage("hello");
    }
    this.heardRoom();
  }

  heardRoom() {
    const down = Boolean(this.roomState.pens_down);
    this.pen.enabled = !down;
    this.stopped.hidden = !down;
    this.stopped.textContent = down ? this.words.pens_down : "";
    const picked = Boolean(this.me) && (this.roomState.picked || []).includes(this.me);
    this.picked.textContent = picked ? this.words.picked : "";
  }

  modelReady() {
    const reference = this.model.meter; // what a drawing is placed among (ae/novelty.py's for_the_page)
    this.reference = reference;
    this.network = reference && reference.network ? (this.model.network ??= codeNetwork(reference.network)) : null;
    this.novelty.hidden = !reference;
    this.codeMeter.hidden = !this.network;
    this.meters.error.hidden = this.meters.code.hidden = false; // the server's pictures may have hidden them
    if (reference) this.meters.code.setAttribute("aria-label", reference.words.code_alt);
    this.frames.request();
  }

  blank() {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, SIZE, SIZE);
  }

  listen(clear) {
    let last = null;
    const line = (from, to) => {
      const ctx = this.ctx;
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = Number(this.brush.value);
      ctx.lineCap = ctx.lineJoin = "round";
      ctx.beginPath();
      ctx.moveTo(...from);
      ctx.lineTo(...to);
      ctx.stroke();
    };
    this.pen = new Pen(this.ink, SIZE, {
      down: (point, time) => {
        last = point;
        line(point, point); // a dot
        this.frames.request(time);
      },
      move: (points, since) => {
        for (const point of points) {
          line(last, point);
          last = point;
        }
        this.frames.request(since); // the oldest position starts the latency clock
      },
      up: (time) => {
        this.frames.request(time);
        this.strokes += 1;
        const strokes = this.strokes;
        // Once the last ink is painted, the server hears of the stroke: the canvas as a PNG, the
        // 28x28 input (preprocessing runs in the page even where the model cannot) and, where the
        // page ran the model, the code and the meter's shares it found for that ink (the server
        // checks them, and reads the PNG itself where the input is missing).
        this.frames.afterPainting(() => {
          if (strokes !== this.strokes) return; // a newer stroke sends its own
          const ran = this.model && this.code && this.input;
          const value = {
            png: this.ink.toDataURL("image/png"), strokes, drawing: this.cleared,
            input: this.input ? btoa(String.fromCharCode(...this.input.map((v) => Math.round(Math.min(Math.max(v, 0), 1) * 255)))) : null,
            code: ran ? Array.from(this.code) : null, shares: ran && this.shares ? this.shares : null,
          };
          if (ran && this.shares && this.room && this.post) this.postStroke(value);
          else this.send(value);
        });
      },
    });
    clear.addEventListener("click", () => {
      this.blank();
      this.strokes += 1;
      this.cleared += 1;
      this.frames.request();
      this.sent.textContent = "";
      if (this.room && this.post && this.post.quiet && this.postedDrawing !== null) return; // the server shows nothing of it
      this.send({ png: null, strokes: this.strokes, drawing: this.cleared, input: null, code: null, shares: null });
    });
  }

  // A class's stroke to the room, after the one before it: stored, refused (the store's sentence,
  // shown), or, where the route cannot take it (an old pass, a server away), sent the usual way.
  postStroke(value) {
    const { token, pass, nickname, quiet } = this.post;
    const room = this.room;
    this.posting = this.posting.then(async () => {
      if (value.strokes !== this.strokes) return; // a newer stroke carries all of this one's ink
      let said;
      try {
        const fresh = this.postedDrawing !== value.drawing;
        const body = JSON.stringify({ token, pass, nickname, fresh, input: value.input, code: value.code, shares: value.shares });
        const response = await fetch(new URL(`../../ae/room/${room}/draw`, HERE), {
          method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body });
        if (response.status === 409) said = await response.text();
        else if (!response.ok) throw new Error(`the class answered ${response.status}`);
        else {
          said = "ok";
          this.postedDrawing = value.drawing;
        }
      } catch {
        this.send(value);
        return;
      }
      this.sent.textContent = said === "ok" ? this.words.sent : said;
      this.posted = (this.posted || 0) + 1; // the tests read it
      if (!quiet) this.send({ ...value, posted: said });
    });
  }

  // The latest ink through preprocessing, the encoder and the decoder, painted; a model switched
  // while it ran is not painted (the next frame runs the new one).
  async frame() {
    this.input = null; // not a stale one, should preprocessing throw: the server reads the PNG then
    const x = toMnist(this.ctx.getImageData(0, 0, SIZE, SIZE).data, SIZE, SIZE);
    this.input = x;
    paintDigit(this.pictures.input, x);
    if (!x) {
      this.show(null, null);
      await this.compare.paint(null);
    }
    const model = this.model;
    if (!x || !model) return false;
    const code = await model.encode(x);
    const output = await model.decode(code);
    if (model !== this.model) return false;
    this.show(code, output);
    this.editor.start(code);
    await this.compare.paint(x, { digest: model.spec.digest, output });
    return true;
  }
  show(code, output) {
    this.code = code;
    this.output = output;
    this.paint(code, output, this.input);
  }

  // The reconstruction of `x`, its error, figures, code and meter; `placed`: the server's shares and
  // words for them (null: its model has no meter), else this page's, where it runs the model.
  paint(code, output, x, placed = undefined) {
    paintDigit(this.pictures.output, output);
    paintError(this.pictures.error, x, output);
    paintBars(this.bars, code);
    this.stats.MSE.textContent = output ? mse(x, output).toFixed(5) : "–";
    this.stats.PSNR.textContent = output ? `${psnr(x, output).toFixed(1)} dB` : "–";
    let top = 0;
    for (const v of code || []) top = Math.max(top, Math.abs(v));
    this.barsCaption.textContent = code ? `The code: ${code.length} numbers, scaled to the largest (±${top.toFixed(2)})` : "The code";
    if (placed !== undefined) this.placedByServer(placed, output ? mse(x, output) : null);
    else if (this.reference) this.placeAmongDigits(code, output ? mse(x, output) : null);
    countPaint(this.pictures.output);
  }

  // Is this a digit? The error, and how unsure the code's network is, placed among the test digits' own.
  placeAmongDigits(code, error) {
    const words = this.reference.words;
    const unsure = this.network && code ? this.network.unsure(code) : null;
    paintMeter(this.meters.error, this.reference.error_quantiles, error, words.floor);
    if (this.network) paintMeter(this.meters.code, this.network.quantiles, unsure, words.floor);
    this.shares = error == null ? null : [shareBetter(this.reference.error_quantiles, error), unsure == null ? null : shareBetter(this.network.quantiles, unsure)];
    const [byError, byCode] = this.shares || [null, null];
    this.meterCaptions.error.textContent = meterCaption(words, words.error_score, byError);
    this.meterCaptions.code.textContent = meterCaption(words, words.code_score, byCode);
    this.verdict.textContent = this.shares ? verdict(words, ...this.shares) : words.empty;
  }

  // The server's placing (ae/live's server_computed): its words; the histograms where their numbers loaded.
  placedByServer(placed, error) {
    this.novelty.hidden = !placed;
    if (!placed) return;
    const reference = this.reference;
    const codeQuantiles = reference && reference.network ? reference.network.unsure_quantiles : null;
    this.codeMeter.hidden = placed.shares[1] == null;
    this.meters.error.hidden = !reference;
    this.meters.code.hidden = !codeQuantiles;
    if (reference) paintMeter(this.meters.error, reference.error_quantiles, error, reference.words.floor);
    if (codeQuantiles) {
      paintMeter(this.meters.code, codeQuantiles, placed.unsure, reference.words.floor);
      this.meters.code.setAttribute("aria-label", reference.words.code_alt);
    }
    [this.meterCaptions.error.textContent, this.meterCaptions.code.textContent] = placed.captions;
    this.verdict.textContent = placed.verdict;
  }
}

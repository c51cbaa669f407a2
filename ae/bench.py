"""The performance benchmark: our training loop against the tutorials' one, inference latency,
preprocessing, the app's cold start and the Draw page's stroke-to-picture latency in a browser.

    python -m ae.bench                 # everything (about 20 minutes on 2 cores)
    python -m ae.bench --quick         # a reduced run, under a minute
    python -m ae.bench --only latency --strokes 20 --json bench.json

The machine is noisy: training is measured in interleaved rounds (ours, theirs, ours, ...) and the
table reports medians; ratios come from figures taken side by side in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from ae import appserver, checkpoints, data, latent, models, preprocess
from ae.train import BatchEnd, TrainConfig, keep_freed_memory, train

WARMUP_BATCHES = 5


OUR_BATCH = 256  # the dense recipe's batch; the tutorials use 64


def ours_img_s(name: str, images: int, data_dir=None) -> float:
    """Images per second of `ae.train.train` on the first `images` training digits, batch 256."""
    cfg = TrainConfig(model=name, epochs=1, limit=images, val_limit=2, test_metrics=False, data_dir=data_dir, batch_size=OUR_BATCH)
    marks = [(ev.batch, ev.seconds) for ev in train(cfg) if isinstance(ev, BatchEnd)]
    (b0, t0), (b1, t1) = marks[WARMUP_BATCHES - 1], marks[-1]
    return (b1 - b0) * cfg.batch_size / (t1 - t0)


def _tutorial_steps(name: str, batches) -> float:
    """Images per second of the tutorials' step over `batches` after warm-up: Adam, MSE, fp32, NCHW."""
    model = models.build(name).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3) if models.count_parameters(model) else None
    start, seen = None, 0
    for i, x in enumerate(batches):
        if i == WARMUP_BATCHES:
            start, seen = time.perf_counter(), 0
        out, extra = model.training_output(x)
        loss = F.mse_loss(out, x) + (extra if extra is not None else 0)
        if opt is not None:
            opt.zero_grad()
            loss.backward()
            opt.step()
        seen += len(x)
    return seen / (time.perf_counter() - start)


def tutorial_img_s(name: str, images: int, data_dir=None) -> float:
    """The loop the tutorials use: torchvision MNIST + ToTensor through a DataLoader (batch 64,
    shuffle), one image decoded by PIL at a time."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import datasets, transforms

    root = str(data.resolve_data_dir(data_dir))
    ds = Subset(datasets.MNIST(root, train=True, download=False, transform=transforms.ToTensor()), range(images))
    return _tutorial_steps(name, (x for x, _ in DataLoader(ds, batch_size=64, shuffle=True)))


MATH_IMAGES = 3_200  # enough batches for a steady figure; this part is only the model's arithmetic


def tutorial_math_img_s(name: str, images: int, data_dir=None) -> float:
    """The same steps on batches already in memory: the tutorial loop with its data loading free,
    the most that a faster input pipeline alone could give."""
    x = data.to_float(data.load_split("train", data_dir)[0][: min(images, MATH_IMAGES)])
    return _tutorial_steps(name, x[torch.randperm(len(x))].split(64))


def in_fresh_process(measure: str, name: str, images: int, data_dir=None) -> float:
    """`measure(name, images, data_dir)` in a new interpreter, as a user would run either loop:
    nothing carried over from the other (our loop's allocator setting, warm caches)."""
    code = "import json, sys; from ae import bench; print(json.dumps(getattr(bench, sys.argv[1])(*json.loads(sys.argv[2]))))"
    args = [sys.executable, "-c", code, measure, json.dumps([name, images, data_dir])]
    run = subprocess.run(args, cwd=appserver.ROOT, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"{measure}({name}) failed:\n{run.stderr[-2000:]}")
    return float(run.stdout.splitlines()[-1])


def training(names: list[str], images: int, rounds: int, data_dir=None, math: bool = True) -> list[dict]:
    """Ours against the tutorial loop, medians of interleaved rounds; with `math`, also the
    tutorial's arithmetic alone (it explains the ratio: what is left when data loading is free)."""
    rows = []
    for name in names:
        if name == "pca":  # closed form: no training loop to compare
            continue
        measures = ("ours_img_s", "tutorial_img_s") + (("tutorial_math_img_s",) if math else ())
        figures: dict[str, list[float]] = {m: [] for m in measures}
        for _ in range(rounds):  # interleaved, so a slow spell of the machine hits all three
            for measure, values in figures.items():
                values.append(in_fresh_process(measure, name, images, data_dir))
        row = {"model": name, **{k: round(statistics.median(v)) for k, v in figures.items()}}
        row["ratio"] = round(row["ours_img_s"] / row["tutorial_img_s"], 2)
        rows.append(row)
        print(f"train {name:15s} {row}", file=sys.stderr)
    return rows


def inference(names: list[str], repeats: int) -> list[dict]:
    """Single-image latency as the Draw page runs it (numpy in, numpy out, one thread, the model
    prepared by models.for_inference), and batch-256 throughput."""
    rows = []
    digit = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    batch = np.random.default_rng(1).random((256, 28, 28), dtype=np.float32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as ae.ui: many sessions share the cores
    keep_freed_memory()  # as ae.ui
    for name in names:
        model = models.for_inference(models.build(name))
        for _ in range(10):
            latent.reconstruct(model, digit[None])
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            latent.reconstruct(model, digit[None])
            times.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        n = max(3, repeats // 50)
        for _ in range(n):
            latent.reconstruct(model, batch)
        per_s = n * 256 / (time.perf_counter() - t)
        p50, p95 = np.percentile(times, [50, 95])
        rows.append({"model": name, "p50_ms": round(float(p50), 3), "p95_ms": round(float(p95), 3), "batch256_img_s": round(per_s)})
        print(f"infer {name:15s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  batch256 {per_s:8.0f} img/s", file=sys.stderr)
    torch.set_num_threads(threads)
    return rows


def preprocess_ms(repeats: int) -> float:
    """Median time of to_mnist on a 280x280 RGBA canvas image with a drawn digit."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(img).line([(70, 56), (210, 56), (126, 238)], fill=(255, 255, 255, 255), width=22)
    canvas = np.asarray(img)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        preprocess.to_mnist(canvas)
        times.append((time.perf_counter() - t) * 1000)
    ms = statistics.median(times)
    print(f"preprocess 280x280 canvas: {ms:.2f} ms", file=sys.stderr)
    return round(ms, 3)


def app_timings(cold_start: bool, strokes: int) -> dict:
    """One server for both: from `streamlit run app.py` to the first page's title showing in a
    headless browser (the browser is up before the clock starts), then the Draw page's latency."""
    out: dict = {}
    with appserver.browser() as b:
        start = time.perf_counter()
        with appserver.serve() as url:
            if cold_start:
                page = b.new_page()
                page.goto(url)
                page.wait_for_selector("[data-testid='stMain'] h1", timeout=120_000)
                out["cold_start_s"] = round(time.perf_counter() - start, 2)
                page.close()
                print(f"cold start: {out['cold_start_s']:.2f} s", file=sys.stderr)
            if strokes:
                out["latency"] = draw_latency(b, url, strokes)
    return out


LATENCY_JS = """() => {
  // mouse-up -> the rerun it triggers has run -> every picture on the page is loaded. "Has run":
  // the script state was seen changing (from the mutation records: a busy browser may apply
  // running and notRunning in one task, and a stroke over old ink may leave every picture as it
  // was), or the pictures changed. Each mouse-up makes a promise, window.__done, that resolves to
  // that latency: awaiting it is one round trip, where polling from the test cost eight pages
  // twenty calls a second each.
  const app = document.querySelector("[data-testid='stApp']");
  const pictures = () => Array.from(document.querySelectorAll(PICTURES));
  const key = () => pictures().map(e => e.src).join('|');
  let up = null, ran = false, before = '', resolve = null, sent = false, heard = false, quiet = null;
  // A run that changes no picture may not show in the page at all: then the server's answer on the
  // socket is the sign, taken 250 ms after its last message (late rather than early).
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (!this.__probed) {
      this.__probed = true;
      this.addEventListener('message', () => {
        if (resolve === null || !sent) return;
        clearTimeout(quiet);
        quiet = setTimeout(() => { heard = true; check(); }, 250);
      });
    }
    if (resolve !== null) sent = true;
    return send.call(this, data);
  };
  document.addEventListener('mouseup', () => {
    up = performance.now(); ran = false; sent = false; heard = false; before = key();
    window.__done = new Promise(r => { resolve = r; });
  }, true);
  // Checked on every change of the page and every picture that finishes loading, not in a
  // requestAnimationFrame loop: eight pages polling every frame took the CPU the server needs.
  const check = (records = []) => {
    if (resolve === null) return;
    if (heard || records.some(r => r.attributeName === 'data-test-script-state' && r.target === app) || key() !== before) ran = true;
    if (ran && app.getAttribute('data-test-script-state') === 'notRunning'
        && pictures().length >= 2 && pictures().every(img => img.complete && img.naturalWidth > 0)) {
      resolve(performance.now() - up); resolve = null;
    }
  };
  new MutationObserver(check).observe(app, {attributes: true, childList: true, subtree: true});
  document.addEventListener('load', () => check(), true);
}""".replace("PICTURES", json.dumps(appserver.PICTURES))

# The latency of the last stroke in ms; rejects when no reconstruction shows within `ms`.
AWAIT_SHOWN_JS = """ms => Promise.race([window.__done, new Promise((_, no) =>
  setTimeout(() => no(new Error(`no reconstruction within ${ms} ms`)), ms))])"""


def stroke_strokes(n: int):
    """n short strokes at different places, so every one changes the drawing."""
    rng = np.random.default_rng(0)
    for i in range(n):
        x, y = 0.2 + 0.6 * rng.random(), 0.2 + 0.6 * rng.random()
        yield [(x, y), (min(0.9, x + 0.15), min(0.9, y + 0.1 * (1 if i % 2 else -1) + 0.05))]


def draw_latency(b, url: str, strokes: int) -> dict:
    """Mouse-up to the new reconstruction shown (all pictures loaded), on the Draw page, over n strokes."""
    times = []
    page = appserver.open_page(b, url, "draw")
    page.wait_for_selector("canvas.upper-canvas")
    page.evaluate(LATENCY_JS)
    for stroke in stroke_strokes(strokes):
        appserver.draw(page, [stroke])
        times.append(page.evaluate(AWAIT_SHOWN_JS, 15_000))
        appserver.wait_idle(page)
        page.wait_for_timeout(150)
    page.close()
    p50, p95 = np.percentile(times, [50, 95])
    print(f"draw latency over {strokes} strokes: p50 {p50:.0f} ms, p95 {p95:.0f} ms", file=sys.stderr)
    return {"strokes": strokes, "p50_ms": round(float(p50)), "p95_ms": round(float(p95)), "all_ms": [round(t) for t in times]}


PARTS = ("train", "inference", "preprocess", "cold_start", "latency")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer models, images and repeats (under a minute)")
    p.add_argument("--only", nargs="*", choices=PARTS, default=list(PARTS))
    p.add_argument("--models", nargs="*", default=None, help="registry models (default: all)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved training rounds (default 3, quick 1)")
    p.add_argument("--strokes", type=int, default=20)
    p.add_argument("--json", default=None, help="also write the figures here")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    names = args.models or (["dense", "conv_bn_elu"] if args.quick else models.available())
    result: dict = {"machine": checkpoints.machine(), "torch": torch.__version__}
    if "train" in args.only:
        result["train"] = training(names, 2_560 if args.quick else 12_800, args.rounds or (1 if args.quick else 3), args.data_dir, math=not args.quick)
    if "inference" in args.only:
        result["inference"] = inference(names, 100 if args.quick else 500)
    if "preprocess" in args.only:
        result["preprocess_ms"] = preprocess_ms(50 if args.quick else 300)
    if "cold_start" in args.only or "latency" in args.only:
        strokes = (5 if args.quick else args.strokes) if "latency" in args.only else 0
        result.update(app_timings("cold_start" in args.only, strokes))
    print(markdown(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


def markdown(result: dict) -> str:
    out = [f"Measured on {result['machine']} (torch {result['torch']}).", ""]
    if result.get("train"):
        math = all("tutorial_math_img_s" in r for r in result["train"])
        out += ["| model | ours (img/s) | tutorial loop (img/s) | ours / tutorial |" + (" tutorial's math alone (img/s) |" if math else "")]
        out += ["|---|---|---|---|" + ("---|" if math else "")]
        for r in result["train"]:
            out.append(f"| {r['model']} | {r['ours_img_s']:,} | {r['tutorial_img_s']:,} | {r['ratio']:.1f}x |" + (f" {r['tutorial_math_img_s']:,} |" if math else ""))
        out.append("")
    if result.get("inference"):
        out += ["| model | one image p50 (ms) | p95 (ms) | batch of 256 (img/s) |", "|---|---|---|---|"]
        out += [f"| {r['model']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['batch256_img_s']:,} |" for r in result["inference"]]
        out.append("")
    extras = []
    if "preprocess_ms" in result:
        extras.append(f"preprocessing a 280x280 canvas: {result['preprocess_ms']:.2f} ms")
    if "cold_start_s" in result:
        extras.append(f"app cold start to first page: {result['cold_start_s']:.1f} s")
    if "latency" in result:
        lat = result["latency"]
        extras.append(f"Draw page, mouse-up to new reconstruction over {lat['strokes']} strokes: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms")
    out += [f"- {e}" for e in extras]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

"""The performance benchmark: our training loop against the tutorials' one, inference latency,
preprocessing, the app's cold start and the Draw page's stroke-to-picture latency in a browser.

    python -m bench                 # everything (about 20 minutes on 2 cores)
    python -m bench --quick         # a reduced run, a few minutes
    python -m bench --only latency --strokes 20 --json bench.json
    python -m bench --only quality --json docs/bench.json --update   # one part again, the rest kept

The machine is noisy: training is measured in interleaved rounds (ours, theirs, ours, ...) and the
table reports medians; ratios come from figures taken side by side in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

from ae import checkpoints, models
from ae.ui import DEFAULT_MODEL
from bench import classroom, devices, serving
from bench.browser import app_timings
from bench.inference import inference, preprocess_ms
from bench.quality import RACES, race
from bench.training import training
from tests.harness import appserver

TIME_TO_QUALITY_GOAL = 10  # the seed recipe's time over ours
PARTS = ("train", "quality", "inference", "preprocess", "cold_start", "latency", "live", "devices", "class", "lead", "serve")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer models, images and repeats (a few minutes)")
    p.add_argument("--only", nargs="*", choices=PARTS, default=list(PARTS))
    p.add_argument("--models", nargs="*", default=None, help="registry models (default: all)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved training rounds (default 3, quick 1)")
    p.add_argument("--strokes", type=int, default=20)
    p.add_argument("--json", default=None, help="also write the figures here")
    p.add_argument("--update", action="store_true", help="keep the parts of --json's file this run did not measure")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)
    names = args.models or (["dense", "conv_bn_elu"] if args.quick else models.available())
    result: dict = {"machine": checkpoints.machine(), "torch": torch.__version__}
    if "train" in args.only:
        result["train"] = training(
            names, 2_560 if args.quick else 12_800, args.rounds or (1 if args.quick else 3), args.data_dir, math=not args.quick
        )
    if "quality" in args.only:
        result["time_to_quality"] = [race(r, args.data_dir, quick=args.quick) for r in RACES]
    if "inference" in args.only:
        result["inference"] = inference(names, 100 if args.quick else 500)
    if "preprocess" in args.only:
        result["preprocess_ms"] = preprocess_ms(50 if args.quick else 300)
    if {"cold_start", "latency", "live"} & set(args.only):
        strokes = (5 if args.quick else args.strokes) if "latency" in args.only else 0
        shipped = [p.stem for p in checkpoints.checkpoint_files(appserver.ROOT / "checkpoints")]
        live_models = ([DEFAULT_MODEL] if args.quick else shipped) if "live" in args.only else []
        result.update(app_timings("cold_start" in args.only, strokes, live_models, args.data_dir))
    if "devices" in args.only:
        with appserver.serve() as url:
            result["devices"] = devices.devices(url)
    if "class" in args.only:
        result["class"] = classroom.class_bench(args.data_dir, quick=args.quick)
    if "lead" in args.only:
        result["lead"] = classroom.led_class_bench(args.data_dir, quick=args.quick)
    if "serve" in args.only:
        result["serve"] = serving.serving_bench(args.data_dir, quick=args.quick)
    print(markdown(result))
    if args.json:
        if args.update and os.path.exists(args.json):
            with open(args.json) as f:
                kept = json.load(f)
            result = {**kept, **result, "machines": {**machines(kept), **machines(result)}}
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 0


def machines(result: dict) -> dict[str, str]:
    """The machine that measured each part of a result: a run's own, or each one's where --update
    kept parts of an earlier run."""
    kept = result.get("machines") or {}
    return {k: kept.get(k, result["machine"]) for k in result if k not in ("machine", "torch", "machines")}


def measured_on(result: dict) -> str:
    """Where the parts of a result were measured: the machine of most of them, and any other."""
    where = machines(result)
    most = max(set(where.values()), key=list(where.values()).count) if where else result["machine"]
    others: dict[str, list[str]] = {}
    for part, machine in where.items():
        if machine != most:
            others.setdefault(machine, []).append(part)
    return f"Measured on {most} (torch {result['torch']})" + "".join(f"; {', '.join(p)} on {m}" for m, p in others.items()) + "."


def markdown(result: dict) -> str:
    out = [measured_on(result), ""]
    if result.get("train"):
        math = all("tutorial_math_img_s" in r for r in result["train"])
        out += ["| model | ours (img/s) | tutorial loop (img/s) | ours / tutorial |" + (" tutorial's math alone (img/s) |" if math else "")]
        out += ["|---|---|---|---|" + ("---|" if math else "")]
        for r in result["train"]:
            out.append(
                f"| {r['model']} | {r['ours_img_s']:,} | {r['tutorial_img_s']:,} | {r['ratio']:.1f}x |"
                + (f" {r['tutorial_math_img_s']:,} |" if math else "")
            )
        out.append("")
    if result.get("inference"):
        out += ["| model | one image p50 (ms) | p95 (ms) | batch of 256 (img/s) |", "|---|---|---|---|"]
        out += [f"| {r['model']} | {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['batch256_img_s']:,} |" for r in result["inference"]]
        out.append("")
    if result.get("time_to_quality"):
        out += [
            "| model | target test loss | ours (s) | ours (epochs) | seed recipe (s) | seed recipe / ours |",
            "|---|---|---|---|---|---|",
        ]
        for r in result["time_to_quality"]:
            reached = f"{r['ours_s']:,.0f} | {r['ours_epochs']}" if r["ours_s"] else "not reached | –"
            ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "–"
            out.append(
                f"| {r['model']}{' (quick: a subset, a looser target)' if r['quick'] else ''} | {r['loss'].upper()} {r['target']} | {reached} | {r['seed_recipe_s']:,.0f} | {ratio} |"
            )
        out.append("")
        met = [r["model"] for r in result["time_to_quality"] if (r["ratio"] or 0) >= TIME_TO_QUALITY_GOAL]
        missed = [r["model"] for r in result["time_to_quality"] if r["model"] not in met]
        verdicts = [f"met by {', '.join(met)}"] * bool(met) + [f"not met by {', '.join(missed)}"] * bool(missed)
        out += [f"Goal {TIME_TO_QUALITY_GOAL}x: {'; '.join(verdicts)}.", ""]
    extras = []
    if "preprocess_ms" in result:
        extras.append(f"preprocessing a 280x280 canvas: {result['preprocess_ms']:.2f} ms")
    if "cold_start_s" in result:
        extras.append(f"app cold start to first page: {result['cold_start_s']:.1f} s")
    if "latency" in result:
        lat = result["latency"]
        extras.append(
            f"Draw page without the live runtime, pointer-up to the server's reconstruction over {lat['strokes']} strokes: p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms"
        )
    if "live_page_mb" in result:
        extras.append(
            f"the live path downloads {result['live_page_mb']:.2f} MB on a first visit (runtime and default model), {result['live_reload_mb']:.2f} MB on a reload"
        )
    out += [f"- {e}" for e in extras]
    if result.get("live"):
        out += [
            "",
            "| model | pointer to painted reconstruction, p50 (ms) | p95 (ms) | frames | page vs torch, max abs diff |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {r['model']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['frames']} | {r['max_abs_diff']:.1e} |" for r in result["live"]
        ]
    if result.get("live_compare"):
        c = result["live_compare"]
        out += [
            "",
            f"- compare mode, {', '.join(c['models'])} rebuilding the same stroke: pointer to all four painted, p50 {c['p50_ms']:.1f} ms, "
            f"p95 {c['p95_ms']:.1f} ms over {c['frames']} frames (goal p95 <= 33 ms: {'met' if c['p95_ms'] <= 33 else 'not met'})",
        ]
    if result.get("devices"):
        out += ["", *devices.markdown(result["devices"])]
    if result.get("class"):
        out += ["", *classroom.markdown(result["class"])]
    if result.get("lead"):
        out += ["", *classroom.led_markdown(result["lead"])]
    if result.get("serve"):
        out += ["", *serving.markdown(result["serve"])]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

"""Is this a digit? An autoencoder rebuilds what looks like its training data and fails on the rest,
and it puts what it knows near the codes of what it has seen. Two scores, each placed among the
10,000 test digits' own:

- the reconstruction error;
- how unsure a small network that reads the code is of every digit (1 - its largest probability):
  taught the ten classes on the training digits' codes, and to be unsure of random pen strokes.

The meter on the Draw page shows both; the larger share speaks. This module measures what it
needs, once per model, with torch; the meter itself (numpy) is ae/meter.py.

    metrics.update(measure(model, test_images))   # once per model: stored in its checkpoint

    python -m ae.novelty [checkpoints...]         # the README's table: each score's ROC AUC

The table scores 200 test digits against 200 things that are not digits (ae.non_digits).
"""

from __future__ import annotations

import argparse
import base64
import math
import sys
from pathlib import Path

import numpy as np
import torch

from ae import checkpoints, data, evaluate, latent, models, non_digits
from ae.meter import LINE, CodeNetwork, Meter

SCORED = 200
QUANTILES = 1001  # each score at every 0.1% of the test digits, stored in each checkpoint's metrics
DIRECTIONS = 64  # the network reads the code along at most its 64 main directions (a code of 1,568 numbers too)
RIDGE = 1e-3  # of the mean variance, added to the classes' spread: a dead code number stays finite
HIDDEN = (96, 96, 96)  # the network's layers between the code's directions and the ten digits
OUTLIERS = 0.5  # random pen figures it is taught to be unsure of (ae.non_digits.random_figures), per digit
PASSES, FEWEST_STEPS, BATCH, OUTLIER_WEIGHT = 20, 1500, 128, 0.5  # 48,000 training digits: 7,500 steps
FEWEST = 1000  # training digits the network learns from, even for a model trained on fewer (every class in them)


def _rounded(a, digits: int = 6) -> np.ndarray:
    """Rounded to so many significant digits, as stored (the page computes with the same numbers)."""
    a = np.asarray(a, np.float64)
    return np.array([float(f"{v:.{digits}g}") for v in a.ravel()]).reshape(a.shape)


def quantiles_of(values: np.ndarray) -> list[float]:
    """The values at 0%, 0.1%, ..., 100% of them."""
    return _rounded(np.quantile(values, np.linspace(0, 1, QUANTILES))).tolist()


@torch.inference_mode()
def errors_and_codes(model: models.Autoencoder, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-image MSE of the reconstructions of (N, 28, 28) images in [0, 1], and their codes (float64),
    from one pass of the encoder: a model's output is decode(encode(x)), and in evaluate.reconstructions'
    batches of 100 these are its numbers to the bit."""
    x = torch.as_tensor(np.asarray(images, np.float32))[:, None].to(models.device_of(model))
    model.eval()
    errs, zs = [], []
    for chunk in x.split(100):
        z = model.encode(chunk)
        errs.append(evaluate.per_image_mse(model.decode(z).float(), chunk))
        zs.append(z.float())
    return torch.cat(errs).cpu().numpy(), torch.cat(zs).cpu().numpy().astype(np.float64)


def codes(model: models.Autoencoder, images: np.ndarray) -> np.ndarray:
    """latent.encode a hundred images at a time (a conv model's activations stay in cache, as in
    evaluate.reconstructions), in float64."""
    parts = np.array_split(images, max(1, len(images) // 100))
    return np.concatenate([latent.encode(model, part) for part in parts]).astype(np.float64)


def directions(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A matrix A whose rows are the codes' DIRECTIONS main directions (all of them in a code of up to
    DIRECTIONS numbers), scaled so that the digit classes' shared spread is one along each: what the
    network reads is A z, the same size for every model."""
    means = np.stack([z[labels == c].mean(0) for c in range(10)])
    _, eigenvectors = np.linalg.eigh(np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]))
    main = eigenvectors[:, ::-1][:, :DIRECTIONS]  # (code numbers, directions), largest spread first
    spread = np.cov((z - means[labels]) @ main, rowvar=False).reshape(main.shape[1], main.shape[1])
    ridge = RIDGE * max(np.trace(spread) / len(spread), 1e-12)
    return np.linalg.inv(np.linalg.cholesky(spread + ridge * np.eye(len(spread)))) @ main.T


def _outliers(n: int) -> np.ndarray:
    return non_digits.kept_random_figures(n)


def _halves(a: np.ndarray) -> str:
    return base64.b64encode(np.asarray(a, "<f2").tobytes()).decode()


def _floats(a: np.ndarray) -> str:
    return base64.b64encode(np.asarray(a, "<f4").tobytes()).decode()


def train_network(inputs: np.ndarray, labels: np.ndarray, outliers: np.ndarray, seed: int = 0) -> list[dict]:
    """The code's network, as stored: cross-entropy on the digits' inputs (A z) and their labels,
    plus, on the outliers', cross-entropy to all ten digits at once (Hendrycks et al.'s outlier
    exposure). The inputs' standardising is folded into the first layer; weights in float16, biases
    in float32 (base64, little-endian), each with its shape (out, in)."""
    x, o = (torch.as_tensor(a, dtype=torch.float32) for a in (inputs, outliers))
    y = torch.as_tensor(labels, dtype=torch.long)
    mean, std = x.mean(0), x.std(0)
    std = std.clamp_min(1e-3 * float(std.max()))  # a direction with no spread stays finite
    sizes = [x.shape[1], *HIDDEN, 10]
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        layers = [torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])]
        net = torch.nn.Sequential(*[m for layer in layers[:-1] for m in (layer, torch.nn.ReLU())], layers[-1])
        opt = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
        per_batch = max(1, BATCH * len(o) // len(x))
        steps, wanted = 0, max(FEWEST_STEPS, PASSES * math.ceil(len(x) / BATCH))
        while steps < wanted:  # more passes over fewer digits
            for idx in torch.randperm(len(x)).split(BATCH)[: wanted - steps]:
                others = net((o[torch.randint(len(o), (per_batch,))] - mean) / std)
                loss = torch.nn.functional.cross_entropy(net((x[idx] - mean) / std), y[idx]) - OUTLIER_WEIGHT * others.log_softmax(1).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                steps += 1
    with torch.no_grad():
        weights = [layer.weight.double() for layer in layers]
        biases = [layer.bias.double() for layer in layers]
        biases[0] = biases[0] - weights[0] @ (mean / std).double()
        weights[0] = weights[0] / std.double()
    return [{"shape": list(w.shape), "weight": _halves(w.numpy()), "bias": _floats(b.numpy())} for w, b in zip(weights, biases)]


def measure(model: models.Autoencoder, test_images: np.ndarray, test_errors: np.ndarray | None = None, data_dir=None, limit=None) -> dict:
    """What the meter places a drawing among, for a checkpoint's metrics: the test digits' errors
    (`test_errors` where the caller has them) at every 0.1%, the code's network (trained on the
    codes of the training digits the model learned from, its first `limit` but at least FEWEST, and
    of half as many random pen figures) and how unsure it is of the test digits, at every 0.1%."""
    stored = learn_network(model, data_dir, limit)
    if test_errors is None:
        test_errors, test_codes = errors_and_codes(model, test_images)
    else:
        test_codes = codes(model, test_images)
    return {
        "test_error_quantiles": quantiles_of(test_errors),
        "test_code_network": {**stored, "unsure_quantiles": quantiles_of(CodeNetwork.of(stored).unsure(test_codes))},
    }


def learn_network(model: models.Autoencoder, data_dir=None, limit=None) -> dict:
    """The code's directions and network, as stored (measure)."""
    train_x, train_y = data.load_split("train", data_dir)
    limit = None if limit is None else max(limit, FEWEST)
    z, labels = codes(model, data.to_float(train_x[:limit])[:, 0].numpy()), train_y[:limit].numpy()
    a = _rounded(directions(z, labels), 4)  # 4 digits: a percentile needs no more
    outliers = codes(model, _outliers(max(1, round(OUTLIERS * len(z))))) @ a.T
    return {"directions": a.tolist(), "layers": train_network(z @ a.T, labels, outliers)}


def roc_auc(digit_scores: np.ndarray, other_scores: np.ndarray) -> float:
    """The chance that a non-digit scores higher than a digit (ties count half): the ROC AUC."""
    higher = (other_scores[:, None] > digit_scores[None, :]).mean()
    ties = (other_scores[:, None] == digit_scores[None, :]).mean()
    return float(higher + ties / 2)


COMBINATIONS = {
    "the larger share": lambda e, c: np.maximum(e, c),
    # both p-values at once (Fisher's): -log p_error - log p_code, p = 1 - share
    "both shares at once": lambda e, c: -np.log(np.clip(1 - e, 1e-4, 1)) - np.log(np.clip(1 - c, 1e-4, 1)),
}


def _scored(model: models.Autoencoder, meter: Meter, images: np.ndarray) -> dict[str, np.ndarray]:
    error, z = errors_and_codes(model, images)
    by_error, by_code = meter.shares(error, z)
    out = {"error": error, "code": meter.unsure(z), "shares": (np.asarray(by_error), np.asarray(by_code))}
    out["meter"] = COMBINATIONS["the larger share"](*out["shares"])
    return out


def aucs_of(model: models.Autoencoder, meter: Meter, data_dir=None) -> dict[str, float]:
    """ROC AUC of the error, of how unsure the code's network is, and of the meter (the larger of
    the two shares), on 200 test digits against 200 non-digits (letters set in a font, scribbles,
    shapes); the meter's AUC on 200 pen-drawn non-digits against 200 pen-drawn digits; and at the
    meter's line (ae.novelty.LINE), the share of pen-drawn non-digits it calls unusual, of pen-drawn
    digits, and of all 10,000 test digits (the line's bound: at most 5%)."""
    test = data.digits("test", data_dir=data_dir)
    digits, others = _scored(model, meter, test[:SCORED]), _scored(model, meter, non_digits.non_digits(SCORED))
    pen_digits, pen_others = _scored(model, meter, non_digits.pen_digits(SCORED)), _scored(model, meter, non_digits.pen_non_digits(SCORED))
    alarms = _scored(model, meter, test)
    out = {k: roc_auc(digits[k], others[k]) for k in ("error", "code", "meter")}
    out["pen_meter"] = roc_auc(pen_digits["meter"], pen_others["meter"])
    out["pen_caught"] = float((pen_others["meter"] >= LINE).mean())
    out["pen_alarms"] = float((pen_digits["meter"] >= LINE).mean())
    out["test_alarms"] = float((alarms["meter"] >= LINE).mean())
    for name, combine in COMBINATIONS.items():  # what each way of combining the two shares costs
        line = np.quantile(combine(*alarms["shares"]), 0.95)  # 5% of the test digits above it
        out[name] = {
            "pen_auc": roc_auc(combine(*pen_digits["shares"]), combine(*pen_others["shares"])),
            "pen_caught_at_5pct": float((combine(*pen_others["shares"]) >= line).mean()),
        }
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ae.novelty", description="Each model's ROC AUC at telling digits from non-digits.")
    p.add_argument("paths", nargs="*", help="checkpoint files (default: every one in $AE_CHECKPOINT_DIR or checkpoints/)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--combinations", action="store_true", help="also compare ways of combining the two shares, on the pen-drawn sets")
    args = p.parse_args(argv)
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    print(
        f"ROC AUC, {SCORED} test digits against {SCORED} letters set in a font, scribbles and shapes; then {SCORED} pen-drawn "
        f"digits against {SCORED} pen-drawn letters and shapes; and at the meter's line (a share of {LINE}), the pen-drawn "
        f"non-digits and digits it calls unusual, and the 10,000 test digits:\n\n"
        "| model | by its error | by how unsure its code's network is | the meter: the larger share | pen-drawn: the meter "
        "| pen-drawn non-digits called unusual | pen-drawn digits called unusual | test digits called unusual |\n|---|---|---|---|---|---|---|---|"
    )
    found = {}
    for path in paths:
        model, meta = checkpoints.load(path)
        meter = Meter.of(meta)
        if meter is None or meter.network is None:  # saved before the meter had its network: measure it now
            test = data.digits("test", data_dir=args.data_dir)
            meter = Meter.of(checkpoints.Meta(metrics=measure(model, test, data_dir=args.data_dir)))
        auc = found[Path(path).stem] = aucs_of(model, meter, args.data_dir)
        print(
            f"| {Path(path).stem} | {auc['error']:.3f} | {auc['code']:.3f} | {auc['meter']:.3f} | {auc['pen_meter']:.3f} | "
            f"{auc['pen_caught']:.0%} | {auc['pen_alarms']:.0%} | {auc['test_alarms']:.1%} |"
        )
    if args.combinations:
        print(
            "\nPen-drawn, two ways of combining the shares: ROC AUC, and the pen-drawn non-digits called unusual at the line "
            "that 5% of the 10,000 test digits pass\n\n| model | "
            + " | ".join(f"{n}: AUC | {n}: called" for n in COMBINATIONS)
            + " |\n|---|"
            + "---|---|" * len(COMBINATIONS)
        )
        for name, auc in found.items():
            print(f"| {name} | " + " | ".join(f"{auc[n]['pen_auc']:.3f} | {auc[n]['pen_caught_at_5pct']:.0%}" for n in COMBINATIONS) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

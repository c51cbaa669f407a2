"""The README's figure: a row of test digits and, under it, each checkpoint's reconstruction.

python scripts/figure.py [checkpoints/*.safetensors] [--out docs/reconstructions.png]
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae import checkpoints, data, latent  # noqa: E402

CELL, GAP, PAD = 56, 4, 10


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--out", type=Path, default=Path("docs/reconstructions.png"))
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    paths = args.paths or checkpoints.checkpoint_files(checkpoints.default_dir())
    images, labels = data.load_mnist(False, args.data_dir)
    picks = [int(np.flatnonzero(labels.numpy() == k)[0]) for k in range(10)]  # the first 0, 1, ..., 9
    digits = data.to_float(images[picks])[:, 0].numpy()
    rows = [("test digits", digits)]
    for path in paths:
        model, meta = checkpoints.load(path)
        out = latent.reconstruct(model, digits)[1]
        mse = meta.test_mse
        rows.append((f"{path.stem} ({model.latent_dim}-d)" + (f"  {mse:.4f}" if mse else ""), out))
    font = ImageFont.load_default(size=18)
    label_w = PAD * 3 + max(int(font.getlength(label)) for label, _ in rows)  # no label cut off
    width = label_w + len(picks) * (CELL + GAP)
    sheet = Image.new("RGB", (width, len(rows) * (CELL + GAP) + GAP), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for r, (label, row) in enumerate(rows):
        y = GAP + r * (CELL + GAP)
        draw.text((PAD, y + CELL // 2), label, fill=(230, 230, 230), font=font, anchor="lm")
        for c, a in enumerate(row):
            tile = Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8)).resize((CELL, CELL), Image.Resampling.NEAREST)
            sheet.paste(tile.convert("RGB"), (label_w + c * (CELL + GAP), y))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out)
    print(f"wrote {args.out} ({len(rows) - 1} models)")


if __name__ == "__main__":
    main()

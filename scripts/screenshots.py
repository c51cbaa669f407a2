"""Screenshots of every page in headless Chromium, for the README and for looking at the app.

python scripts/screenshots.py [--out docs] [--pages home draw ...]
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ae import checkpoints, evaluate, latent, meter, non_digits, rooms  # noqa: E402
from app_pages import PAGES  # noqa: E402
from tests.harness import appserver  # noqa: E402


def train_briefly(page, out: Path) -> None:
    """Start a small run, screenshot it live (train_live.png), and leave the page at its end."""
    for label, value in [("Width (channels)", "16"), ("Epochs", "4"), ("Training images", "6000")]:
        box = page.get_by_role("spinbutton", name=label)
        box.fill(value)
        box.press("Tab")
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Epochs: 2 of 4").wait_for(timeout=300_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=out / "train_live.png", full_page=True)
    page.get_by_text("Finished. Kept the best epoch").wait_for(timeout=300_000)
    appserver.wait_idle(page)


def a_class(location: str, model: str = "conv32") -> str:
    """A room with two dozen students' drawings (pen-drawn digits and a few letters, scored as the
    page scores them); the teacher's link, relative to the app."""
    store = rooms.open_store(location)
    net, meta = checkpoints.load(checkpoints.default_dir() / f"{model}.safetensors")
    room, secret = store.create(model, net.latent_dim)
    drawings = [*non_digits.pen_digits(20, seed=5), *non_digits.pen_non_digits(4, seed=6)]
    placed = meter.Meter.of(meta)
    for i, digit in enumerate(drawings):
        z, x_hat = latent.reconstruct(net, digit[None])
        shares = placed.shares(evaluate.mse(digit, x_hat[0]), z[0])
        store.add(room.code, f"s{i}", "", (digit * 255).round().astype("uint8"), z[0], shares)
    return f"class?room={room.code}&teacher={secret}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs"))
    p.add_argument("--pages", nargs="*", default=[file for file, _, _ in PAGES])
    p.add_argument("--width", type=int, default=1440)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp())  # the Train page writes a model: not into checkpoints/
    shutil.copytree(checkpoints.default_dir(), scratch, dirs_exist_ok=True)  # each model with its served form
    location = str(scratch / "rooms.sqlite3")
    with appserver.serve({"AE_CHECKPOINT_DIR": str(scratch), "AE_ROOMS": location}) as url, appserver.browser() as b:
        for name in args.pages:
            path = a_class(location) if name == "class" else {"home": "", "lesson": "lesson?step=2"}.get(name, name)
            page = appserver.open_page(b, url, path, width=args.width, height=1200 if name == "class" else 1000)
            if name == "train":
                train_briefly(page, args.out)
            if name in ("draw", "lesson"):
                frame = appserver.live_frame(page)
                appserver.draw(page, appserver.SEVEN, canvas=frame.locator("canvas.ink"))
                frame.wait_for_function("() => window.aeLive.output !== null", timeout=20_000)
                appserver.wait_idle(page)
            if name == "class":
                appserver.live_frame(page).wait_for_function("() => window.aeLive.drawings.length > 20", timeout=30_000)
                page.wait_for_timeout(1500)
            page.wait_for_timeout(800)
            page.screenshot(path=args.out / f"{name}.png", full_page=True)
            errors = page.locator("[data-testid='stException']").count()
            print(f"{name}: {'EXCEPTION ' if errors else ''}{args.out / f'{name}.png'}")
            page.close()


if __name__ == "__main__":
    main()

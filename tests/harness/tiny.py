"""Three small trained models (conv, dense, a 2-d VAE) in a folder: the tests' checkpoints
(tests/conftest.py's tiny_checkpoints). Each is trained and scored on its own, so that several
test workers share the work, and may be kept in a cache (`make test-fast`) under a key of every
source that makes it: a change to the library, this file, a package or MNIST trains it again."""

import hashlib
import shutil
from importlib import metadata
from pathlib import Path

MODELS = {  # name: (architecture, its config, epochs)
    "tiny_conv": ("conv", {"latent_dim": 8, "width": 8}, 2),
    "tiny_dense": ("dense", {"latent_dim": 16}, 1),
    "tiny_vae2": ("vae", {"latent_dim": 2, "width": 8}, 1),
}
ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("torch", "numpy", "onnx", "onnxruntime", "safetensors", "Pillow")


def trained(folder: Path, name: str) -> Path:
    """The marker a model leaves once trained and scored."""
    return folder / f".{name}.trained"


def key(mnist_dir: Path, root: Path = ROOT) -> str:
    """What the tiny models are made of: the library's sources, this file, the packages' versions
    and MNIST's files."""
    h = hashlib.sha256()
    for path in sorted([*(root / "ae").rglob("*.py"), root / "tests" / "harness" / "tiny.py"]):
        h.update(f"{path.relative_to(root).as_posix()}\0".encode() + path.read_bytes())
    for package in PACKAGES:
        h.update(f"{package}=={metadata.version(package)}\0".encode())
    for path in sorted(Path(mnist_dir).rglob("*")):
        if path.is_file():
            h.update(f"{path.relative_to(mnist_dir).as_posix()}:{path.stat().st_size}\0".encode())
    return h.hexdigest()[:20]


def train_one(folder: Path, name: str) -> None:
    from ae import results
    from ae.train import TrainConfig, train

    model, cfg, epochs = MODELS[name]
    folder.mkdir(parents=True, exist_ok=True)
    run = TrainConfig(
        model=model,
        model_config=cfg,
        epochs=epochs,
        limit=3000,
        val_limit=500,
        batch_size=64,
        lr=3e-3,
        out=str(folder / f"{name}.safetensors"),
    )
    for _ in train(run):
        pass
    results.score(run)
    trained(folder, name).touch()


def _copy(source: Path, target: Path, name: str) -> None:
    """A model's files (its checkpoint and served form), then its marker."""
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob(f"{name}.*"):
        if path.is_dir():
            shutil.copytree(path, target / path.name, dirs_exist_ok=True)
        else:
            shutil.copy2(path, target / path.name)
    trained(target, name).touch()


def provide(folder: Path, name: str, cache: Path | None = None) -> None:
    """A model in `folder`: there already, copied from `cache` (a folder of one key), or trained
    (and then kept in `cache`, which drops the other keys)."""
    if trained(folder, name).exists():
        return
    if cache is not None and trained(cache, name).exists():
        return _copy(cache, folder, name)
    train_one(folder, name)
    if cache is not None:
        for old in cache.parent.glob("*"):
            if old.is_dir() and old != cache:
                shutil.rmtree(old, ignore_errors=True)
        _copy(folder, cache, name)


def train(folder: Path, cache: Path | None = None) -> Path:
    for name in MODELS:
        provide(folder, name, cache)
    return folder

"""Shared fixtures: where MNIST is, and tiny trained checkpoints for tests that need one."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MNIST = ROOT.parent / "shared" / "mnist"

if "MNIST_DIR" not in os.environ and DEFAULT_MNIST.is_dir():
    os.environ["MNIST_DIR"] = str(DEFAULT_MNIST)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    from ae import data

    root = data.resolve_data_dir()
    if not data.mnist_available(root):
        if os.environ.get("CI"):
            pytest.fail(f"CI needs MNIST: {data.missing_message(root)}")
        pytest.skip(data.missing_message(root))
    return root


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory, mnist_dir) -> Path:
    """A folder of three small trained models (conv, dense, a 2-d VAE), trained once per test session."""
    from ae.train import TrainConfig, train

    folder = tmp_path_factory.mktemp("checkpoints")
    for name, model, cfg, epochs in [
        ("tiny_conv", "conv", {"latent_dim": 8, "width": 8}, 2),
        ("tiny_dense", "dense", {"latent_dim": 16}, 1),
        ("tiny_vae2", "vae", {"latent_dim": 2, "width": 8}, 1),
    ]:
        run = TrainConfig(model=model, model_config=cfg, epochs=epochs, limit=3000, val_limit=500,
                          batch_size=64, lr=3e-3, out=str(folder / f"{name}.safetensors"))
        for _ in train(run):
            pass
    return folder

"""Three small trained models (conv, dense, a 2-d VAE) in a folder: the tests' checkpoints
(tests/conftest.py's tiny_checkpoints)."""

from pathlib import Path

TRAINED = "trained"  # the marker file: all three trained and scored


def train(folder: Path) -> Path:
    from ae import results
    from ae.train import TrainConfig, train

    folder.mkdir(parents=True, exist_ok=True)
    for name, model, cfg, epochs in [
        ("tiny_conv", "conv", {"latent_dim": 8, "width": 8}, 2),
        ("tiny_dense", "dense", {"latent_dim": 16}, 1),
        ("tiny_vae2", "vae", {"latent_dim": 2, "width": 8}, 1),
    ]:
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
    (folder / TRAINED).touch()
    return folder

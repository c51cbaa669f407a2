"""ae/compress.py: the code's quantiser, the JPEG it is compared with, and the measures a scored
checkpoint ships for the Compress page (the page: tests/test_teaching.py)."""

import json

import numpy as np
import pytest

from ae import compress, latent, mnist, served


def test_the_quantiser_moves_a_code_by_at_most_half_a_step_and_fewer_bits_cost_fewer_bytes():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(1000, 32)) * np.linspace(0.5, 5, 32)
    q = compress.Quantiser.fit(codes)
    for bits in (8, 4, 2):
        moved = np.abs(q.round_trip(codes, bits) - codes)
        assert np.all(moved <= q.step(bits) / 2 + 1e-6)
        assert q.quantise(codes, bits).max() <= 2**bits - 1
    assert [compress.code_bytes(32, b) for b in (8, 4, 2)] == [32, 16, 8]
    assert compress.code_bytes(11, 3) == 5  # 33 bits


def test_the_jpeg_matcher_never_goes_over_the_budget_and_uses_it(mnist_dir):
    from ae import data

    digit = data.to_float(data.load_split("test", mnist_dir)[0][:1])[0, 0].numpy()
    smallest, _ = compress.jpeg(digit, 1)
    for budget in (smallest, smallest + 40, smallest + 150, 2000):
        size, decoded, quality = compress.jpeg_within(digit, budget)
        assert size <= budget and decoded.shape == (28, 28)
        if quality < 95:
            assert compress.jpeg(digit, quality + 1)[0] > budget  # the best quality that fits
    size, _, quality = compress.jpeg_within(digit, 8)
    assert quality == 1 and size == smallest > 8  # too small for JPEG: its smallest, and the page says so


def test_a_scored_checkpoint_ships_what_the_server_would_measure(tiny_checkpoints, mnist_dir):
    model = served.load(tiny_checkpoints / "tiny_conv.safetensors")
    quantiser, curves = compress.shipped(model)
    train = mnist.digits("train", compress.TRAIN_DIGITS, mnist_dir)
    fit = compress.Quantiser.fit(latent.encode(model, train))
    assert np.allclose(quantiser.lo, fit.lo) and np.allclose(quantiser.hi, fit.hi)
    fresh = compress.curves(model, compress.pca_basis(str(mnist_dir)), train, mnist.digits("test", compress.CURVE_DIGITS, mnist_dir))
    assert curves.keys() == fresh.keys()
    for name in curves:
        assert np.allclose(curves[name], fresh[name], rtol=1e-5)
    assert all(isinstance(b, int) for b, _ in curves["model"] + curves["PCA"])  # bytes, as the page writes them


@pytest.mark.parametrize("damage", ["not json", "other version", "missing part"])
def test_measures_of_another_version_or_damaged_are_measured_again(tiny_checkpoints, tmp_path, damage):
    import shutil

    for path in tiny_checkpoints.glob("tiny_dense*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, tmp_path / path.name)
    measures = tmp_path / "tiny_dense.served" / served.MEASURES
    found = json.loads(measures.read_text())
    if damage == "not json":
        measures.write_text("{")
    elif damage == "other version":
        measures.write_text(json.dumps({**found, "source": "0" * 64}))
    else:
        measures.write_text(json.dumps({**found, "curves": {}}))
    assert compress.shipped(served.load(tmp_path / "tiny_dense.safetensors")) == (None, None)


def test_the_shipped_pca_is_the_one_mnist_gives(mnist_dir):
    """ae/pca_basis.npz (python -m ae.compress --write-pca): a server squeezes with it, never reading
    the training split; the same as fitting PCA here, to a map's precision whatever the CPU."""
    assert compress._shipped_pca() is not None
    fit = compress.fit_pca_basis(str(mnist_dir))
    digits = mnist.digits("test", 200, mnist_dir)
    for k in compress.PCA_SIZES:
        ours, theirs = compress.pca_basis().first(k), fit.first(k)
        assert np.allclose(
            latent.decode(ours, latent.encode(ours, digits)), latent.decode(theirs, latent.encode(theirs, digits)), atol=2e-3
        ), k
    fitted = compress.Quantiser.fit(latent.encode(compress.pca_basis(), mnist.digits("train", compress.TRAIN_DIGITS, mnist_dir)))
    assert np.allclose(compress.pca_quantiser().lo, fitted.lo, atol=1e-5) and np.allclose(compress.pca_quantiser().hi, fitted.hi, atol=1e-5)


def test_a_missing_or_damaged_pca_file_is_fitted_again(tmp_path, monkeypatch, mnist_dir):
    written = compress.write_pca(str(mnist_dir), tmp_path / "pca.npz")
    monkeypatch.setattr(compress, "PCA_FILE", written)
    assert compress._shipped_pca() is not None
    for damage in (b"", b"PK\x03\x04 not a zip", None):
        if damage is None:
            written.unlink()
        else:
            written.write_bytes(damage)
        assert compress._shipped_pca() is None

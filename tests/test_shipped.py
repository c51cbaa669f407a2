"""The checkpoints the app ships with: all load, their stored metrics are true, and they meet the targets."""

import pytest

from ae import checkpoints, data, evaluate, models
from tests.conftest import ROOT

SHIPPED = ROOT / "checkpoints"
EXPECTED = list(models.shipped())  # every recipe declared in ae/models/


@pytest.fixture(scope="module")
def shipped():
    return {e.name: e for e in checkpoints.list_checkpoints(SHIPPED)}


def _test_mse(shipped, name):
    return shipped[name].meta["metrics"]["test"]["mse"]


def test_every_model_is_there_and_loads(shipped):
    assert sorted(shipped) == sorted(EXPECTED)
    broken = {n: e.error for n, e in shipped.items() if not e.ok}
    assert not broken


def test_all_checkpoints_together_stay_under_25_mb():
    total = sum(p.stat().st_size for p in SHIPPED.glob("*.safetensors"))
    assert total < 25 * 2**20, f"{total / 2**20:.1f} MB"


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_mse_agrees_with_the_file_on_1000_test_digits(mnist_dir, name):
    model, meta = checkpoints.load(SHIPPED / f"{name}.safetensors")
    test, _ = data.load_split("test", mnist_dir)
    measured = evaluate.metrics(model, test[:1000])["mse"]
    spot = meta["metrics"]["test_spot_check"]
    assert spot["images"] == 1000
    stored = spot["mse"]
    assert abs(measured - stored) / stored < 0.03, (measured, stored)


@pytest.mark.parametrize("name", ["dense", "stacked", "dense_sigmoid"])
def test_dense_seeds_beat_pca_at_their_own_code_size(shipped, name):
    metrics = shipped[name].meta["metrics"]
    assert metrics["test"]["mse"] < metrics["pca"]["mse"]


@pytest.mark.parametrize(
    "name,target",
    [("conv_bn_elu", 0.0020), ("conv2", 0.036), ("conv32", 0.0022), ("conv128", 0.0008)],
)
def test_quality_targets(shipped, name, target):
    assert _test_mse(shipped, name) <= target


def test_the_denoiser_gains_10_db_at_gaussian_0_4(shipped):
    noisy = shipped["conv32_denoise"].meta["metrics"]["test_noisy"]
    assert (noisy["noise"], noisy["level"]) == ("gaussian", 0.4)
    assert noisy["psnr"] - noisy["input_psnr"] >= 10


def test_pca_rows_match_the_published_baseline(shipped):
    published = {"pca2": 0.0555, "pca32": 0.0152, "pca128": 0.0034}
    for name, mse in published.items():
        assert _test_mse(shipped, name) == pytest.approx(mse, abs=0.0002)

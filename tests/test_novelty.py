"""ae/novelty.py, which measures what the meter knows when a checkpoint is made (the codes
network, the error quantiles, on ae/non_digits.py's shapes), and ae/meter.py, which places a
drawing with it."""

import json

import numpy as np
import pytest
import torch

from ae import checkpoints, meter, non_digits, novelty


class Identity(torch.nn.Module):  # the code is the image's first two pixels
    def __init__(self):
        super().__init__()
        self.unused = torch.nn.Parameter(torch.zeros(1))  # says where it runs: the CPU

    def encode(self, x):
        return x.flatten(1)[:, :2]


def _two_number_digits(n_per_class: int, seed: int):
    """Images whose code (Identity's) is (label, label) plus noise, narrow along the second number."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    images = np.zeros((len(labels), 28, 28))
    images[:, 0, :2] = np.stack([labels, labels], 1) + rng.normal(0, 1, (len(labels), 2)) * [0.1, 0.01]
    return images, labels


def _off_the_line(n: int, seed: int) -> np.ndarray:
    """Images whose code (Identity's) is off the digits' line: (a, a + 2) and (a + 2, a)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0, 9, n)
    images = np.zeros((n, 28, 28))
    images[:, 0, :2] = np.stack([a, a + 2], 1)
    images[::2, 0, :2] = images[::2, 0, 1::-1]
    return images


def test_the_codes_network_knows_the_digits_and_is_unsure_of_what_it_was_shown_is_none():
    images, labels = _two_number_digits(200, 0)
    z = images[:, 0, :2]
    a = novelty.directions(z, labels)
    stored = {"directions": a.tolist(), "layers": novelty.train_network(z @ a.T, labels, _off_the_line(1000, 1)[:, 0, :2] @ a.T)}
    network = meter.CodeNetwork.of(json.loads(json.dumps(stored)))  # as a checkpoint stores it
    centres = np.stack([np.arange(10), np.arange(10)], 1).astype(float)
    assert (network.logits(centres).argmax(1) == np.arange(10)).all()
    assert network.unsure(centres).max() < 0.05
    assert np.median(network.unsure(_off_the_line(200, 2)[:, 0, :2])) > 0.5  # others of the kind it was shown


def test_the_meter_places_a_drawing_by_its_error_and_by_its_code(monkeypatch):
    train, labels = _two_number_digits(200, 0)
    test, _ = _two_number_digits(100, 1)
    as_stored = torch.as_tensor(train[:, None] * 255)  # what ae.data.to_float turns back into `train`
    monkeypatch.setattr(novelty.data, "load_split", lambda split, data_dir=None: (as_stored, torch.as_tensor(labels)))
    monkeypatch.setattr(novelty, "_outliers", lambda n: _off_the_line(n, 1))
    errors = np.linspace(0.01, 0.02, len(test))
    placed = meter.Meter.of(checkpoints.Meta(metrics=novelty.measure(Identity(), test, errors)))
    assert placed.shares(0.015, test[0, 0, :2])[0] == pytest.approx(0.5, abs=0.01) and placed.shares(0.015, test[0, 0, :2])[1] < 0.99
    by_error, by_code = placed.shares(0.015, np.array([3.0, 5.0]))  # off the digits' line
    assert by_error == pytest.approx(0.5, abs=0.01) and by_code == 1.0
    assert "Its code looks less like any one digit's" in meter.verdict(by_error, by_code)
    assert placed.shares(0.5, test[0, 0, :2])[0] == 1.0
    assert meter.Meter.of(checkpoints.Meta()) is None  # a checkpoint without the quantiles has no meter


def test_non_digits_are_made_the_same_way_every_time():
    a, b = non_digits.non_digits(9), non_digits.non_digits(9)
    assert a.shape == (9, 28, 28) and np.array_equal(a, b) and (a.reshape(9, -1).max(1) > 0.5).all()


def test_the_roc_auc_of_two_scores():
    assert novelty.roc_auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0  # every outlier scored above every digit
    assert novelty.roc_auc(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.5


def test_the_meters_random_figures_are_drawn_once_kept_and_drawn_again_when_damaged(tmp_path, monkeypatch):
    monkeypatch.setenv("AE_CACHE_DIR", str(tmp_path / "cache"))  # made when first needed
    draw = non_digits.random_figures
    drawn = draw(60)
    assert np.array_equal(non_digits.kept_random_figures(40), drawn[:40])  # drawn, and kept
    [kept] = (tmp_path / "cache").glob("random-figures-*")
    monkeypatch.setattr(non_digits, "random_figures", lambda n: pytest.fail("drawn again"))
    assert np.array_equal(non_digits.kept_random_figures(25), drawn[:25])  # a shorter run is the kept one's start
    monkeypatch.setattr(non_digits, "random_figures", draw)
    kept.write_bytes(b"\x1f\x8b not what was kept")
    assert np.array_equal(non_digits.kept_random_figures(40), drawn[:40])  # damaged: drawn again
    assert np.array_equal(non_digits.kept_random_figures(60), drawn)  # longer: drawn again, and kept instead
    monkeypatch.setattr(non_digits, "random_figures", lambda n: pytest.fail("drawn again"))
    assert np.array_equal(non_digits.kept_random_figures(60), drawn)

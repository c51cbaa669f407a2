"""ae/compress.py: the code's quantiser and the JPEG it is compared with (the page: tests/test_teaching.py)."""

import numpy as np

from ae import compress


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

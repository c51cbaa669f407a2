"""ae/meter.py's words: how a drawing's scores become the page's verdict (the numbers behind
them: tests/test_novelty.py)."""

import numpy as np
import pytest

from ae import meter


def test_the_share_of_digits_rebuilt_better_and_what_it_means():
    quantiles = np.linspace(0.001, 0.1, 101)
    assert meter.share_better(quantiles, 0.0) == 0 and meter.share_better(quantiles, 1.0) == 1
    assert meter.share_better(quantiles, 0.0505) == pytest.approx(0.5, abs=1e-3)
    assert "looks like a digit" in meter.verdict(0.38) and "62%" in meter.verdict(0.38)
    assert "99.7%" in meter.verdict(0.997) and "does not look like anything" in meter.verdict(0.997)
    assert "every real digit" in meter.verdict(1.0)


def test_the_verdict_names_the_score_that_spoke():
    both_low = meter.verdict(0.38, 0.45)
    assert "62% of real digits" in both_low and "55% of theirs" in both_low and "looks like a digit" in both_low
    by_code = meter.verdict(0.5, 0.997)
    assert by_code.startswith("Its code looks less like any one digit's than 99.7%") and "does not look like anything" in by_code
    by_error = meter.verdict(0.98, 0.5)
    assert by_error.startswith("Rebuilt worse than 98%") and "an unusual digit" in by_error
    assert "looks like a digit" in meter.verdict(0.97, 0.2)  # under the line: at most 5% of real digits are above it
    assert "any real digit's" in meter.verdict(0.2, 1.0)
    assert meter.percent(0.125) == "13%" and meter.percent(0.9965) == "99.7%"  # halves up, as the page

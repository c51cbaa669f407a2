"""Where the page cannot run the model (and for an upload): the server computes what the Draw widget
paints, the same arrays the page's model would give, and hands them to the same widget (live.server_computed).

    live.draw(choice, key="draw_live", serve=server_path.serve(choice, compared))
    live.draw_served(choice, server_path.computed(choice, digit), key="draw_upload_view")
"""

from __future__ import annotations

from ae import live, meter, quality
from ae.ui.catalog import rebuild


def computed(choice, digit, others=()) -> dict:
    """A digit's reconstruction, code and meter by the chosen model (an ae.ui.LoadedModel), and the
    reconstructions of `others` (compare mode), as the widget takes them."""
    z, x_hat = rebuild(choice, digit)
    compared = [(c.name, x_hat if c.name == choice.name else rebuild(c, digit)[1]) for c in others]  # the chosen one once
    return live.server_computed(digit, x_hat, z, placed(choice, quality.mse(digit, x_hat), z), compared)


def placed(choice, error: float, code) -> dict | None:
    """Where a drawing's error and code fall among the test digits', in the meter's words (meter.js
    says the same of a drawing the page's model ran on); None for a model without a meter."""
    among = choice.meter
    if among is None:
        return None
    by_error, by_code = among.shares(error, code)
    words = meter.WORDS
    return {
        "shares": [by_error, by_code],
        "unsure": None if by_code is None else float(among.unsure(code)[0]),
        "verdict": meter.verdict(by_error, by_code),
        "captions": [meter.meter_caption(words["error_score"], by_error), meter.meter_caption(words["code_score"], by_code)],
    }


def serve(choice, others=lambda: ()):
    """live.draw's `serve`: a drawing the page could not run the model on, computed here."""
    return lambda drawn: computed(choice, drawn.digit, others()) if drawn.failed and drawn.digit is not None else None

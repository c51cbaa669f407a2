"""A room's drawings as files for the teacher: an .npz of arrays, and a PNG sheet of pictures."""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw

from ae.rooms import Drawing

SHEET_COLUMNS = 20
CELL = 56  # a drawing at 2x, with its number under it


def npz_bytes(drawings: list[Drawing], model: str) -> bytes:
    """Every drawing as arrays: pixels (N, 28, 28) uint8, codes (N, d) float32, times (seconds since
    the epoch), nicknames, ids, hidden, the meter's two shares (NaN where unknown), the lesson's step
    each was drawn in (0: none), the student's seat, and the teacher's picks (starred)."""
    n = len(drawings)
    dim = len(drawings[0].code) if drawings else 0
    share = lambda s: np.nan if s is None else s  # noqa: E731
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        pixels=np.stack([d.pixels for d in drawings]) if n else np.zeros((0, 28, 28), np.uint8),
        codes=np.stack([d.code for d in drawings]).astype(np.float32) if n else np.zeros((0, dim), np.float32),
        times=np.array([d.time for d in drawings], np.float64),
        nicknames=np.array([d.nickname for d in drawings], dtype=str),
        ids=np.array([d.id for d in drawings], np.int64),
        hidden=np.array([d.hidden for d in drawings], bool),
        error_shares=np.array([share(d.error_share) for d in drawings], np.float64),
        code_shares=np.array([share(d.code_share) for d in drawings], np.float64),
        steps=np.array([d.step for d in drawings], np.int64),
        seats=np.array([d.seat for d in drawings], np.int64),
        starred=np.array([d.starred for d in drawings], bool),
        model=np.array(model),
    )
    return buffer.getvalue()


def sheet_png(drawings: list[Drawing]) -> bytes:
    """Every drawing in a grid, oldest first, each with its number in the .npz (`ids`) under it
    (and its lesson step, `s2`)."""
    columns = max(1, min(SHEET_COLUMNS, len(drawings)))
    rows = max(1, math.ceil(len(drawings) / columns))
    sheet = Image.new("L", (columns * CELL, rows * (CELL + 12)), 40)
    pen = ImageDraw.Draw(sheet)
    for i, d in enumerate(drawings):
        x, y = (i % columns) * CELL, (i // columns) * (CELL + 12)
        sheet.paste(Image.fromarray(d.pixels).resize((CELL - 4, CELL - 4), Image.Resampling.NEAREST), (x + 2, y + 2))
        pen.text((x + 3, y + CELL - 1), f"#{d.id}" + (f" s{d.step}" if d.step else "") + (" hidden" if d.hidden else ""), fill=200)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()

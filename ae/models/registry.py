"""The registry: every architecture by name, and the recipe of every checkpoint the app ships."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

_ARCHITECTURES: dict[str, type] = {}
_SHIPPED: dict[str, "Recipe"] = {}


def register(name: str):
    """Class decorator: make an Autoencoder subclass buildable by `name`."""

    def deco(cls):
        cls.name = name
        _ARCHITECTURES[name] = cls
        return cls

    return deco


@dataclass(frozen=True)
class Recipe:
    """How a shipped checkpoint is trained: `python -m ae.train` arguments, one list per stage
    (a later stage goes on from the file the one before wrote)."""

    name: str
    stages: tuple[tuple[str, ...], ...]


def ship(name: str, *stages: str) -> None:
    """Declare that checkpoints/<name>.safetensors is shipped, trained by these stages."""
    _SHIPPED[name] = Recipe(name, tuple(tuple(shlex.split(s)) for s in stages))


def architectures() -> dict[str, type]:
    return dict(_ARCHITECTURES)


def shipped() -> dict[str, Recipe]:
    return dict(_SHIPPED)

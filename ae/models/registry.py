"""The registry: every architecture by name, and the recipe of every checkpoint the app ships."""

from __future__ import annotations

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
    """How a shipped checkpoint is trained: each stage the fields of an ae.train.TrainConfig (a
    later stage goes on from the file the one before wrote)."""

    name: str
    stages: tuple[dict, ...]


def ship(name: str, *stages: dict) -> None:
    """Declare that checkpoints/<name>.safetensors is shipped, trained by these stages, each a dict
    of TrainConfig's fields: ship("dense", dict(model="dense", loss="mse", epochs=20))."""
    _SHIPPED[name] = Recipe(name, tuple(stages))


def architectures() -> dict[str, type]:
    return dict(_ARCHITECTURES)


def shipped() -> dict[str, Recipe]:
    return dict(_SHIPPED)

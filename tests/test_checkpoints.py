import json
import pickle
import struct

import pytest
import torch
from safetensors.torch import save as save_tensors

from ae import checkpoints, export, models, served


def _saved(tmp_path, name="conv", **cfg):
    torch.manual_seed(0)
    model = models.build(name, **cfg).eval()
    path = export.save(tmp_path / f"{name}.safetensors", model, {"note": "hi", "history": [{"epoch": 1}]})
    return model, path


@pytest.mark.parametrize("name", models.available())
def test_round_trip_gives_identical_outputs(tmp_path, name):
    model, path = _saved(tmp_path, name)
    loaded, meta = checkpoints.load(path)
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert meta["architecture"] == name and meta["note"] == "hi"
    assert meta["parameters"] == models.count_parameters(model)
    assert meta["versions"]["torch"] and meta["saved"]


def test_config_survives_the_trip(tmp_path):
    _, path = _saved(tmp_path, "conv", latent_dim=5, width=8)
    loaded, meta = checkpoints.load(path)
    assert loaded.latent_dim == 5 and loaded.config.width == 8
    assert meta["config"]["latent_dim"] == 5


def _broken(tmp_path, blob: bytes, name="bad"):
    (tmp_path / f"{name}.safetensors").write_bytes(blob)
    return tmp_path / f"{name}.safetensors"


def _reason(path):
    with pytest.raises(checkpoints.CheckpointError) as err:
        checkpoints.load(path)
    return str(err.value)


def test_truncated_random_pickle_and_empty_files_are_refused(tmp_path):
    _, good = _saved(tmp_path)
    blob = good.read_bytes()
    assert "truncated" in _reason(_broken(tmp_path, blob[: len(blob) // 2], "half"))
    assert "not a safetensors" in _reason(_broken(tmp_path, bytes(range(256)) * 40, "random"))
    assert "safetensors" in _reason(_broken(tmp_path, pickle.dumps({"w": [1, 2]}), "pickle"))
    assert "too short" in _reason(_broken(tmp_path, b"", "empty"))


def test_torch_pickle_is_never_unpickled(tmp_path, monkeypatch):
    path = tmp_path / "evil.safetensors"
    torch.save({"w": torch.zeros(2)}, path)  # a zip of pickles
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    assert _reason(path)


def _with_meta(tmp_path, doc, tensors=None, name="x"):
    tensors = tensors if tensors is not None else {"w": torch.zeros(1)}
    meta = {checkpoints.META_KEY: doc if isinstance(doc, str) else json.dumps(doc)}
    return _broken(tmp_path, save_tensors(tensors, metadata=meta), name)


def test_unknown_architecture_bad_json_and_wrong_shapes_are_refused(tmp_path):
    assert "unknown architecture" in _reason(_with_meta(tmp_path, {"architecture": "gpt", "config": {}}))
    assert "not valid JSON" in _reason(_with_meta(tmp_path, "{not json", name="j"))
    assert "not one of ours" in _reason(_broken(tmp_path, save_tensors({"w": torch.zeros(1)}), "plain"))
    model = models.build("dense", latent_dim=8)
    tensors = {k: torch.zeros(3) for k in model.state_dict()}
    assert "shape mismatch" in _reason(_with_meta(tmp_path, {"architecture": "dense", "config": {"latent_dim": 8}}, tensors, "shape"))
    assert "does not build" in _reason(_with_meta(tmp_path, {"architecture": "dense", "config": {"depth": 3}}, name="cfg"))


def test_a_folder_lists_its_checkpoint_files_and_a_broken_one_says_why_it_does_not_load(tmp_path):
    _saved(tmp_path, "dense")
    _broken(tmp_path, b"\x00" * 10, "zeros")
    (tmp_path / "notes.txt").write_text("ignored")
    assert [p.stem for p in checkpoints.checkpoint_files(tmp_path)] == ["dense", "zeros"]
    assert checkpoints.load(tmp_path / "dense.safetensors")[1]["architecture"] == "dense"
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.load(tmp_path / "zeros.safetensors")
    assert checkpoints.checkpoint_files(tmp_path / "missing") == []


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    model, path = _saved(tmp_path, "dense")
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoints.os, "replace", crash)
    with pytest.raises(OSError):
        export.save(path, models.build("dense"), {})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, served.folder_of(path).name])


@pytest.mark.parametrize("bad", ["", "  ", "../x", "a/b", "a\\b", "..", ".hidden", "x" * 65, "spaces here", "é"])
def test_bad_names_are_refused(bad):
    with pytest.raises(checkpoints.CheckpointError):
        checkpoints.validate_name(bad)


def test_good_names_pass():
    assert checkpoints.validate_name(" conv32 ") == "conv32"
    assert checkpoints.validate_name("my-model_2.safetensors") == "my-model_2"
    assert checkpoints.path_for("checkpoints", "a1").name == "a1.safetensors"


def test_header_size_is_checked_before_reading(tmp_path):
    blob = struct.pack("<Q", 10**12) + b"{}"
    assert "truncated" in _reason(_broken(tmp_path, blob, "huge"))


def test_metadata_that_is_json_but_not_an_object_is_refused(tmp_path):
    assert "names no architecture" in _reason(_with_meta(tmp_path, "[1, 2, 3]", name="list"))
    assert "names no architecture" in _reason(_with_meta(tmp_path, '"dense"', name="string"))


def test_missing_extra_and_non_finite_tensors_are_refused(tmp_path):
    model = models.build("dense", latent_dim=8)
    doc = {"architecture": "dense", "config": {"latent_dim": 8}}
    tensors = {k: v.clone() for k, v in model.state_dict().items()}
    missing = {k: v for k, v in tensors.items() if k != "decoder.bias"}
    assert "tensors missing for a dense: decoder.bias" in _reason(_with_meta(tmp_path, doc, missing, "missing"))
    assert "does not have: surprise" in _reason(_with_meta(tmp_path, doc, {**tensors, "surprise": torch.zeros(2)}, "extra"))
    nan = {**tensors, "encoder.weight": tensors["encoder.weight"].clone().fill_(float("nan"))}
    assert "NaN or infinite" in _reason(_with_meta(tmp_path, doc, nan, "nan"))


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "big.safetensors"
    with open(path, "wb") as f:
        f.truncate(checkpoints.MAX_BYTES + 1)  # sparse: no disk used
    monkeypatch.setattr(type(path), "read_bytes", lambda self: pytest.fail("read a file over the limit"))
    assert "too large" in _reason(path)


def test_a_config_that_would_build_a_huge_model_is_refused_before_allocating(tmp_path):
    doc = {"architecture": "conv", "config": {"latent_dim": 32, "width": 100_000}}
    reason = _reason(_with_meta(tmp_path, doc, name="huge"))  # allocating it would take terabytes
    assert "does not build a conv" in reason and "parameters" in reason

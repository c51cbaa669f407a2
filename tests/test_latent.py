"""ae/latent.py: the paths between codes, the projections and grids the pages draw."""

import numpy as np
import pytest
import torch

from ae import latent, models


def test_linear_path_goes_straight_and_ends_at_both_codes():
    a, b = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 4.0, 0.0])
    path = latent.path(a, b, 5, "linear")
    assert path.shape == (5, 3) and np.allclose(path[0], a) and np.allclose(path[-1], b)
    assert np.allclose(np.diff(path, axis=0), (b - a) / 4)  # equal steps on one line


def test_spherical_path_differs_from_linear_and_keeps_the_length_going_linearly():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=16) * 3, rng.normal(size=16) * 5
    arc, line = latent.path(a, b, 9, "spherical"), latent.path(a, b, 9, "linear")
    assert np.allclose(arc[0], a) and np.allclose(arc[-1], b)
    assert np.abs(arc[1:-1] - line[1:-1]).max() > 0.5  # a different path
    lengths = np.linalg.norm(arc, axis=1)
    assert np.allclose(lengths, np.linspace(np.linalg.norm(a), np.linalg.norm(b), 9))  # as its docstring says
    assert np.linalg.norm(line[4]) < lengths[4]  # the straight line cuts towards the origin


def test_slerp_falls_back_to_lerp_for_zero_or_parallel_codes():
    a = np.array([1.0, 2.0])
    assert np.allclose(latent.slerp(np.zeros(2), a, 0.3), latent.lerp(np.zeros(2), a, 0.3))
    assert np.allclose(latent.slerp(a, 3 * a, 0.5), latent.lerp(a, 3 * a, 0.5))


def test_project_2d_keeps_small_codes_and_finds_the_widest_directions_of_large_ones():
    rng = np.random.default_rng(1)
    assert latent.project_2d(np.ones((4, 2)))[1] == "the 2-d code itself"
    points, how = latent.project_2d(rng.normal(size=(5, 1)))
    assert points.shape == (5, 2) and np.all(points[:, 1] == 0) and "1-d" in how
    codes = rng.normal(size=(500, 8)) * np.array([10, 5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    points, how = latent.project_2d(codes)
    assert points.shape == (500, 2) and ("99%" in how or "100%" in how)
    assert abs(np.corrcoef(points[:, 0], codes[:, 0])[0, 1]) > 0.99


def test_manifold_tiles_the_decoder_over_the_plane_with_y_growing_upwards():
    torch.manual_seed(0)
    model = models.build("dense", latent_dim=2).eval()
    sheet = latent.manifold(model, (-1.0, -2.0), (1.0, 2.0), 3)
    assert sheet.shape == (84, 84)
    top_left = latent.decode(model, np.array([[-1.0, 2.0]]))[0]
    bottom_right = latent.decode(model, np.array([[1.0, -2.0]]))[0]
    assert np.allclose(sheet[:28, :28], top_left, atol=1e-6) and np.allclose(sheet[-28:, -28:], bottom_right, atol=1e-6)


@pytest.mark.parametrize("size,kind", [(4, "numbers"), (32, "directions")])
def test_code_directions_are_sliders_per_number_or_orthonormal_directions(size, kind):
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(400, size)) * np.linspace(5, 1, size)
    spec = latent.code_directions(codes)
    assert spec["kind"] == kind
    if kind == "numbers":
        assert np.all(np.array(spec["lo"]) < np.array(spec["hi"]))
    else:
        basis = np.array(spec["basis"])
        assert basis.shape == (8, size) and np.allclose(basis @ basis.T, np.eye(8), atol=1e-9)
        assert spec["spread"] == sorted(spec["spread"], reverse=True)


def _same_map(a: latent.DigitMap, b: latent.DigitMap) -> None:
    """The same map to its shipped precision (three decimals a point, six digits an axis)."""
    assert np.allclose(a.points, b.points, atol=2e-3) and np.array_equal(a.labels, b.labels)
    assert np.allclose(a.projection.axes, b.projection.axes, rtol=1e-5, atol=1e-7) and a.projection.how == b.projection.how
    assert a.editor.keys() == b.editor.keys() and a.editor["kind"] == b.editor["kind"]
    for key in a.editor.keys() - {"kind"}:
        assert np.allclose(a.editor[key], b.editor[key], rtol=1e-5, atol=1e-7), key


def test_a_digit_map_survives_its_file_and_a_damaged_one_is_refused():
    import json

    rng = np.random.default_rng(3)
    codes = rng.normal(size=(latent.MAP_DIGITS, 24)) * np.linspace(4, 1, 24)
    made = latent.DigitMap.of(codes, rng.integers(0, 10, latent.MAP_DIGITS))
    found = json.loads(json.dumps(made.to_json()))
    _same_map(latent.DigitMap.from_json(found), made)
    new = rng.normal(size=(3, 24))
    assert np.allclose(latent.DigitMap.from_json(found).projection(new), made.projection(new), atol=1e-4)
    for damaged in [
        None,
        [],
        {**found, "points": found["points"][:-1]},
        {**found, "axes": [[1.0]]},
        {k: v for k, v in found.items() if k != "editor"},
    ]:
        assert latent.DigitMap.from_json(damaged) is None


def test_a_scored_checkpoint_ships_the_map_a_server_would_make(tiny_checkpoints, mnist_dir, tmp_path, monkeypatch):
    """ae.shipping.ship writes it; where a checkpoint has none, the server makes the same one itself."""
    import shutil

    from ae import mnist, served
    from ae.ui import catalog

    model = served.load(tiny_checkpoints / "tiny_conv.safetensors")
    digits, labels = mnist.load_split("test", mnist_dir)
    fresh = latent.DigitMap.of(latent.encode(model, digits[: latent.MAP_DIGITS] / np.float32(255)), labels[: latent.MAP_DIGITS])
    _same_map(model.digit_map, fresh)

    for path in tiny_checkpoints.glob("tiny_conv*"):
        (shutil.copytree if path.is_dir() else shutil.copy)(path, tmp_path / path.name)
    (tmp_path / "tiny_conv.served" / served.MEASURES).unlink()
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tmp_path))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    (choice,) = catalog.loaded_models()
    assert choice.model.digit_map is None
    _same_map(catalog.digit_map(choice), fresh)
    assert catalog.code_editor(choice) == catalog.digit_map(choice).editor

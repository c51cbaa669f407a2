import pytest
import torch
from torchvision.transforms.v2 import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from ae import data


def test_mnist_loads_from_the_data_dir_with_shapes_and_labels(mnist_dir):
    images, labels = data.load_mnist(train=True, data_dir=mnist_dir)
    assert images.shape == (60_000, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.shape == (60_000,) and labels.dtype == torch.int64
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # MNIST's well-known first training labels
    test_images, test_labels = data.load_mnist(train=False, data_dir=mnist_dir)
    assert test_images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(test_labels).tolist()[:3] == [980, 1135, 1032]


def test_mnist_dir_comes_from_the_environment(mnist_dir, monkeypatch):
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))
    assert data.resolve_data_dir() == mnist_dir
    monkeypatch.delenv("MNIST_DIR")
    assert str(data.resolve_data_dir()) == "data"


def test_missing_data_dir_says_how_to_get_mnist(tmp_path):
    with pytest.raises(data.MnistMissingError) as err:
        data.load_mnist(train=False, data_dir=tmp_path / "nowhere")
    message = str(err.value)
    assert "nowhere" in message and "MNIST_DIR" in message and "python -m ae.download" in message


def test_our_idx_reader_gives_what_torchvision_reads(mnist_dir):
    from torchvision.datasets import MNIST

    ds = MNIST(str(mnist_dir), train=False, download=False)
    images, labels = data.load_mnist(train=False, data_dir=mnist_dir)
    assert torch.equal(images[:, 0], ds.data) and torch.equal(labels, ds.targets)


def test_a_truncated_file_says_which_and_how_to_get_mnist(mnist_dir, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in data.RAW_FILES:
        (raw / name).write_bytes((mnist_dir / "MNIST" / "raw" / name).read_bytes())
    cut = raw / "t10k-images-idx3-ubyte"
    cut.write_bytes(cut.read_bytes()[:5000])
    with pytest.raises(data.MnistMissingError) as err:
        data.load_mnist(train=False, data_dir=tmp_path)
    assert "t10k-images-idx3-ubyte" in str(err.value) and "python -m ae.download" in str(err.value)


def test_split_is_deterministic_and_disjoint(mnist_dir):
    train_idx, val_idx = data.split_indices()
    again_train, again_val = data.split_indices()
    assert torch.equal(train_idx, again_train) and torch.equal(val_idx, again_val)
    assert len(train_idx) == 48_000 and len(val_idx) == 12_000
    assert len(set(train_idx.tolist()) | set(val_idx.tolist())) == 60_000
    train, _ = data.load_split("train", mnist_dir)
    val, _ = data.load_split("val", mnist_dir)
    assert train.shape[0] == 48_000 and val.shape[0] == 12_000


def test_batches_cover_every_image_once():
    g = torch.Generator().manual_seed(0)
    chunks = data.batch_indices(1000, 128, g)
    seen = torch.cat(chunks)
    assert sorted(seen.tolist()) == list(range(1000))
    assert all(len(c) == 128 for c in chunks[:-1])


def _digits(n=16):
    images, _ = data.load_mnist(train=False)
    return data.to_float(images[:n])


@pytest.mark.parametrize("kind", [*data.NOISE_KINDS, data.MIXED])
def test_noise_is_deterministic_in_range_and_grows_with_level(mnist_dir, kind):
    x = _digits()
    a = data.add_noise(x, kind, 0.5, torch.Generator().manual_seed(3))
    b = data.add_noise(x, kind, 0.5, torch.Generator().manual_seed(3))
    c = data.add_noise(x, kind, 0.5, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1
    low = (data.add_noise(x, kind, 0.1, torch.Generator().manual_seed(3)) - x).pow(2).mean()
    high = (data.add_noise(x, kind, 0.9, torch.Generator().manual_seed(3)) - x).pow(2).mean()
    assert 0 < low < high
    assert torch.equal(data.add_noise(x, kind, 0.0), x)


def test_salt_pepper_hits_the_asked_fraction_and_mask_hides_whole_patches():
    x = torch.full((64, 1, 28, 28), 0.5)
    sp = data.add_noise(x, "salt_pepper", 0.3, torch.Generator().manual_seed(0))
    assert abs((sp != 0.5).float().mean().item() - 0.3) < 0.01
    masked = data.add_noise(x, "mask", 0.4, torch.Generator().manual_seed(0))
    hidden = (masked == 0).float().mean().item()
    assert abs(hidden - round(0.4 * 49) / 49) < 1e-6
    assert (masked == 0).view(64, 7, 4, 7, 4).all(dim=(2, 4)).sum() == (masked == 0).sum() / 16


def test_unknown_noise_kind_is_refused():
    with pytest.raises(ValueError, match="unknown noise kind"):
        data.add_noise(torch.zeros(1, 1, 28, 28), "fog", 0.5)


def test_augmentation_is_deterministic_and_differs_per_image(mnist_dir):
    x = _digits(1).expand(32, 1, 28, 28)
    a = data.augment(x, torch.Generator().manual_seed(0))
    b = data.augment(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert not torch.equal(a[0], a[1])  # every image gets its own rotation and perspective
    assert (a - x).abs().mean() > 0.01


def test_rotation_and_perspective_match_torchvision_v2(mnist_dir):
    x = _digits(8)
    for angle in (-10.0, 7.5):
        ours = data.warp(x, data.rotation_matrix(torch.full((8,), angle), 28, 28))
        ref = TF.rotate(x, angle, interpolation=InterpolationMode.BILINEAR)
        assert (ours - ref).abs().max() < 1e-4
    ends = data.perspective_endpoints(8, 28, 28, 0.4, torch.Generator().manual_seed(5), "cpu")
    starts = data._corners(28, 28, "cpu").expand(8, 4, 2)
    ours = data.warp(x, data.perspective_matrix(starts, ends))
    for i in range(8):
        ref = TF.perspective(x[i : i + 1], starts[i].tolist(), ends[i].tolist(), interpolation=InterpolationMode.BILINEAR)
        assert (ours[i : i + 1] - ref).abs().max() < 1e-4

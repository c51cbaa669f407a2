import re

import pytest
import torch

from ae import models
from tests.conftest import ROOT


@pytest.mark.parametrize("name", models.available())
def test_every_model_encodes_flat_and_decodes_images_in_range(name):
    model = models.build(name).eval()
    x = torch.rand(5, 1, 28, 28)
    z = model.encode(x)
    assert z.shape == (5, model.latent_dim)
    x_hat = model.decode(z)
    assert x_hat.shape == (5, 1, 28, 28)
    assert x_hat.min() >= 0 and x_hat.max() <= 1
    assert torch.allclose(model(x), x_hat)
    assert models.origin(name) and "\n" not in models.origin(name)


@pytest.mark.parametrize("name,size", [("conv", 2), ("conv", 128), ("vae", 2), ("pca", 11), ("dense", 64)])
def test_free_code_sizes(name, size):
    model = models.build(name, latent_dim=size)
    assert model.encode(torch.rand(3, 1, 28, 28)).shape == (3, size)


def test_fixed_code_sizes_are_what_the_seeds_had():
    assert models.build("conv_transpose").latent_dim == 7 * 7 * 4
    assert models.build("conv_upsample").latent_dim == 7 * 7 * 4
    assert models.build("keras_conv").latent_dim == 7 * 7 * 32
    assert models.build("stacked").latent_dim == 11
    with pytest.raises(ValueError, match="fixed"):
        models.build("conv_transpose", latent_dim=32)


def _seed_004_table() -> list[tuple[str, tuple[int, ...], int]]:
    """(layer type, output shape, parameters) per row of seed 004's torchsummary table."""
    text = (ROOT.parent / "shared" / "seeds" / "004_5f333ca775a0d87c.txt").read_text()
    rows = re.findall(r"^\|(\w+)-\d+\|\[-1, ([\d, ]+)\]\|([\d,]+)\|$", text, re.M)
    return [(kind, tuple(int(n) for n in shape.split(",")), int(params.replace(",", ""))) for kind, shape, params in rows]


def _layers(model, x) -> list[tuple[str, tuple[int, ...], int]]:
    """What torchsummary prints: every leaf module in the order it runs, its output shape, its parameters."""
    rows, hooks = [], []
    for module in model.modules():
        if not list(module.children()):
            hooks.append(
                module.register_forward_hook(
                    lambda m, _, out: rows.append((type(m).__name__, tuple(out.shape[1:]), sum(p.numel() for p in m.parameters())))
                )
            )
    model(x)
    for hook in hooks:
        hook.remove()
    return rows


def test_conv_bn_elu_is_seed_004_layer_for_layer():
    table = _seed_004_table()
    assert len(table) == 28 and sum(p for _, _, p in table) == 194_499  # the whole table was read
    model = models.build("conv_bn_elu").eval()
    assert _layers(model, torch.rand(2, 1, 28, 28)) == table
    assert model.latent_dim == 128 and models.count_parameters(model) == 194_499


def test_dense_init_follows_the_seed():
    torch.manual_seed(0)
    model = models.build("dense")
    assert model.encoder.bias.abs().sum() == 0
    assert abs(model.encoder.weight.std().item() - 784**-0.5) < 0.002


def test_unknown_architecture_and_setting_are_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        models.build("transformer")
    with pytest.raises(ValueError, match="takes no"):
        models.build("conv", depth=9)


def test_vae_samples_and_its_loss_adds_a_kl_term_to_the_reconstruction_loss():
    torch.manual_seed(0)
    vae = models.build("vae", latent_dim=4).eval()  # eval: the code is the mean, no sampling
    assert vae.generative and vae.sample(6, torch.Generator().manual_seed(0)).shape == (6, 1, 28, 28)
    x = torch.rand(4, 1, 28, 28).round()
    elbo = vae.training_loss(x, x, "elbo")
    assert elbo.item() > models.reconstruction_loss("bce", vae(x), x).item()


@pytest.mark.parametrize("name", models.available())
def test_capabilities_are_declared_and_true(name):
    cls = models.model_class(name)
    assert cls.losses and set(cls.losses) <= {"mse", "bce", "l1", "elbo"}
    assert cls.closed_form == hasattr(cls, "fit") and cls.generative == hasattr(cls, "sample")


def test_pca_reconstructs_its_own_subspace_exactly():
    torch.manual_seed(0)
    basis = torch.linalg.qr(torch.randn(784, 3))[0].T  # 3 orthonormal directions
    x = (0.5 + 0.1 * torch.randn(200, 3) @ basis).clamp(0, 1).view(200, 1, 28, 28)
    model = models.build("pca", latent_dim=3).fit(x)
    assert (model(x) - x).abs().max() < 1e-4


@pytest.mark.parametrize("name", [n for n in models.available() if n != "pca"])
def test_the_inference_copy_gives_the_same_codes_and_pictures(name):
    torch.manual_seed(0)
    model = models.build(name)
    for m in model.modules():  # batch norm with statistics of its own, as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5), m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5), m.bias.data.uniform_(-0.2, 0.2)
    model.eval()
    norms = sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    fast = models.for_inference(model)
    x = torch.rand(5, 1, 28, 28)
    with torch.inference_mode():
        z = model.encode(x)
        assert torch.allclose(fast.encode(x), z, atol=1e-4)
        assert torch.allclose(fast.decode(z), model.decode(z), atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())  # all folded
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == norms  # the original is untouched


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-6), (torch.bfloat16, 1e-2)])
def test_our_elu_is_torchs_forward_and_backward(dtype, tol):
    from ae.models.base import ELU

    x = (torch.randn(4, 8, 9, 9) * 4).to(dtype)
    x[0, 0, 0, :3] = torch.tensor([0.0, -1e-8, 1e-8])  # at and next to the kink
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    grad = torch.randn_like(x)
    ELU()(ours).backward(grad)
    y = torch.nn.ELU()(theirs)
    y.backward(grad)
    assert torch.allclose(ELU()(ours.detach()).float(), y.detach().float(), atol=tol, rtol=tol)
    assert torch.allclose(ours.grad.float(), theirs.grad.float(), atol=tol, rtol=tol)
    assert (ELU()(x[x > 0]) == x[x > 0]).all()  # the positive side untouched

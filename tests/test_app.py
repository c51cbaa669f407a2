"""Every page in AppTest: it renders, and its controls change what it shows."""

import numpy as np
import pytest

from ae import checkpoints
from app_pages import PAGES
from tests.apptools import (
    SEVEN,
    ZERO,
    app,
    drawing,
    images,
    live_value,
    no_exception,
    served,
    served_frame,
    served_mse,
    widget_args,
)
from tests.conftest import ROOT

TINY = {"tiny_conv", "tiny_dense", "tiny_vae2"}


@pytest.fixture(autouse=True)
def lab(monkeypatch, tiny_checkpoints, mnist_dir):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tiny_checkpoints))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


@pytest.mark.parametrize("page", [file for file, _, _ in PAGES])
def test_every_page_renders_without_exception(page):
    at = app(page)
    no_exception(at)
    assert at.sidebar.selectbox(key="model_name").value in TINY


def test_home_shows_the_gallery_and_the_table(tiny_checkpoints):
    at = app()
    assert len(images(at)) == 4  # originals and one row per model
    table = at.dataframe[0].value
    assert set(table["model"]) == TINY
    assert (table["test MSE"] > 0).all() and (table["PCA MSE, same size"] > 0).all()
    for name, count in zip(table["model"], table["parameters"]):  # as trained, as the sidebar and README say
        assert count == checkpoints.load(tiny_checkpoints / f"{name}.safetensors")[1].parameters


def test_draw_leaves_the_pictures_to_the_page_while_it_runs_the_model():
    at = app("draw")
    at.session_state["draw_live"] = live_value(SEVEN)
    at.run()
    no_exception(at)
    assert images(at) == [] and served(at) is None  # the live widget computes and draws them, in the browser


def test_where_the_page_cannot_run_the_model_an_empty_canvas_gets_a_hint():
    at = app("draw")
    at.session_state["draw_live"] = live_value(None, runtime="failed")
    at.run()
    assert any("Draw a digit" in i.value for i in at.info)
    assert images(at) == [] and served(at) is None


def test_where_the_page_cannot_run_the_model_the_server_reconstructs_and_the_picker_changes_it():
    at = app("draw")
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")
    at.run()
    no_exception(at)
    first = served(at)  # the widget paints it, as it paints the page's own (one painter)
    assert images(at) == [] and first["model"] == at.session_state["model_name"]
    assert first["code"].shape == (first["latent_dim"],) and first["meter"]["verdict"].endswith(".")
    assert 0 <= first["output"].min() and first["output"].max() <= 1 and first["input"].max() == 1.0
    other = "tiny_dense" if at.session_state["model_name"] == "tiny_conv" else "tiny_conv"
    at.sidebar.selectbox(key="model_name").set_value(other).run()
    no_exception(at)
    again = served(at)
    assert again["model"] == other and served_mse(at) != float(((first["input"] - first["output"]) ** 2).mean())
    assert (again["input"] == first["input"]).all()  # same input


def test_where_the_page_sent_its_28x28_input_the_server_rebuilds_that_and_not_the_png():
    """The page preprocesses even where it cannot run the model: the server skips decoding the canvas."""
    import base64

    from ae import preprocess
    from tests.apptools import drawing

    zero = preprocess.to_mnist(preprocess.read_image(base64.b64decode(drawing(ZERO)["drawing"]["data"].split(",", 1)[1])))
    at = app("draw")
    mse = {}
    for name, points in (("zero", ZERO), ("seven", SEVEN)):
        at.session_state["draw_live"] = live_value(points, runtime="failed")
        at.run()
        mse[name] = served_mse(at)
    value = live_value(SEVEN, runtime="failed")  # the canvas says seven, the page's input zero (to 1/255)
    at.session_state["draw_live"] = {**value, "input": base64.b64encode((zero * 255).round().astype("uint8").tobytes()).decode()}
    at.run()
    no_exception(at)
    assert abs(served_mse(at) - mse["zero"]) < 2e-4 < abs(mse["seven"] - mse["zero"])


def test_a_new_stroke_changes_the_server_reconstruction():
    at = app("draw")
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")
    at.run()
    seven = served(at)
    at.session_state["draw_live"] = live_value(ZERO, runtime="failed")
    at.run()
    zero = served(at)
    assert (zero["input"] != seven["input"]).any() and (zero["output"] != seven["output"]).any()
    at.session_state["draw_live"] = live_value(None, runtime="failed")  # Clear
    at.run()
    assert served(at) is None


def test_compare_on_the_server_path_rebuilds_with_each_chosen_model():
    at = app("draw")
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")  # the page cannot run them
    at.run()
    at.toggle(key="draw_compare").set_value(True).run()
    chosen = at.multiselect(key="draw_models").value
    assert len(chosen) == 3 and chosen[0] == at.sidebar.selectbox(key="model_name").value  # three code sizes here
    shown = served(at)
    assert list(shown["compare"]) == chosen and (shown["compare"][chosen[0]] == shown["output"]).all()
    assert len({arr.tobytes() for arr in shown["compare"].values()}) == 3  # each its own reconstruction
    at.multiselect(key="draw_models").set_value(chosen[:1]).run()
    assert list(served(at)["compare"]) == chosen[:1]


def test_denoise_slider_kind_and_seed_change_the_noisy_digit():
    at = app("denoise")
    no_exception(at)
    base = images(at)
    assert len(base) == 4  # clean, noisy, chosen model, the one compared with
    at.slider(key="denoise_level").set_value(0.8).run()
    louder = images(at)
    assert louder[0] == base[0] and louder[1] != base[1] and louder[2] != base[2]
    at.radio(key="denoise_kind").set_value("mask").run()
    assert images(at)[1] != louder[1]
    at.number_input(key="denoise_seed").set_value(5).run()
    assert images(at)[1][1] != louder[1][1]


def test_denoise_digit_class_choice_is_followed():
    from ae import data

    _, labels = data.load_mnist(False)
    at = app("denoise")
    at.selectbox(key="denoise_class").set_value(4).run()
    assert labels[at.session_state["denoise_index"]] == 4
    at.button(key="denoise_next").click().run()
    no_exception(at)
    assert labels[at.session_state["denoise_index"]] == 4


def test_denoise_from_a_drawing():
    at = app("denoise")
    at.segmented_control(key="denoise_source").set_value("Draw").run()
    assert any("Pick a test digit or draw" in i.value for i in at.info)
    at.session_state["denoise_canvas_0"] = drawing(SEVEN)
    at.run()
    no_exception(at)
    assert len(images(at)) == 4


def test_where_the_page_cannot_decode_the_server_decodes_the_interpolation_frame_at_the_slider():
    at = app("interpolate")
    no_exception(at)
    assert served_frame(at, "interp_live") is None  # the page decodes it
    at.session_state["interp_live"] = {"runtime": "failed", "reason": "no WebAssembly"}
    at.run()
    middle = served_frame(at, "interp_live")
    at.session_state["interp_live"] = {"runtime": "failed", "reason": "no WebAssembly", "t": 0.0}  # let go at 0
    at.run()
    start = served_frame(at, "interp_live")
    at.radio(key="interp_method").set_value("spherical").run()
    no_exception(at)
    assert middle[0] == 0.5 and start[0] == 0.0 and not np.allclose(middle[1], start[1])
    assert np.allclose(served_frame(at, "interp_live")[1], start[1], atol=1e-6)  # both paths start at A's code
    assert 0 <= start[1].min() and start[1].max() <= 1
    assert not [c for c, _ in images(at) if c.startswith("decode at t")]  # the widget paints it: no picture of the server's own
    assert at.session_state["interp_live_t"] == 0.0  # and the link keeps it
    at.slider(key="interp_steps").set_value(5).run()
    assert len(at.get("download_button")) == 2


def test_interpolation_between_two_drawings():
    at = app("interpolate")
    at.segmented_control(key="interp_a_source").set_value("Draw").run()
    at.segmented_control(key="interp_b_source").set_value("Draw").run()
    assert any("both digits" in i.value for i in at.info)
    at.session_state["interp_a_canvas_0"] = drawing(SEVEN)
    at.session_state["interp_b_canvas_0"] = drawing(ZERO)
    at.run()
    no_exception(at)
    assert any("Through the code space" in m.value for m in at.markdown)


def test_pages_without_mnist_say_how_to_get_it_and_drawing_still_works(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "no-mnist"))
    at = app()
    no_exception(at)
    assert any("python -m ae.download" in i.value for i in at.info)
    at = app("draw")
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")
    at.run()
    shown = served(at)  # input, reconstruction, code, where its error and its code fall: the widget paints them
    assert shown["output"].shape == (28, 28) and len(shown["meter"]["captions"]) == 2
    for page in ("denoise", "interpolate", "explore", "train"):
        at = app(page)
        no_exception(at)
        assert any("MNIST digits are not on this server" in i.value for i in at.info), page
        assert any(b.label == "Download MNIST (11 MB)" for b in at.button), page


def test_the_download_button_fetches_mnist_and_the_page_fills_in(monkeypatch, tmp_path, mnist_dir):
    import gzip
    import http.server
    import threading

    from ae import download

    class Mirror(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = gzip.compress((mnist_dir / "MNIST" / "raw" / self.path.strip("/").removesuffix(".gz")).read_bytes(), 1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Mirror)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MNIST_MIRRORS", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "fresh"))
    at = app("denoise")
    assert not images(at)
    next(b for b in at.button if b.label.startswith("Download MNIST")).click().run()
    server.shutdown()
    no_exception(at)
    assert (tmp_path / "fresh" / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file()
    assert len(images(at)) == 4 and not any("not on this server" in i.value for i in at.info)
    assert set(download.MD5) == {p.name for p in (tmp_path / "fresh" / "MNIST" / "raw").iterdir()}


def test_a_failed_download_says_so_and_changes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_MIRRORS", "http://127.0.0.1:9/")  # nothing listens there: offline
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "offline"))
    at = app("explore")
    next(b for b in at.button if b.label.startswith("Download MNIST")).click().run()
    no_exception(at)
    assert any("The download failed" in e.value for e in at.error)
    assert not (tmp_path / "offline" / "MNIST" / "raw" / "t10k-images-idx3-ubyte").exists()


def test_with_training_off_the_train_page_only_shows_the_runs(monkeypatch):
    from ae import jobs
    from ae.train_config import TrainConfig

    monkeypatch.setenv("AE_TRAINING", "off")
    at = app("train")
    no_exception(at)
    assert any("Training is turned off on this server" in i.value for i in at.info)
    assert not at.get("form_submit_button")
    assert set(at.dataframe[0].value["model"]) == TINY
    with pytest.raises(jobs.JobError, match="turned off"):
        jobs.manager.start(TrainConfig(model="dense", epochs=1), "sneaky", "/tmp")


@pytest.mark.parametrize("page", [file for file, _, _ in PAGES])
def test_no_page_shows_a_server_path(page, tiny_checkpoints, mnist_dir):
    at = app(page)
    texts = [str(getattr(e, "value", "")) for e in [*at.main, *at.sidebar]] + [str(getattr(e, "label", "")) for e in at.main]
    for secret in (str(tiny_checkpoints), str(mnist_dir.resolve()), str(ROOT)):
        assert not any(secret in t for t in texts), (page, secret)


def test_streamlit_refuses_uploads_over_the_size_the_lab_refuses():
    import tomllib

    from ae import preprocess

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 2**20 == preprocess.MAX_BYTES  # Streamlit counts MiB


def test_no_models_gives_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tmp_path))
    for page, _, _ in PAGES:
        at = app(None if page == "home" else page)
        no_exception(at)
        assert at.warning, page


def test_a_broken_checkpoint_is_listed_with_its_reason_and_the_rest_works(monkeypatch, tmp_path, tiny_checkpoints):
    import shutil

    shutil.copytree(tiny_checkpoints, tmp_path, dirs_exist_ok=True)
    (tmp_path / "broken.safetensors").write_bytes(b"\x00" * 100)
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tmp_path))
    at = app("draw")
    no_exception(at)
    assert at.sidebar.expander[0].label.startswith("1 checkpoint")
    assert "broken" not in at.sidebar.selectbox(key="model_name").options


def test_explore_maps_the_codes_and_a_2d_vae_gets_the_grid_and_samples():
    at = app("explore")
    at.sidebar.selectbox(key="model_name").set_value("tiny_conv").run()
    no_exception(at)
    assert at.get("plotly_chart")
    assert not any("grid" in s.value for s in at.subheader)  # tiny_conv: 8-d
    at.sidebar.selectbox(key="model_name").set_value("tiny_vae2").run()
    no_exception(at)
    assert any("grid across the code plane" in s.value for s in at.subheader)
    samples = images(at)[-1]
    at.button(key="explore_sample").click().run()
    assert images(at)[-1] != samples
    at.select_slider(key="explore_count").set_value(500).run()
    no_exception(at)


@pytest.mark.parametrize("point", [[9e9, 0.0], ["a", 1], [0.1], None, [float("nan"), 0.0]])
def test_where_the_page_cannot_decode_a_click_on_the_code_plane_is_decoded_by_the_server(point):
    at = app("explore")
    at.sidebar.selectbox(key="model_name").set_value("tiny_vae2").run()
    lo, hi = (np.array(v) for v in (widget_args(at, "explore_live")[k] for k in ("lo", "hi")))  # the plane the map shows
    middle, corner = ((lo + hi) / 2).tolist(), (lo + (hi - lo) / 8).tolist()
    at.session_state["explore_live"] = {"runtime": "failed", "reason": "no WebAssembly", "point": middle}
    at.run()
    z, centre = served_frame(at, "explore_live")
    at.session_state["explore_live"] = {"runtime": "failed", "reason": "no WebAssembly", "point": corner}
    at.run()
    assert z == middle and not np.allclose(served_frame(at, "explore_live")[1], centre)
    at.session_state["explore_live"] = {"runtime": "failed", "reason": "no WebAssembly", "point": point}
    at.run()  # off the plane, or not a point: nothing decoded, nothing broken
    no_exception(at)
    assert served_frame(at, "explore_live") is None


@pytest.mark.slow
def test_train_page_starts_a_job_and_shows_the_new_model(monkeypatch, tmp_path, tiny_checkpoints):
    import shutil
    import time

    from ae import jobs

    shutil.copytree(tiny_checkpoints, tmp_path, dirs_exist_ok=True)
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tmp_path))
    at = app("train")
    at.selectbox(key="train_arch").set_value("dense").run()
    at.number_input(key="train_epochs").set_value(1)
    at.number_input(key="train_limit").set_value(1000)
    next(t for t in at.text_input if t.label == "Save as").set_value("from-the-page")
    next(b for b in at.get("form_submit_button") if b.label == "Start training").click().run()
    no_exception(at)
    job = jobs.manager.current
    assert job is not None and job.name == "from-the-page"
    deadline = time.time() + 90
    while job.running and time.time() < deadline:
        time.sleep(0.1)
    assert job.state == "done", job.message
    at.run()
    no_exception(at)
    assert any(o.startswith("from-the-page ·") for o in at.sidebar.selectbox(key="model_name").options)
    assert list(at.dataframe[-1].value["name"]) == ["from-the-page"]
    assert any("from-the-page" in s.value and "Finished" in s.value for s in at.success)


@pytest.mark.parametrize(
    "value",
    [
        {"png": [1, 2], "strokes": 1, "runtime": "failed"},
        {"png": 7, "strokes": True, "runtime": "failed"},
        {"png": {"a": 1}, "runtime": "failed"},
        {"png": True, "runtime": "failed", "reason": ["x"] * 1000},
        {"input": 5, "code": [[1, 2], "x"], "shares": ["a", None], "runtime": "ok"},
        [1, 2, 3],
        "a string",
    ],
)
def test_a_draw_value_of_the_wrong_kind_is_ignored_and_the_next_stroke_works(value):
    at = app("draw")
    at.session_state["draw_live"] = value
    at.run()
    no_exception(at)
    at.session_state["draw_live"] = live_value(SEVEN, runtime="failed")  # the next stroke, on the server path
    at.run()
    no_exception(at)
    assert served(at)["output"].shape == (28, 28)  # the server's reconstruction, for the widget


@pytest.mark.parametrize("value", [{"t": "abc"}, {"t": None}, {"t": float("nan")}, {"t": 7}, [0.5], None])
def test_an_interpolate_value_of_the_wrong_kind_is_ignored(value):
    at = app("interpolate")
    at.session_state["interp_live"] = (
        {"runtime": "failed", **(value if isinstance(value, dict) else {})} if isinstance(value, dict) else value
    )
    at.run()
    no_exception(at)


def test_a_clients_clear_cache_leaves_the_servers_shared_state():
    """Any websocket client may send Streamlit's clear_cache message, which empties Streamlit's
    caches for every session: the models, MNIST, the codes and the class's store live elsewhere."""
    from streamlit.runtime import caching

    from ae.ui import catalog, classroom, inputs

    no_exception(app("explore"))
    shared = [catalog._load, catalog._digit_map, inputs._test_digits]
    before = [f.cache_info().currsize for f in shared], classroom.store()
    assert all(before[0])
    caching.cache_data.clear()  # what the server does for a client's clear_cache (AppSession._handle_clear_cache_request)
    caching.cache_resource.clear()
    assert ([f.cache_info().currsize for f in shared], classroom.store()) == before


def test_without_torch_the_train_page_says_what_to_install(monkeypatch):
    from ae import runtime

    monkeypatch.delenv("AE_TRAINING", raising=False)
    monkeypatch.setattr(runtime, "torch_installed", lambda: False)
    at = app("train")
    no_exception(at)
    (said,) = [i.value for i in at.info if "PyTorch" in i.value]
    assert "requirements-train.txt" in said and not at.get("form")  # no form to start a run with

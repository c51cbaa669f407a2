"""A lesson in a link: every view in its URL (AppTest, and a fresh Chromium), a bad parameter's one
line, the guided lesson walked forward and back, compare mode live during a stroke, ?present=1."""

import pytest

from tests.apptools import SEVEN, app, images, link_notes, live_value, no_exception, served


@pytest.fixture
def lab(monkeypatch, tiny_checkpoints, mnist_dir):
    monkeypatch.setenv("AE_CHECKPOINT_DIR", str(tiny_checkpoints))
    monkeypatch.setenv("MNIST_DIR", str(mnist_dir))


def _opened(page: str, **params):
    """The app opened at a page's link, as a fresh session does."""
    at = app()
    at.query_params.update({k: str(v) for k, v in params.items()})
    if page != "home":
        at.switch_page(f"app_pages/{page}.py")
    at.run()
    no_exception(at)
    return at


def _said(at) -> str:
    """What the page said of its link (the line of what could not be used)."""
    return "\n".join(e.value for e in at.info if "link" in e.value)


@pytest.mark.parametrize(
    "page, params, check",
    [
        (
            "denoise",
            {"model": "tiny_dense", "noise": "mask", "level": 0.7, "seed": 5, "class": 3, "digit": 30},
            lambda at: (
                (
                    at.radio(key="denoise_kind").value,
                    at.slider(key="denoise_level").value,
                    at.number_input(key="denoise_seed").value,
                    at.selectbox(key="denoise_class").value,
                    at.session_state["denoise_index"],
                )
                == ("mask", 0.7, 5, 3, 30)
            ),
        ),
        (
            "interpolate",
            {"path": "spherical", "t": 0.8, "a_class": 2, "b_source": "MNIST", "b_digit": 7},
            lambda at: (
                (
                    at.radio(key="interp_method").value,
                    at.session_state["interp_live_t"],
                    at.selectbox(key="interp_a_class").value,
                    at.session_state["interp_b_index"],
                )
                == ("spherical", 0.8, 2, 7)
            ),
        ),
        (
            "explore",
            {"count": 1000, "digit": 17},
            lambda at: at.select_slider(key="explore_count").value == 1000 and any("Test digit #17" in m.value for m in at.markdown),
        ),
        ("compress", {"bits": "2,3", "digit": 5}, lambda at: at.session_state["compress_bits"] == [2, 3]),
        (
            "draw",
            {"compare": 1, "models": "tiny_dense,tiny_vae2"},
            lambda at: at.toggle(key="draw_compare").value and at.multiselect(key="draw_models").value == ["tiny_dense", "tiny_vae2"],
        ),
        ("lesson", {"step": 4}, lambda at: "step 4 of 6" in at.title[0].value),
    ],
)
def test_a_link_restores_the_view_and_the_url_follows_the_page(lab, page, params, check):
    at = _opened(page, **params)
    assert check(at), page
    assert _said(at) == ""  # nothing to complain about
    for name, value in params.items():  # what the page writes back is the same view
        assert at.query_params[name] == str(value), name


def test_the_link_follows_a_change_and_a_fresh_session_opens_it(lab):
    at = _opened("denoise")
    at.slider(key="denoise_level").set_value(0.25).run()
    at.radio(key="denoise_kind").set_value("salt_pepper").run()
    kept = dict(at.query_params)
    assert kept["level"] == "0.25" and kept["noise"] == "salt_pepper" and kept["model"]
    again = _opened("denoise", **kept)
    assert again.slider(key="denoise_level").value == 0.25 and again.radio(key="denoise_kind").value == "salt_pepper"
    assert images(again) == images(at)  # the same pictures: the same digit, noise and models


@pytest.mark.parametrize(
    "page, params, blamed",
    [
        ("denoise", {"level": "7", "noise": "fog", "seed": "-1"}, ["level", "noise", "seed"]),
        ("denoise", {"model": "gone", "digit": "99999"}, ["model", "digit"]),
        ("interpolate", {"t": "nan", "path": "curvy"}, ["t", "path"]),
        ("explore", {"count": "7", "digit": "x"}, ["count", "digit"]),
        ("draw", {"models": "tiny_dense,nope", "compare": "yes"}, ["models", "compare"]),
        ("lesson", {"step": "9"}, ["step"]),
    ],
)
def test_a_bad_or_stale_parameter_falls_back_with_one_line(lab, page, params, blamed):
    at = _opened(page, **params)
    (line,) = link_notes(at)  # one line
    for name in blamed:
        assert f"{name}:" in line


PHISHING = "[Log in to your class](https://example.invalid/login) ![t](https://example.invalid/t.png)"


@pytest.mark.parametrize("page, name", [("draw", "model"), ("denoise", "model"), ("denoise", "against"), ("explore", "count")])
def test_a_link_parameter_is_shown_as_text_never_as_a_link_or_a_picture(lab, page, name):
    at = _opened(page, **{name: PHISHING})
    (line,) = link_notes(at)
    assert f"{name}:" in line and "[Log in" in line  # quoted as text
    shown = [e.value for e in at.main if type(e).__name__ == "Html"]
    assert not any('href="https://example.invalid' in v or 'src="https://example.invalid' in v for v in shown)
    assert not any("example.invalid" in e.value for e in [*at.markdown, *at.info, *at.caption])  # no markdown renders it


def test_a_link_that_repeats_a_choice_a_thousand_times_is_refused_at_once(lab):
    import time

    began = time.perf_counter()
    at = _opened("compress", bits=",".join(["8", "4"] * 1000))
    assert time.perf_counter() - began < 20  # the page's own work, not 2,000 budgets
    (line,) = link_notes(at)
    assert "bits:" in line and len(line) < 300


def test_the_copy_button_holds_this_views_link_and_not_who_copied_it(lab):
    at = _opened("denoise", level=0.6, me="student-token-1", teacher="teacher-key-1")
    copied = at.code[0].value
    assert "level=0.6" in copied and "model=" in copied
    assert "student-token-1" not in copied and "teacher-key-1" not in copied  # whoever opens it is not that student or teacher


def test_the_lesson_has_six_steps_each_with_a_question_and_its_full_page(lab):
    at = _opened("lesson")
    for step in range(1, 7):
        no_exception(at)
        assert f"step {step} of 6" in at.title[0].value
        assert any("Ask the class:" in e.value for e in at.info)
        assert at.query_params["step"] == str(step)
        if step < 6:
            at.button(key="lesson_next").click().run()
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_back").click().run()
    assert "step 5 of 6" in at.title[0].value


def test_the_lessons_canvases_have_the_draw_pages_server_path(lab):
    at = _opened("lesson")
    at.session_state["lesson_rebuild"] = live_value(SEVEN, runtime="failed")  # the page cannot run the model
    at.run()
    no_exception(at)
    shown = served(at, "lesson_rebuild")  # computed here, for the widget to paint
    assert shown["output"].shape == (28, 28) and shown["input"].max() == 1.0
    at.session_state["lesson_rebuild"] = live_value(SEVEN)  # it can: the server computes nothing
    at.run()
    assert served(at, "lesson_rebuild") is None


@pytest.mark.slow
def test_the_url_names_the_next_step_before_the_step_is_drawn(tiny_checkpoints, mnist_dir):
    """A browser sends its URL with each click: a Next clicked as soon as the step's title shows must
    carry that step's link, not the last one, or the page takes it for a new link and goes back."""
    from tests.harness import appserver
    from tests.harness.streamlit_client import StreamlitSession

    with appserver.serve({"AE_CHECKPOINT_DIR": str(tiny_checkpoints), "MNIST_DIR": str(mnist_dir)}) as url:
        session = StreamlitSession(url)
        run = session.rerun(page="lesson", query="step=2")
        session.query = run.links[-1][1]  # the link as the page wrote it (the model added)
        for step in (3, 4):
            run = session.rerun(click=run.by_label("Next").id)
            (before, link), title = run.links[0], run.drawn.index("heading")
            assert f"step={step}" in link and before <= title, (run.links, run.drawn)
            session.query = link  # what the browser's address bar holds from then on
        session.close()


# ---- in a browser ----------------------------------------------------------------------------------


@pytest.mark.browser
def test_links_open_their_views_in_a_fresh_browser_and_the_lesson_walks_both_ways(shipped_app):
    from tests.harness import appserver

    url, b = shipped_app
    page = appserver.open_page(b, url, "denoise?model=conv2&noise=mask&level=0.75")
    assert page.get_by_role("combobox", name="Model").input_value().startswith("conv2")
    assert page.get_by_role("radio", name="Masking").is_checked()
    assert page.get_by_role("slider", name="Noise level").input_value() == "0.75"
    page.close()
    page = appserver.open_page(b, url, "lesson?step=2")
    page.get_by_role("heading", name="Lesson, step 2 of 6: The bottleneck").wait_for()
    for step, title in [(3, "Cleaning noise"), (4, "Walking between two digits")]:
        page.get_by_role("button", name="Next").click()
        page.get_by_role("heading", name=f"Lesson, step {step} of 6: {title}").wait_for()
    page.get_by_role("button", name="Back").click()
    page.get_by_role("heading", name="Lesson, step 3 of 6: Cleaning noise").wait_for()
    assert "step=3" in page.url
    page.close()


@pytest.mark.browser
def test_compare_mode_rebuilds_the_stroke_with_four_models_while_it_is_drawn(shipped_app):
    from bench import live
    from tests.harness import appserver

    url, b = shipped_app
    page = appserver.open_page(b, url, f"draw?compare=1&models={','.join(live.COMPARED)}")
    frame = appserver.live_frame(page)
    frame.wait_for_function(
        "() => window.aeLive.compare.entries.length === 4 && window.aeLive.compare.entries.every((e) => e.model)", timeout=60_000
    )
    counts = "() => Array.from(document.querySelectorAll('.compare-row canvas')).map((c) => Number(c.dataset.painted || 0))"
    seen = {}
    appserver.draw(
        page, appserver.SEVEN, canvas=frame.locator("canvas.ink"), steps=12, during=lambda p: seen.update(during=frame.evaluate(counts))
    )
    assert all(n >= 3 for n in seen["during"])  # each of the four redrawn again and again before the pen lifted
    captions = frame.evaluate("Array.from(document.querySelectorAll('.compare-row figcaption')).map((f) => f.textContent)")
    assert [c.split(" · ")[0] for c in captions] == live.COMPARED and all("MSE" in c for c in captions)
    page.close()


@pytest.mark.browser
def test_present_mode_folds_the_sidebar_and_hides_streamlits_toolbar(shipped_app):
    from tests.harness import appserver

    url, b = shipped_app
    page = appserver.open_page(b, url, "lesson?step=1&present=1")
    assert page.locator("[data-testid='stSidebar']").get_attribute("data-collapsed") == "true"
    page.locator("[data-testid='stToolbar']").wait_for(state="hidden", timeout=15_000)  # the page's style, once it has come
    assert page.get_by_text("Copy a link to this view").count() == 0
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector(\"[data-testid='stMain']\")).fontSize)")
    page.close()
    plain = appserver.open_page(b, url, "lesson?step=1")
    assert plain.locator("[data-testid='stSidebar']").get_attribute("data-collapsed") == "false"
    assert size > float(plain.evaluate("parseFloat(getComputedStyle(document.querySelector(\"[data-testid='stMain']\")).fontSize)"))
    plain.close()

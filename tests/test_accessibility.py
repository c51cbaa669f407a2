"""Every page passes axe-core's WCAG 2 A and AA rules in Chromium, the live widgets' frames too:
every picture says what it shows, and text keeps its contrast. axe-core is vendored from npm."""

import hashlib
import json

import pytest

from app_pages import PAGES
from tests.conftest import ROOT
from tests.harness import appserver

pytestmark = pytest.mark.browser
AXE = ROOT / "tests" / "vendor" / "axe-core"
RUN_AXE = """async () => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});
  return result.violations.map(v => `${v.id}: ${v.nodes.length} (${v.nodes[0].target.join(' ')})`);
}"""


def test_the_vendored_axe_is_the_recorded_npm_release():
    record = json.loads((AXE / "VENDOR.json").read_text())
    data = (AXE / "axe.min.js").read_bytes()
    assert record["package"] == "axe-core" and hashlib.sha256(data).hexdigest() == record["files"]["axe.min.js"]["sha256"]


def _violations(target) -> list[str]:
    target.add_script_tag(path=str(AXE / "axe.min.js"))
    return target.evaluate(RUN_AXE)


@pytest.mark.parametrize("file", [file for file, _, _ in PAGES])
def test_every_page_passes_axe(shipped_app, file):
    url, b = shipped_app
    page = appserver.open_page(b, url, "" if file == "home" else file)
    page.wait_for_timeout(1000)  # pictures and charts settle
    found = _violations(page)
    for i in range(page.locator(appserver.LIVE).count()):
        found += [f"live widget: {v}" for v in _violations(appserver.live_frame(page, i))]
    page.close()
    assert found == []


def test_explore_with_a_2d_model_passes_axe(shipped_app):
    from bench.live import choose_model

    url, b = shipped_app
    page = appserver.open_page(b, url, "explore")
    choose_model(page, "conv2")
    page.get_by_text("The decoder's whole world").wait_for()
    found = _violations(page) + _violations(appserver.live_frame(page))
    page.close()
    assert found == []


def test_the_teachers_view_and_a_students_page_in_a_class_pass_axe(shipped_app):
    import numpy as np

    from ae import rooms

    url, b = shipped_app
    store = rooms.open_store()  # the server's: conftest names it for the whole test run
    room, secret = store.create("conv32", 32)
    for i in range(3):
        store.add(room.code, f"s{i}", f"student {i}", np.eye(28, dtype=np.uint8) * 255, np.full(32, float(i)), (0.2 * i, 0.3))
    teacher = appserver.open_page(b, url, f"class?room={room.code}&teacher={secret}")
    appserver.live_frame(teacher).wait_for_function("() => window.aeLive.drawings.length === 3")
    student = appserver.open_page(b, url, f"draw?room={room.code}")
    student.get_by_text("You are in class").first.wait_for()  # step 0's (the lesson's steps, hidden, say it too)
    found = []
    for page in (teacher, student):
        found += _violations(page)
        found += [f"live widget: {v}" for v in _violations(appserver.live_frame(page))]
        page.close()
    assert found == []

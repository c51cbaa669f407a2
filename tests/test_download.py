"""Fetching MNIST for real, from a local HTTP server that plays the mirror: a good fetch, a file
damaged on the way, and a connection cut in the middle."""

import gzip
import hashlib
import http.server
import threading

import pytest

from ae import data, download


@pytest.fixture(scope="module")
def packed(mnist_dir):
    """The four idx files gzipped, as the mirrors serve them."""
    raw = mnist_dir / "MNIST" / "raw"
    return {f"{name}.gz": gzip.compress((raw / name).read_bytes(), compresslevel=1) for name in download.MD5}


@pytest.fixture
def mirror(packed, monkeypatch):
    """A mirror on localhost; `mirror.faults[name] = "damaged" | "cut"` spoils one file."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.rsplit("/", 1)[-1]
            body = packed.get(name)
            if body is None:
                self.send_error(404)
                return
            fault = server.faults.get(name)
            if fault == "damaged":  # valid gzip, wrong content: one byte of the digits changed
                content = bytearray(gzip.decompress(body))
                content[len(content) // 2] ^= 0xFF
                body = gzip.compress(bytes(content), compresslevel=1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 3] if fault == "cut" else body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.faults = {}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MNIST_MIRRORS", f"http://127.0.0.1:{server.server_port}/")
    yield server
    server.shutdown()


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_a_good_fetch_gives_the_four_files_that_load(mirror, tmp_path):
    seen = []
    raw = download.fetch(tmp_path, progress=lambda name, done, total: seen.append((name, done, total)))
    assert {p.name: _md5(p) for p in raw.iterdir()} == download.MD5
    images, labels = data.load_mnist(False, tmp_path)
    assert images.shape == (10_000, 1, 28, 28) and len(labels) == 10_000
    assert {name for name, _, _ in seen} == set(download.MD5) and all(done <= total for _, done, total in seen)
    assert download.main(["--data-dir", str(tmp_path)]) == 0  # there already: nothing to do


def test_a_damaged_file_is_refused_and_nothing_of_it_is_left(mirror, tmp_path):
    mirror.faults["t10k-labels-idx1-ubyte.gz"] = "damaged"
    with pytest.raises(download.DownloadError, match="t10k-labels-idx1-ubyte.*MD5.*refused"):
        download.fetch(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    assert not (raw / "t10k-labels-idx1-ubyte").exists()
    assert not list(raw.glob("*.part"))
    assert not data.mnist_available(tmp_path)


def test_an_interrupted_fetch_leaves_nothing_and_the_next_run_starts_clean(mirror, tmp_path):
    mirror.faults["train-images-idx3-ubyte.gz"] = "cut"
    assert download.main(["--data-dir", str(tmp_path)]) == 1
    raw = tmp_path / "MNIST" / "raw"
    assert not (raw / "train-images-idx3-ubyte").exists() and not list(raw.glob("*.part"))
    (raw / "train-images-idx3-ubyte.gz.part").write_bytes(b"left by a process that was killed")
    mirror.faults.clear()
    download.fetch(tmp_path)
    assert data.mnist_available(tmp_path) and not list(raw.glob("*.part"))
    assert _md5(raw / "train-images-idx3-ubyte") == download.MD5["train-images-idx3-ubyte"]


def test_a_dead_mirror_is_passed_over_for_the_next(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_MIRRORS", f"http://127.0.0.1:9/ http://127.0.0.1:{mirror.server_port}/")
    download.fetch(tmp_path)
    assert data.mnist_available(tmp_path)

"""The tests' tiny models are kept between runs of `make test-fast` only while nothing they are
made of changes (tests/harness/tiny.py)."""

import shutil

from tests.harness import tiny


def test_the_tiny_models_cache_key_follows_the_library_this_file_and_mnist(tmp_path):
    root, mnist = tmp_path / "repo", tmp_path / "mnist"
    (root / "ae" / "models").mkdir(parents=True)
    (root / "tests" / "harness").mkdir(parents=True)
    shutil.copy(tiny.__file__, root / "tests" / "harness" / "tiny.py")
    (root / "ae" / "models" / "conv.py").write_text("WIDTH = 8\n")
    (mnist / "raw").mkdir(parents=True)
    (mnist / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"x" * 10)
    first = tiny.key(mnist, root)
    assert tiny.key(mnist, root) == first
    changes = [
        lambda: (root / "ae" / "models" / "conv.py").write_text("WIDTH = 16\n"),
        lambda: (root / "ae" / "new.py").write_text(""),
        lambda: (root / "tests" / "harness" / "tiny.py").write_text("# another recipe\n"),
        lambda: (mnist / "raw" / "t10k-images-idx3-ubyte").write_bytes(b"x" * 11),
    ]
    seen = {first}
    for change in changes:
        change()
        assert tiny.key(mnist, root) not in seen
        seen.add(tiny.key(mnist, root))

"""Vendor onnxruntime-web's WebAssembly runtime into ae/live/frontend/ort/ from the npm registry.

    python scripts/vendor_ort.py [--version 1.30.0]

Takes the two files the page needs from the npm package: the ES-module bundle and the SIMD
WebAssembly binary, stored gzipped (zopfli when it is installed, else gzip -9) because the page
downloads it compressed and unpacks it itself. VENDOR.json records the version and the SHA-256 of
each file (and of the binary before compression); tests/test_live.py checks them.
"""

import argparse
import gzip
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "ae" / "live" / "frontend" / "ort"
BUNDLE = "ort.wasm.bundle.min.mjs"
WASM = "ort-wasm-simd-threaded.wasm"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compress(data: bytes) -> bytes:
    try:
        import zopfli.gzip

        return zopfli.gzip.compress(data, numiterations=5)
    except ImportError:
        return gzip.compress(data, compresslevel=9, mtime=0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", default="1.30.0")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"onnxruntime-web@{args.version}", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("onnxruntime-web-*.tgz")
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp, filter="data")
        dist = Path(tmp) / "package" / "dist"
        package = json.loads((Path(tmp) / "package" / "package.json").read_text())
        bundle, wasm = (dist / BUNDLE).read_bytes(), (dist / WASM).read_bytes()
    shutil.rmtree(TARGET, ignore_errors=True)
    TARGET.mkdir(parents=True)
    packed = compress(wasm)
    (TARGET / BUNDLE).write_bytes(bundle)
    (TARGET / f"{WASM}.gz").write_bytes(packed)
    record = {
        "package": "onnxruntime-web",
        "version": package["version"],
        "license": package.get("license"),
        "source": f"npm pack onnxruntime-web@{package['version']}",
        "files": {
            BUNDLE: {"bytes": len(bundle), "sha256": sha256(bundle)},
            f"{WASM}.gz": {"bytes": len(packed), "sha256": sha256(packed), "unpacked_sha256": sha256(wasm), "unpacked_bytes": len(wasm)},
        },
    }
    (TARGET / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"vendored onnxruntime-web {package['version']} into {TARGET.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

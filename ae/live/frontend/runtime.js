// onnxruntime-web in the page: the vendored runtime and each model's files, fetched once and kept
// in IndexedDB (a reload downloads nothing), unpacked here, run on one WebAssembly thread.

const HERE = new URL("./", import.meta.url);
const DB_NAME = "ae-lab-live";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("files");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function inStore(db, mode, act) {
  return new Promise((resolve, reject) => {
    const request = act(db.transaction("files", mode).objectStore("files"));
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

let dbPromise = null;

// The bytes at a URL whose content never changes (its name carries a version or a hash).
export async function cachedBytes(url) {
  dbPromise ??= openDb().catch(() => null); // no IndexedDB (a private window): the network each time
  const db = await dbPromise;
  if (db) {
    const hit = await inStore(db, "readonly", (s) => s.get(url)).catch(() => undefined);
    if (hit) return new Uint8Array(hit);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.split("/").pop()}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (db) inStore(db, "readwrite", (s) => s.put(bytes.buffer, url)).catch(() => {});
  return bytes;
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// ae/export.py's pack, undone: four byte lanes back into 4-byte groups.
export function unshuffle(data) {
  const whole = data.length - (data.length % 4), lane = whole / 4, out = new Uint8Array(data.length);
  for (let i = 0; i < lane; i++) {
    out[4 * i] = data[i];
    out[4 * i + 1] = data[lane + i];
    out[4 * i + 2] = data[2 * lane + i];
    out[4 * i + 3] = data[3 * lane + i];
  }
  out.set(data.subarray(whole), whole);
  return out;
}

let ortPromise = null;

// The runtime, started once per page; rejects with a sentence a person can read.
export function loadRuntime(version) {
  ortPromise ??= (async () => {
    if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
    if (typeof DecompressionStream !== "function") throw new Error("this browser cannot unpack the runtime");
    const [code, wasm] = await Promise.all([
      cachedBytes(new URL(`ort/ort.wasm.bundle.min.mjs?v=${version}`, HERE).href),
      cachedBytes(new URL(`ort/ort-wasm-simd-threaded.wasm.gz?v=${version}`, HERE).href),
    ]);
    const ort = await import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a Streamlit page lacks
    ort.env.wasm.wasmBinary = await gunzip(wasm);
    ort.env.logLevel = "error";
    return ort;
  })();
  return ortPromise;
}

const models = new Map();

// A model's encoder and decoder sessions, by the digest of its checkpoint.
export function loadModel(version, spec) {
  if (!models.has(spec.digest)) {
    models.set(spec.digest, (async () => {
      const ort = await loadRuntime(version);
      const session = async (name) => {
        const packed = await cachedBytes(new URL(spec[name], HERE).href);
        return ort.InferenceSession.create(unshuffle(await gunzip(packed)), { executionProviders: ["wasm"] });
      };
      const meter = (async () => JSON.parse(new TextDecoder().decode(await gunzip(await cachedBytes(new URL(spec.meter, HERE).href)))))()
        .catch(() => null); // the model works without its meter
      const [encoder, decoder] = await Promise.all([session("encoder"), session("decoder")]);
      return new Model(ort, spec, encoder, decoder, await meter);
    })());
    models.get(spec.digest).catch(() => models.delete(spec.digest)); // a failure may be retried later
  }
  return models.get(spec.digest);
}

class Model {
  constructor(ort, spec, encoder, decoder, meter) {
    Object.assign(this, { ort, spec, encoder, decoder, meter }); // meter: ae/novelty.py's for_the_page, or null
    this.latentDim = spec.latent_dim;
    this.queue = Promise.resolve(); // one run at a time per session
  }

  run(session, feeds, output) {
    const next = this.queue.then(() => session.run(feeds)).then((out) => out[output].data);
    this.queue = next.catch(() => {});
    return next;
  }

  // (784,) pixels in [0, 1] -> (latentDim,) code
  encode(pixels) {
    return this.run(this.encoder, { image: new this.ort.Tensor("float32", Float32Array.from(pixels), [1, 1, 28, 28]) }, "code");
  }

  // (latentDim,) code -> (784,) pixels in [0, 1]
  decode(code) {
    return this.run(this.decoder, { code: new this.ort.Tensor("float32", Float32Array.from(code), [1, this.latentDim]) }, "image");
  }
}

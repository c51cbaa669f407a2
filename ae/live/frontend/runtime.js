// onnxruntime-web in the page: the vendored runtime and each model's files, kept in IndexedDB once
// they have worked (a reload downloads nothing, and a school filter's page that stood in for a
// file is never kept), unpacked here, run on one WebAssembly thread of the page's.

const HERE = new URL("./", import.meta.url);
const DB_NAME = "ae-lab-live";
const DB_VERSION = 2; // 2: entries are {bytes, used}; version 1 kept unchecked downloads, dropped on upgrade
const KEEP_BYTES = 64e6; // what IndexedDB keeps at most: the runtime and a few models, least recently used out
const LIVE_SESSIONS = 5; // models kept loaded in a page (the drawn one and four compared); the least recently used is released
const FETCH_STALL_MS = 60_000; // a download that brings no byte for this long is given up

// Where the models run. The page is cross-origin isolated (ae/web.py's headers), so onnxruntime-web
// could use threads or its worker; on a 2-core machine neither was faster at p95, and Chromium's CPU
// throttling slows neither, so the slow-device bench cannot yet judge them (issue 30's note).
export const placement = Object.freeze({ isolated: globalThis.crossOriginIsolated === true, threads: 1, worker: false });

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (db.objectStoreNames.contains("files")) db.deleteObjectStore("files");
      db.createObjectStore("files");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("storage blocked"));
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
function database() {
  dbPromise ??= openDb().catch(() => null); // no IndexedDB (a private window): the network each time
  return dbPromise;
}

// The body of a URL; rejects on an HTTP error or when no byte arrives for FETCH_STALL_MS.
async function download(url, fresh) {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), FETCH_STALL_MS);
  try {
    const response = await fetch(url, { signal: abort.signal, cache: fresh ? "reload" : "default" });
    if (!response.ok) throw new Error(`${name(url)}: HTTP ${response.status}`);
    const chunks = [];
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), FETCH_STALL_MS);
    }
    return new Uint8Array(await new Blob(chunks).arrayBuffer());
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`${name(url)}: no answer from the server`);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

const name = (url) => new URL(url).pathname.split("/").pop();

// The files one attempt at loading uses, from the store or the network. `keep()` stores the
// downloaded ones once what was made of them works; `forget()` drops the stored ones after a failure.
class Files {
  constructor(fresh) {
    this.fresh = fresh; // true: the network only (a retry after a stored copy failed)
    this.downloaded = new Map();
    this.stored = new Set();
  }

  async bytes(url) {
    const db = this.fresh ? null : await database();
    const hit = db && (await inStore(db, "readonly", (s) => s.get(url)).catch(() => undefined));
    if (hit && hit.bytes) {
      this.stored.add(url);
      return new Uint8Array(hit.bytes);
    }
    const bytes = await download(url, this.fresh);
    this.downloaded.set(url, bytes);
    return bytes;
  }

  async keep() {
    const db = await database();
    if (!db) return;
    const used = Date.now();
    for (const [url, bytes] of this.downloaded) await inStore(db, "readwrite", (s) => s.put({ bytes: bytes.buffer, used }, url)).catch(() => {});
    for (const url of this.stored) {
      const hit = await inStore(db, "readonly", (s) => s.get(url)).catch(() => undefined);
      if (hit) await inStore(db, "readwrite", (s) => s.put({ ...hit, used }, url)).catch(() => {});
    }
    await prune(db).catch(() => {});
  }

  async forget() {
    const db = await database();
    if (db) for (const url of this.stored) await inStore(db, "readwrite", (s) => s.delete(url)).catch(() => {});
  }
}

// Least recently used entries out until what is kept fits KEEP_BYTES.
async function prune(db) {
  const entries = [];
  await new Promise((resolve, reject) => {
    const request = db.transaction("files", "readonly").objectStore("files").openCursor();
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor) return resolve();
      entries.push({ url: cursor.key, size: cursor.value.bytes.byteLength, used: cursor.value.used });
      cursor.continue();
    };
    request.onerror = () => reject(request.error);
  });
  entries.sort((a, b) => b.used - a.used);
  let total = 0;
  for (const entry of entries) {
    if (runtimeUrls.includes(entry.url)) continue; // the runtime every model needs stays
    total += entry.size;
    if (total > KEEP_BYTES) await inStore(db, "readwrite", (s) => s.delete(entry.url));
  }
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

// The runtime, started once per page and kept once a model has run on it; a failed start is
// forgotten, so that the next attempt imports it again (its WebAssembly start-up failure sticks).
let runtime = null; // {promise, proven}
let runtimeUrls = [];

function loadRuntime(version, files) {
  if (runtime && (runtime.proven || !files.fresh)) return runtime.promise;
  const promise = (async () => {
    if (typeof WebAssembly !== "object") throw new Error("no WebAssembly");
    if (typeof DecompressionStream !== "function") throw new Error("no DecompressionStream");
    runtimeUrls = ["ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm.gz"].map((file) => new URL(`ort/${file}?v=${version}`, HERE).href);
    const [code, wasm] = await Promise.all(runtimeUrls.map((url) => files.bytes(url)));
    const ort = await import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
    ort.env.wasm.numThreads = placement.threads;
    ort.env.wasm.wasmBinary = await gunzip(wasm);
    ort.env.logLevel = "error";
    return ort;
  })();
  runtime = { promise, proven: false };
  return promise;
}

const models = new Map(); // digest -> promise of a Model, most recently used last

// A model's encoder and decoder sessions, by the digest of its export. Files kept from an earlier
// visit that fail are dropped and fetched once more; a failure is not remembered.
export function loadModel(version, spec) {
  const key = spec.digest;
  if (models.has(key)) {
    const promise = models.get(key);
    models.delete(key);
    models.set(key, promise); // most recently used
    return promise;
  }
  const promise = attempt(version, spec, false);
  models.set(key, promise);
  promise.then(() => evict(key), () => models.get(key) === promise && models.delete(key));
  return promise;
}

async function attempt(version, spec, fresh) {
  const files = new Files(fresh);
  const ran = runtime;
  try {
    const ort = await loadRuntime(version, files);
    const session = async (name) => {
      const packed = await files.bytes(new URL(spec[name], HERE).href);
      return ort.InferenceSession.create(unshuffle(await gunzip(packed)), { executionProviders: ["wasm"] });
    };
    const [encoder, decoder] = await Promise.all([session("encoder"), session("decoder")]);
    const meter = await loadMeter(spec);
    const model = new Model(ort, spec, encoder, decoder, meter);
    await model.decode(new Array(spec.latent_dim).fill(0)); // it runs
    runtime.proven = true;
    await files.keep();
    return model;
  } catch (error) {
    if (runtime && !runtime.proven && runtime !== ran) runtime = null; // this attempt's start failed
    if (!fresh && files.stored.size) {
      await files.forget();
      if (runtime && !runtime.proven) runtime = null;
      return attempt(version, spec, true);
    }
    throw error;
  }
}

const meters = new Map(); // digest -> promise of the meter's numbers, or of null

// A model's "is this a digit?" numbers (ae/meter.py's for_the_page), or null where they do not load:
// the model works without them, and the server path paints with them where the runtime cannot start.
export function loadMeter(spec) {
  if (!spec || !spec.meter) return Promise.resolve(null);
  if (!meters.has(spec.digest)) {
    const promise = download(new URL(spec.meter, HERE).href, false)
      .then(async (bytes) => JSON.parse(new TextDecoder().decode(await gunzip(bytes))))
      .catch(() => {
        meters.delete(spec.digest); // tried again by the next page that asks
        return null;
      });
    meters.set(spec.digest, promise);
  }
  return meters.get(spec.digest);
}

function evict(keep) {
  while (models.size > LIVE_SESSIONS) {
    const [oldest, promise] = models.entries().next().value;
    if (oldest === keep) break;
    models.delete(oldest);
    promise.then((model) => model.release(), () => {});
  }
}

// Forget a model that failed after loading (out of memory, say): the next use loads it again.
export function dropModel(digest) {
  const promise = models.get(digest);
  models.delete(digest);
  if (promise) promise.then((model) => model.release(), () => {});
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

  release() {
    this.queue.then(() => Promise.all([this.encoder.release(), this.decoder.release()])).catch(() => {});
  }
}

// The digests of the models loaded in this page, least recently used first (tests read it).
export function loadedModels() {
  return [...models.keys()];
}

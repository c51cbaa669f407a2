// The page's pure functions under node, held to what Python computes (tests/js/fixtures.py writes
// the inputs and Python's answers): preprocessing, the paths between codes, the meter's words,
// shares and network. Run by `node --test tests/js/` (tests/test_js.py runs it with the others).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import { toMnist } from "../../ae/live/frontend/preprocess.js";
import { METHODS } from "../../ae/live/frontend/latent.js";
import { codeNetwork, meterCaption, shareBetter, verdict } from "../../ae/live/frontend/meter.js";

const { inputs, outputs } = JSON.parse(gunzipSync(readFileSync(new URL("./fixtures.json.gz", import.meta.url))));
const bytes = (b64) => new Uint8Array(Buffer.from(b64, "base64"));
const floats = (b64) => new Float32Array(bytes(b64).buffer);
const worst = (a, b) => a.reduce((w, v, i) => Math.max(w, Math.abs(v - b[i])), 0);

test("a canvas becomes the 28x28 digit Python makes of it, within 1/255 a pixel", () => {
  inputs.canvases.forEach((canvas, n) => {
    const grey = bytes(canvas), rgba = new Uint8ClampedArray(grey.length * 4);
    grey.forEach((v, i) => rgba.set([v, v, v, 255], 4 * i));
    const ours = toMnist(rgba, 280, 280), want = outputs.mnist[n];
    assert.equal(ours === null, want === null, `canvas ${n}: ink found by one side only`);
    if (want !== null) assert.ok(worst(ours, floats(want)) <= 1 / 255, `canvas ${n}: ${worst(ours, floats(want))}`);
  });
});

test("the linear and spherical paths between two codes are Python's", () => {
  inputs.paths.forEach(([method, a, b, t], n) => {
    assert.ok(worst(METHODS[method](a, b, t), outputs.paths[n]) < 1e-9, `${method} at ${t}`);
  });
});

test("the meter says what Python says for every pair of shares", () => {
  assert.deepEqual(inputs.pairs.map(([e, c]) => verdict(inputs.words, e, c)), outputs.verdicts);
  assert.deepEqual(inputs.pairs.map(([e]) => meterCaption(inputs.words, "Reconstruction error", e)), outputs.captions);
  assert.ok(worst(inputs.values.map((v) => shareBetter(inputs.quantiles, v)), outputs.shares) <= 1e-12);
});

test("the meter's network on the code is as unsure as Python's: sure of digits, not of noise", () => {
  const network = codeNetwork(inputs.network);
  inputs.codes.forEach((code, n) => {
    const logits = network.logits(code), unsure = network.unsure(code);
    logits.forEach((v, j) => assert.ok(Math.abs(v - outputs.logits[n][j]) <= 1e-9 + 1e-9 * Math.abs(outputs.logits[n][j]), `code ${n}`));
    assert.ok(Math.abs(unsure - outputs.unsure[n]) <= 1e-15 + 1e-6 * outputs.unsure[n], `code ${n}: ${unsure} against ${outputs.unsure[n]}`);
  });
  const unsure = inputs.codes.map(network.unsure), half = unsure.length / 2;
  assert.ok(Math.min(...unsure.slice(0, half)) < 1e-3 && 1e-3 < Math.max(...unsure.slice(half)));
});

// Is this a digit? in the page: ae/novelty.py's Meter, share_better, verdict, meter_caption and
// percent, by the same rules, with the numbers and the words Python sends (meter.json).

// Is this a digit? The share of real digits that score better than this value, from the score's
// quantiles over the test digits (ae/novelty.py's share_better), and what the shares mean (verdict).
export function shareBetter(quantiles, value) {
  const n = quantiles.length;
  if (value <= quantiles[0]) return 0;
  if (value >= quantiles[n - 1]) return 1;
  let hi = 1;
  while (quantiles[hi] < value) hi++;
  const lo = hi - 1, span = quantiles[hi] - quantiles[lo];
  return (lo + (span > 0 ? (value - quantiles[lo]) / span : 0)) / (n - 1);
}

// What the meter says: the words and lines come from Python (ae/novelty.py's WORDS, with the
// meter's numbers), filled by the same rules as its verdict, meter_caption and percent.
export function percent(words, share) {
  return share >= words.strong ? `${(Math.floor(1000 * share + 0.5) / 10).toFixed(1)}%` : `${Math.floor(100 * share + 0.5)}%`;
}

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, name) => values[name]);

export function meterCaption(words, score, share) {
  return share == null ? fill(words.caption_empty, { score }) : fill(words.caption, { score, share: percent(words, share) });
}

export function verdict(words, errorShare, codeShare = null) {
  const byCode = codeShare != null && codeShare > errorShare;
  const top = byCode ? codeShare : errorShare;
  if (top >= words.line) {
    const kind = byCode ? "by_code" : "by_error";
    const than = top >= words.every ? words[`${kind}_every`] : fill(words[`${kind}_share`], { share: percent(words, top) });
    return `${fill(words[kind], { than })}: ${top >= words.strong ? words.strong_tail : words.unusual_tail}`;
  }
  const code = codeShare == null ? "" : fill(words.digit_code, { code: percent(words, 1 - codeShare) });
  return fill(words.digit, { error: percent(words, 1 - errorShare), code });
}

// The meter's network on the code (ae/novelty.py's CodeNetwork): the code's directions, then its
// layers (float16 weights and float32 biases, base64), computed in float64 as Python does.
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
const half = (h) => {
  const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 31, fraction = h & 1023;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return exponent === 31 ? (fraction ? NaN : sign * Infinity) : sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
};
const rows = (flat, [out, inputs]) => Array.from({ length: out }, (_, i) => flat.slice(i * inputs, (i + 1) * inputs));
const times = (matrix, v) => matrix.map((row) => row.reduce((s, w, j) => s + w * v[j], 0));

export function codeNetwork(stored) {
  const layers = stored.layers.map((d) => ({
    weight: rows(Array.from(new Uint16Array(bytes(d.weight)), half), d.shape),
    bias: Array.from(new Float32Array(bytes(d.bias))),
  }));
  const logits = (code) => layers.reduce((h, { weight, bias }, i) => {
    const out = times(weight, h).map((v, j) => v + bias[j]);
    return i < layers.length - 1 ? out.map((v) => Math.max(v, 0)) : out;
  }, times(stored.directions, code));
  // 1 - the largest of the ten probabilities, summed from the others (no 1 - 0.99999...)
  const unsure = (code) => {
    const l = logits(code), top = Math.max(...l), at = l.indexOf(top); // the largest, exactly 1, apart
    const others = l.reduce((s, v, i) => (i === at ? s : s + Math.exp(v - top)), 0);
    return others / (1 + others);
  };
  return { logits, unsure, quantiles: stored.unsure_quantiles };
}

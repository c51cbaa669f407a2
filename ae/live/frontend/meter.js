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

// The digit classes a code is measured to (ae/novelty.py's Meter): the distance to the nearest
// class mean after the whitening matrix W, |W z - W m|, with the means whitened once.
export function codeClasses(stored) {
  const whiten = (v) => stored.whitening.map((row) => row.reduce((s, w, j) => s + w * v[j], 0));
  return { whiten, means: stored.means.map(whiten), quantiles: stored.distance_quantiles };
}

export function codeDistance(classes, code) {
  const u = classes.whiten(code);
  let nearest = Infinity;
  for (const m of classes.means) {
    let s = 0;
    for (let i = 0; i < u.length; i++) s += (u[i] - m[i]) ** 2;
    nearest = Math.min(nearest, s);
  }
  return Math.sqrt(nearest);
}

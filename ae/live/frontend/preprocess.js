// A drawing into a 28x28 MNIST-style digit, step for step as ae/preprocess.py's to_mnist does it:
// ink from brightness (inverted on a light border), crop to the ink, scale the longest side to
// 20 px with Pillow's Lanczos resampling, paste with the centre of mass at the centre.
// Float32 where numpy works in float32, doubles where it works in float64, Python's rounding;
// tests/test_live.py holds the two within 1/255 per pixel on the same strokes.

export const SIZE = 28;
const BOX = 20;
const INK_THRESHOLD = Math.fround(0.15); // numpy compares float32 ink with a float32 0.15
const MAX_UPSCALE = 4.0;
const f32 = Math.fround;

// Python's round(): halves go to the even neighbour.
export function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// The nearest whole shift, halves to even, after snapping to 1/1024 of a pixel (as _round_shift).
function roundShift(x) {
  return roundHalfEven(Math.floor(x * 1024 + 0.5) / 1024);
}

function median(values) {
  const v = Float64Array.from(values).sort();
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// Ink in [0, 1] of an opaque RGBA picture (Uint8ClampedArray, w*h*4), white-on-black.
function luma(r8, g8, b8) {
  const r = f32(r8 / 255), g = f32(g8 / 255), b = f32(b8 / 255);
  return f32(f32(f32(r * f32(0.299)) + f32(g * f32(0.587))) + f32(b * f32(0.114)));
}
const GREYS = Float32Array.from({ length: 256 }, (_, v) => luma(v, v, v)); // a grey pixel's, the canvas's every pixel

export function ink(rgba, w, h) {
  const grey = new Float32Array(w * h);
  for (let i = 0, j = 0; i < grey.length; i++, j += 4) {
    const r = rgba[j], g = rgba[j + 1], b = rgba[j + 2];
    grey[i] = r === g && g === b ? GREYS[r] : luma(r, g, b);
  }
  const border = [];
  for (let x = 0; x < w; x++) border.push(grey[x], grey[(h - 1) * w + x]);
  for (let y = 0; y < h; y++) border.push(grey[y * w], grey[y * w + w - 1]);
  if (median(border) > 0.5) for (let i = 0; i < grey.length; i++) grey[i] = f32(1 - grey[i]);
  return grey;
}

// Pillow's Lanczos (a = 3) weights for one axis, as Resample.c's precompute_coeffs makes them.
function lanczos(x) {
  const sinc = (t) => (t === 0 ? 1 : Math.sin(t * Math.PI) / (t * Math.PI));
  return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

function coefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 3 * filterscale;
  const rows = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k = new Float64Array(xmax);
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = lanczos((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    if (ww !== 0) for (let x = 0; x < xmax; x++) k[x] /= ww;
    rows.push({ xmin, k });
  }
  return rows;
}

// Image.fromarray(float32).resize((outW, outH), LANCZOS): horizontal pass, then vertical.
export function resize(src, w, h, outW, outH) {
  const horiz = coefficients(w, outW), vert = coefficients(h, outH);
  const first = vert[0].xmin;
  const last = vert[outH - 1].xmin + vert[outH - 1].k.length;
  let img = src, iw = w, rows = h, offset = 0;
  if (outW !== w) {
    rows = last - first;
    const tmp = new Float32Array(outW * rows);
    for (let y = 0; y < rows; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const { xmin, k } = horiz[xx];
        let s = 0;
        for (let x = 0; x < k.length; x++) s += src[(y + first) * w + x + xmin] * k[x];
        tmp[y * outW + xx] = s;
      }
    }
    img = tmp;
    iw = outW;
    offset = first;
  }
  if (outH === h) {
    return img;
  }
  const out = new Float32Array(iw * outH);
  for (let yy = 0; yy < outH; yy++) {
    const { xmin, k } = vert[yy];
    for (let x = 0; x < iw; x++) {
      let s = 0;
      for (let y = 0; y < k.length; y++) s += img[(y + xmin - offset) * iw + x] * k[y];
      out[yy * iw + x] = s;
    }
  }
  return out;
}

// The 28x28 digit (Float32Array, row-major) of an RGBA picture, or null when there is no ink.
export function toMnist(rgba, w, h) {
  const m = ink(rgba, w, h);
  let top = h, bottom = -1, left = w, right = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (m[y * w + x] > INK_THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) return null;
  const ch = bottom - top + 1, cw = right - left + 1;
  const crop = new Float32Array(ch * cw);
  let peak = 0;
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const v = m[(y + top) * w + x + left];
      crop[y * cw + x] = v;
      if (v > peak) peak = v;
    }
  }
  for (let i = 0; i < crop.length; i++) crop[i] = f32(crop[i] / peak); // a faint stroke becomes full ink
  const scale = Math.min(BOX / Math.max(ch, cw), MAX_UPSCALE);
  const nh = Math.max(1, roundHalfEven(ch * scale)), nw = Math.max(1, roundHalfEven(cw * scale));
  const small = resize(crop, cw, ch, nw, nh);
  let total = 0, sy = 0, sx = 0;
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const v = Math.min(Math.max(small[y * nw + x], 0), 1);
      small[y * nw + x] = v;
      total += v;
      sy += y * v;
      sx += x * v;
    }
  }
  const cy = total > 0 ? sy / total : nh / 2, cx = total > 0 ? sx / total : nw / 2;
  const y0 = Math.min(Math.max(roundShift(SIZE / 2 - cy), 0), SIZE - nh);
  const x0 = Math.min(Math.max(roundShift(SIZE / 2 - cx), 0), SIZE - nw);
  const out = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < nh; y++) for (let x = 0; x < nw; x++) out[(y + y0) * SIZE + x + x0] = small[y * nw + x];
  return out;
}

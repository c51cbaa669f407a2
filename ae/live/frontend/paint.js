// Pictures of 28x28 digits, the error map and the code bars, painted on canvases.

export function digitCanvas(label) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 28;
  canvas.className = "digit";
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", label);
  return canvas;
}

function put(canvas, rgbOf) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const [r, g, b] = rgbOf(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
}

// Pixels in [0, 1] (or null: black) as grey, rounded as ae/ui/pictures.py's digit_picture.
export function paintDigit(canvas, pixels) {
  put(canvas, (i) => {
    const v = pixels ? Math.round(Math.min(Math.max(pixels[i], 0), 1) * 255) : 0;
    return [v, v, v];
  });
}

// Orange where the reconstruction adds ink, blue where it misses ink; the square root lets small errors show.
export function paintError(canvas, x, xHat) {
  put(canvas, (i) => {
    const d = x && xHat ? Math.min(Math.max(xHat[i] - x[i], -1), 1) : 0;
    const extra = Math.sqrt(Math.max(d, 0)), missing = Math.sqrt(Math.max(-d, 0));
    return [extra * 255, Math.min(extra * 150 + missing * 160, 255), missing * 255];
  });
}

// The code as bars, blue up and orange down, scaled to the largest.
export function paintBars(canvas, code) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const mid = height / 2;
  ctx.fillStyle = "#777";
  ctx.fillRect(0, Math.floor(mid), width, 1);
  if (!code || !code.length) return;
  let top = 1e-6;
  for (const v of code) top = Math.max(top, Math.abs(v));
  const bar = width / code.length;
  code.forEach((v, i) => {
    const h = Math.max((Math.abs(v) / top) * (mid - 4), 0.5);
    ctx.fillStyle = v >= 0 ? "#7c9cff" : "#ffb86b";
    ctx.fillRect(i * bar + bar * 0.12, v >= 0 ? mid - h : mid, Math.max(bar * 0.76, 1), h);
  });
}

// Float32 numbers sent as base64 (ae/live's `floats_b64`: what the server computed) as an array.
export function floatsOf(b64) {
  return new Float32Array(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer);
}

// Tests wait for a picture to change: each canvas counts its paintings of a model's output.
export function countPaint(canvas) {
  canvas.dataset.painted = String(Number(canvas.dataset.painted || 0) + 1);
}

export function mse(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

export function psnr(a, b) {
  return 10 * Math.log10(1 / Math.max(mse(a, b), 1e-10));
}

// The test digits' scores as a histogram on a log scale, and a marker where this one falls.
export function paintMeter(canvas, quantiles, value, floor) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  const logs = quantiles.map((q) => Math.log10(Math.max(q, floor)));
  const mark = Math.log10(Math.max(value ?? floor, floor));
  const lo = logs[5], hi = Math.max(logs[logs.length - 1], mark) + 0.05, bins = 40;
  const counts = new Array(bins).fill(0);
  for (const v of logs) counts[Math.min(bins - 1, Math.max(0, Math.floor(((v - lo) / (hi - lo)) * bins)))]++;
  const top = Math.max(...counts), bar = width / bins;
  ctx.fillStyle = "#7c9cff";
  counts.forEach((c, i) => ctx.fillRect(i * bar, height - 4 - (c / top) * (height - 8), bar * 0.9, (c / top) * (height - 8)));
  if (value == null) return;
  ctx.fillStyle = "#ffb86b";
  ctx.fillRect(((Math.min(Math.max(mark, lo), hi) - lo) / (hi - lo)) * width - 1.5, 0, 3, height);
}

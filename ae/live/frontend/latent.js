// Paths between two codes, as ae/latent.py's lerp and slerp (tests/test_live.py compares them).

function norm(a) {
  return Math.sqrt(a.reduce((s, v) => s + v * v, 0));
}

export function lerp(a, b, t) {
  return a.map((v, i) => (1 - t) * v + t * b[i]);
}

// Along the great circle between the directions of a and b, the length going linearly.
export function slerp(a, b, t) {
  const na = norm(a), nb = norm(b);
  if (na < 1e-8 || nb < 1e-8) return lerp(a, b, t);
  const ua = a.map((v) => v / na), ub = b.map((v) => v / nb);
  const omega = Math.acos(Math.min(Math.max(ua.reduce((s, v, i) => s + v * ub[i], 0), -1), 1));
  if (omega < 1e-4) return lerp(a, b, t);
  const length = (1 - t) * na + t * nb;
  return ua.map((v, i) => ((Math.sin((1 - t) * omega) * v + Math.sin(t * omega) * ub[i]) / Math.sin(omega)) * length);
}

export const METHODS = { linear: lerp, spherical: slerp };

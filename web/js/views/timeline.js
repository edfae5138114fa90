// Canvas drawings: the song's waveform with beat and downbeat markers under the storyboard's scenes,
// and a small waveform for the music card.

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** Size the canvas's backing store to its CSS box times the device pixel ratio; returns [ctx, w, h]. */
function fit(canvas) {
  const dpr = Math.min(3, window.devicePixelRatio || 1);
  const w = Math.max(1, canvas.clientWidth || canvas.width);
  const hgt = Math.max(1, canvas.clientHeight || canvas.height);
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return [ctx, w, hgt];
}

function roundRect(ctx, x, y, w, hgt, r) {
  const rr = Math.min(r, w / 2, hgt / 2);
  ctx.beginPath();
  ctx.roundRect ? ctx.roundRect(x, y, w, hgt, rr) : ctx.rect(x, y, w, hgt);
  ctx.fill();
}

/** Peaks (0..1) resampled to `n` bars by taking the max of each bucket. */
function bucket(peaks, n, from = 0, to = 1) {
  const out = new Array(n).fill(0);
  if (!peaks.length) return out;
  const a = from * peaks.length;
  const span = (to - from) * peaks.length;
  for (let i = 0; i < n; i += 1) {
    const s = Math.floor(a + (i / n) * span);
    const e = Math.max(s + 1, Math.floor(a + ((i + 1) / n) * span));
    let m = 0;
    for (let k = Math.max(0, s); k < Math.min(peaks.length, e); k += 1) m = Math.max(m, peaks[k]);
    out[i] = m;
  }
  return out;
}

export function drawMiniWave(canvas, peaks) {
  const [ctx, w, hgt] = fit(canvas);
  const bars = Math.max(8, Math.floor(w / 4));
  const values = bucket(peaks, bars);
  ctx.fillStyle = css('--accent', '#0f766e');
  ctx.globalAlpha = 0.55;
  const bw = w / bars;
  for (let i = 0; i < bars; i += 1) {
    const v = Math.max(0.04, values[i]);
    const bh = v * (hgt - 4);
    roundRect(ctx, i * bw + 0.5, (hgt - bh) / 2, Math.max(1, bw - 1.5), bh, 1.5);
  }
  ctx.globalAlpha = 1;
}

/**
 * Which part of the waveform the video uses. The waveform may cover the whole track (then the video is
 * the window from `music_offset`) or just the video's own timeline.
 */
export function waveWindow(plan) {
  const wave = plan.waveform || {};
  const wd = Number(wave.duration) || 0;
  const vd = Number(plan.duration) || 0;
  if (!wd || !vd) return [0, 1];
  if (wd > vd + 0.25) {
    const from = Math.min(1, (plan.music_offset || 0) / wd);
    return [from, Math.min(1, from + vd / wd)];
  }
  return [0, Math.min(1, vd / wd)];
}

/** The storyboard's waveform: scene bands, waveform bars, beat ticks, downbeat ticks, cuts and crossfades. */
export function drawTimeline(canvas, plan, { selected = -1 } = {}) {
  const [ctx, w, hgt] = fit(canvas);
  const duration = plan.duration || plan.scenes.at(-1)?.end || 1;
  const x = (t) => (t / duration) * w;
  const accent = css('--accent', '#0f766e');
  const ink = css('--text', '#1c1c1e');
  const muted = css('--wave', '#9aa3a0');
  const band = css('--band', 'rgba(0,0,0,0.035)');
  const selBand = css('--accent-soft', 'rgba(15,118,110,0.12)');
  const top = 12;
  const bottom = hgt - 12;
  const mid = (top + bottom) / 2;

  // Scene bands.
  plan.scenes.forEach((s, i) => {
    ctx.fillStyle = i === selected ? selBand : i % 2 ? band : 'transparent';
    ctx.fillRect(x(s.start), 0, x(s.end) - x(s.start), hgt);
  });

  // Waveform, mirrored around the middle.
  const bars = Math.max(16, Math.floor(w / 3.5));
  const [from, to] = waveWindow(plan);
  const values = bucket(plan.waveform?.peaks || [], bars, from, to);
  const bw = w / bars;
  for (let i = 0; i < bars; i += 1) {
    const t = ((i + 0.5) / bars) * duration;
    const inSel = selected >= 0 && plan.scenes[selected] && t >= plan.scenes[selected].start && t < plan.scenes[selected].end;
    ctx.fillStyle = inSel ? accent : muted;
    ctx.globalAlpha = inSel ? 0.85 : 0.6;
    const v = Math.max(0.03, values[i]);
    const bh = v * (bottom - top);
    roundRect(ctx, i * bw + 0.4, mid - bh / 2, Math.max(1, bw - 1.2), bh, 1.2);
  }
  ctx.globalAlpha = 1;

  // Beats: short ticks at the top and bottom edges; downbeats: taller, in the accent colour.
  const tick = (t, len, colour, alpha, width) => {
    if (t < 0 || t > duration) return;
    const bx = Math.round(x(t)) + 0.5;
    ctx.strokeStyle = colour;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.moveTo(bx, 0);
    ctx.lineTo(bx, len);
    ctx.moveTo(bx, hgt);
    ctx.lineTo(bx, hgt - len);
    ctx.stroke();
  };
  const downs = new Set((plan.downbeats || []).map((t) => t.toFixed(2)));
  for (const t of plan.beats || []) if (!downs.has(t.toFixed(2))) tick(t, 5, ink, 0.3, 1);
  for (const t of plan.downbeats || []) tick(t, 10, accent, 0.95, 2);
  ctx.globalAlpha = 1;

  // Cuts between scenes; a crossfade shows as a soft wedge around its cut.
  plan.scenes.forEach((s, i) => {
    if (i === 0) return;
    const cx = Math.round(x(s.start)) + 0.5;
    if (s.transition_in === 'crossfade' && s.transition_seconds > 0) {
      const half = x(s.transition_seconds / 2);
      const g = ctx.createLinearGradient(cx - half, 0, cx + half, 0);
      g.addColorStop(0, 'rgba(0,0,0,0)');
      g.addColorStop(0.5, selBand);
      g.addColorStop(1, 'rgba(0,0,0,0)');
      ctx.fillStyle = g;
      ctx.fillRect(cx - half, 0, 2 * half, hgt);
      ctx.setLineDash([3, 3]);
    }
    ctx.strokeStyle = ink;
    ctx.globalAlpha = 0.55;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(cx, 0);
    ctx.lineTo(cx, hgt);
    ctx.stroke();
    ctx.setLineDash([]);
  });
  ctx.globalAlpha = 1;
}

// Product 360°: photos of the project taken around a product → a turning, transparent product shot
// (POST /api/projects/{id}/product), followed live over SSE, shown in a <video>, and used in the video.

import { del, get, post, put } from '../api.js';
import { busy, formatBytes, h, icon, nextId } from '../dom.js';
import { JobStream } from '../stream.js';
import { errorLine, progressBar, sentence, showError, toast } from '../ui.js';

const PHASES = {
  product: 'Starting',
  frames: 'Reading the photos',
  poses: 'Placing the cameras',
  dataset: 'Writing the dataset',
  train: 'Training on the GPU',
  render: 'Rendering the turn',
  encode: 'Encoding with transparency',
};
const RUNNING = new Set(['queued', 'running']);

export function renderProduct(section, state) {
  const picks = new Set();
  const grid = h('ul', { class: 'product-picks', id: 'product-picks', 'aria-label': 'Photos around the product' });
  const count = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const allBtn = h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: 'product-all', text: 'Select all' });
  const preview = h('input', { type: 'checkbox', id: 'product-preview' });
  const frames = h('select', { class: 'input', id: 'product-frames' },
    h('option', { value: '48', text: '48 frames (quick)' }),
    h('option', { value: '120', text: '120 frames', selected: true }),
    h('option', { value: '240', text: '240 frames (smooth)' }));
  const size = h('select', { class: 'input', id: 'product-size' },
    h('option', { value: '360', text: '360 px' }),
    h('option', { value: '720', text: '720 px' }),
    h('option', { value: '1080', text: '1080 px', selected: true }));
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'product-button' },
    icon('sparkle'), h('span', { text: 'Make turntable' }));
  const bar = progressBar({ label: 'Turntable progress', size: 'thick' });
  bar.id = 'product-progress';
  const phase = h('p', { class: 'product-phase', id: 'product-phase', 'aria-live': 'polite' });
  const detail = h('p', { class: 'muted small product-detail', id: 'product-detail' });
  const progressBox = h('div', { class: 'product-progress', hidden: true }, h('div', { class: 'product-phase-row' }, phase,
    h('span', { class: 'big-percent product-percent', id: 'product-percent', 'aria-hidden': 'true', text: '0%' })), bar, detail);
  const failure = h('div', { class: 'product-failure' });
  const result = h('div', { class: 'product-result' });

  const previewId = preview.id;
  section.body.append(
    h('p', { class: 'muted', text: 'Walk around the product and take 20 or more photos, each overlapping the last; '
      + 'upload them above, pick them here, and MomentLoop turns them into a 360° shot with a transparent background.' }),
    h('div', { class: 'product-pick-head' }, h('strong', { text: 'Photos around the product' }), count, allBtn),
    grid,
    h('div', { class: 'product-options', role: 'group', 'aria-label': 'Turntable options' },
      h('label', { class: 'check', for: previewId }, preview, h('span', { text: 'Preview quality (fast, no GPU)' })),
      h('div', { class: 'field field-inline' }, h('label', { class: 'field-label', for: frames.id, text: 'Frames per turn' }), frames),
      h('div', { class: 'field field-inline' }, h('label', { class: 'field-label', for: size.id, text: 'Size' }), size),
      startBtn),
    progressBox, failure, result);

  const showCount = () => {
    count.textContent = `${picks.size} of ${state.photos.length} chosen`;
    startBtn.disabled = picks.size < 3 || Boolean(current);
  };

  const drawPicks = () => {
    const have = new Set(state.photos.map((p) => p.id));
    for (const id of [...picks]) if (!have.has(id)) picks.delete(id);
    grid.replaceChildren(...state.photos.map((p) => {
      const id = nextId('pick');
      const box = h('input', { type: 'checkbox', id, checked: picks.has(p.id), dataset: { asset: p.id } });
      box.addEventListener('change', () => {
        if (box.checked) picks.add(p.id);
        else picks.delete(p.id);
        showCount();
      });
      return h('li', { class: 'product-pick' }, h('label', { for: id },
        box, h('img', { src: p.thumbnail_url, alt: '', loading: 'lazy' }), h('span', { class: 'small', text: p.name })));
    }));
    showCount();
  };

  allBtn.addEventListener('click', () => {
    const every = picks.size < state.photos.length;
    picks.clear();
    if (every) for (const p of state.photos) picks.add(p.id);
    drawPicks();
  });

  let current = null; // the JobStream being followed
  let shown = -1;

  const follow = (job) => {
    if (current) current.close();
    failure.replaceChildren();
    progressBox.hidden = false;
    shown = -1;
    const setPct = (pct, text) => {
      if (pct === undefined || pct === null) return;
      shown = Math.max(shown, Number(pct));
      bar.update(shown, text);
      document.getElementById('product-percent').textContent = `${Math.round(shown)}%`;
    };
    phase.textContent = 'Waiting to start…';
    setPct(0);
    current = state.track(new JobStream({
      jobId: job.id,
      onEvent: (e) => {
        if (e.type === 'progress') {
          const name = PHASES[e.item] || sentence(e.item || '');
          phase.textContent = name;
          const what = String(e.message || '').replace(/^[a-z]+:\s*/, '');
          detail.textContent = what;
          setPct(e.percent, `${name}: ${Math.round(e.percent ?? shown)}%`);
        } else if (e.type === 'done') {
          setPct(100, 'Done');
          phase.textContent = 'Turntable ready';
          detail.textContent = e.message || '';
        } else if (e.type === 'failed') {
          phase.textContent = e.status === 'cancelled' ? 'Cancelled' : 'The turntable could not be made';
        }
      },
      onEnd: async (type, why) => {
        current = null;
        showCount();
        if (type === 'done') {
          const finished = await get(`/api/jobs/${encodeURIComponent(job.id)}`);
          if (finished.product_id) await showProduct(await get(`/api/products/${encodeURIComponent(finished.product_id)}`));
          await Promise.all([state.refreshProject(), state.refreshPlan()]).catch(showError);
          toast('The product turntable is ready.');
        } else {
          let reason = why;
          if (!reason || !reason.detail) {
            const j = await get(`/api/jobs/${encodeURIComponent(job.id)}`).catch(() => null);
            reason = { detail: (j && j.error) || 'The turntable could not be made.', hint: (j && j.hint) || '' };
          }
          failure.replaceChildren(errorLine(reason));
        }
      },
    }).start());
    showCount();
  };

  startBtn.addEventListener('click', async () => {
    try {
      const job = await busy(startBtn, () => post(`${state.base}/product`, {
        asset_ids: state.photos.filter((p) => picks.has(p.id)).map((p) => p.id),
        preview: preview.checked, frames: Number(frames.value), size: Number(size.value),
      }));
      follow(job);
    } catch (err) {
      showError(err);
    }
  });

  const showProduct = async (product) => {
    if (!product) {
      result.replaceChildren();
      return;
    }
    const video = h('video', {
      id: 'product-video', class: 'product-video', src: product.video_url, poster: product.poster_url,
      controls: true, loop: true, muted: true, autoplay: true, playsinline: true, preload: 'auto',
      'aria-label': 'The product turntable',
    });
    video.muted = true;
    const use = h('input', { type: 'checkbox', id: 'product-use', checked: product.in_use });
    use.addEventListener('change', async () => {
      use.disabled = true;
      try {
        if (use.checked) await put(`${state.base}/product`, { product_id: product.id });
        else await del(`${state.base}/product`);
        await Promise.all([state.refreshProject(), state.refreshPlan()]);
        toast(use.checked ? 'The video will show the product; make the storyboard again.' : 'The video will not show the product.');
      } catch (err) {
        use.checked = !use.checked;
        showError(err);
      } finally {
        use.disabled = false;
      }
    });
    const quality = product.preview ? 'Preview quality (CPU point splats)' : 'Trained on a GPU';
    result.replaceChildren(h('div', { class: 'product-card' },
      h('div', { class: 'product-stage' }, video),
      h('div', { class: 'product-side' },
        h('p', { class: 'small', text: `${product.frames} frames, ${product.width}×${product.height}, ${product.duration.toFixed(1)} s a turn` }),
        h('p', { class: 'muted small', text: `${quality} · ${formatBytes(product.size_bytes)}` }),
        h('label', { class: 'check', for: use.id }, use, h('span', { text: 'Use in video' })),
        h('a', { class: 'btn btn-secondary btn-small', href: `${product.video_url}?download=1`, download: '' },
          icon('download'), h('span', { text: 'Download WebM' })))));
  };

  state.on('assets', drawPicks);
  drawPicks();

  // The latest turntable, and a product job still running (after a reload) followed again.
  (async () => {
    try {
      const [products, jobs] = await Promise.all([get(`${state.base}/products`), get(`${state.base}/jobs`)]);
      await showProduct(products.find((p) => p.in_use) || products[0] || null);
      const running = jobs.find((j) => j.kind === 'product' && RUNNING.has(j.status));
      if (running) follow(running);
    } catch (err) {
      showError(err);
    }
  })();
}


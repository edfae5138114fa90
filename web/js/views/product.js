// Product 360°: photos taken around a product, uploaded here as the project's capture (role `capture`:
// their own limit, never scenes of the video) → a turning, transparent product shot
// (POST /api/projects/{id}/product), followed live over SSE, shown in a <video>, and used in the video.

import { del, get, post, put, uploadFile } from '../api.js';
import { announce, busy, formatBytes, h, icon, nextId } from '../dom.js';
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
const MAX_CAPTURES = 200;
const PARALLEL_UPLOADS = 3;

export function renderProduct(section, state) {
  const picks = new Set();
  let captures = []; // the project's capture photos (AssetPublic, role 'capture'), in upload order
  const grid = h('ul', { class: 'product-picks', id: 'product-picks', 'aria-label': 'Photos around the product' });
  const count = h('span', { class: 'muted small', id: 'product-count', 'aria-live': 'polite' });
  const captureInput = h('input', {
    type: 'file', id: 'capture-input', multiple: true, accept: 'image/*,.heic,.heif,.avif,.jxl,.tif,.tiff',
    class: 'visually-hidden', 'aria-label': 'Add photos of the product',
  });
  const addBtn = h('button', { type: 'button', class: 'btn btn-secondary', id: 'capture-add' },
    icon('upload'), h('span', { text: 'Add photos of the product' }));
  addBtn.addEventListener('click', () => captureInput.click());
  const uploadLine = h('p', { class: 'muted small', id: 'capture-status', 'aria-live': 'polite' });
  const uploadErrors = h('ul', { class: 'upload-list', id: 'capture-errors', 'aria-label': 'Photos not added' });
  const drop = h('div', { class: 'dropzone product-drop', id: 'capture-drop' },
    h('p', { class: 'dropzone-title', text: 'Drag the photos of the product here' }),
    h('p', { class: 'dropzone-text muted', text: `Up to ${MAX_CAPTURES}; they are kept apart from the video's photos.` }),
    addBtn, captureInput, uploadLine, uploadErrors);
  const photoGrid = h('ul', { class: 'product-picks', id: 'product-photo-picks', 'aria-label': "The video's photos" });
  const photoBox = h('details', { class: 'product-photos' },
    h('summary', { text: "Or pick from the video's photos (step 1)" }), photoGrid);
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
      + 'add them here (they never become scenes of the video) and MomentLoop turns them into a 360° shot with a '
      + 'transparent background.' }),
    drop,
    h('div', { class: 'product-pick-head' }, h('strong', { text: 'Photos around the product' }), count, allBtn),
    grid, photoBox,
    h('div', { class: 'product-options', role: 'group', 'aria-label': 'Turntable options' },
      h('label', { class: 'check', for: previewId }, preview, h('span', { text: 'Preview quality (fast, no GPU)' })),
      h('div', { class: 'field field-inline' }, h('label', { class: 'field-label', for: frames.id, text: 'Frames per turn' }), frames),
      h('div', { class: 'field field-inline' }, h('label', { class: 'field-label', for: size.id, text: 'Size' }), size),
      startBtn),
    progressBox, failure, result);

  const showCount = () => {
    const n = captures.length;
    count.textContent = `${n} photo${n === 1 ? '' : 's'} of the product · ${picks.size} chosen`;
    allBtn.textContent = captures.length && captures.every((c) => picks.has(c.id)) ? 'Select none' : 'Select all';
    startBtn.disabled = picks.size < 3 || Boolean(current);
  };

  const pickItem = (p, { removable }) => {
    const id = nextId('pick');
    const box = h('input', { type: 'checkbox', id, checked: picks.has(p.id), dataset: { asset: p.id } });
    box.addEventListener('change', () => {
      if (box.checked) picks.add(p.id);
      else picks.delete(p.id);
      showCount();
    });
    const item = h('li', { class: 'product-pick' }, h('label', { for: id },
      box, h('img', { src: p.thumbnail_url, alt: '', loading: 'lazy' }), h('span', { class: 'small', text: p.name })));
    if (removable) {
      const remove = h('button', { type: 'button', class: 'btn btn-quiet btn-small product-remove',
        'aria-label': `Remove ${p.name}`, text: 'Remove' });
      remove.addEventListener('click', async () => {
        try {
          await busy(remove, () => del(`${state.base}/assets/${encodeURIComponent(p.id)}`));
          captures = captures.filter((c) => c.id !== p.id);
          picks.delete(p.id);
          drawPicks();
          announce(`${p.name} removed.`);
        } catch (err) {
          showError(err);
        }
      });
      item.append(remove);
    }
    return item;
  };

  const drawPicks = () => {
    const have = new Set([...captures, ...state.photos].map((p) => p.id));
    for (const id of [...picks]) if (!have.has(id)) picks.delete(id);
    grid.replaceChildren(...captures.map((p) => pickItem(p, { removable: true })));
    photoGrid.replaceChildren(...state.photos.map((p) => pickItem(p, { removable: false })));
    photoBox.hidden = state.photos.length === 0;
    showCount();
  };

  allBtn.addEventListener('click', () => {
    const every = !captures.every((c) => picks.has(c.id));
    for (const c of captures) {
      if (every) picks.add(c.id);
      else picks.delete(c.id);
    }
    drawPicks();
  });

  // ------------------------------------------------------------------ the capture's uploads
  const queue = [];
  let running = 0;
  let batch = { total: 0, ok: 0, failed: 0 };

  const showUploads = () => {
    const left = batch.total - batch.ok - batch.failed;
    uploadLine.textContent = left > 0 ? `Uploading ${left} of ${batch.total}…`
      : `${batch.ok} added${batch.failed ? `, ${batch.failed} not added` : ''}`;
  };

  const pump = () => {
    while (running < PARALLEL_UPLOADS && queue.length) {
      const file = queue.shift();
      running += 1;
      uploadFile({ projectId: state.projectId, file, role: 'capture' }).promise.then((asset) => {
        batch.ok += 1;
        captures = [...captures.filter((c) => c.id !== asset.id), asset];
        picks.add(asset.id); // a new photo of the product is meant to be used
        drawPicks();
      }, (err) => {
        batch.failed += 1;
        uploadErrors.append(h('li', { class: 'upload-row' }, errorLine(err)));
      }).finally(() => {
        running -= 1;
        showUploads();
        if (running === 0 && queue.length === 0) {
          announce(`${batch.ok} photo${batch.ok === 1 ? '' : 's'} of the product added.`);
          loadCaptures(); // the server's order is the truth
        }
        pump();
      });
    }
  };

  const addCaptures = (files) => {
    const images = files.filter((f) => f.size > 0);
    if (!images.length) return;
    if (running === 0 && queue.length === 0) {
      batch = { total: 0, ok: 0, failed: 0 };
      uploadErrors.replaceChildren();
    }
    let slots = MAX_CAPTURES - captures.length - queue.length - running;
    for (const file of images) {
      batch.total += 1;
      if (slots <= 0) {
        batch.failed += 1;
        uploadErrors.append(h('li', { class: 'upload-row' }, errorLine({
          detail: `${file.name}: not added, a capture takes at most ${MAX_CAPTURES} photos.`,
          hint: 'Remove some photos of the product first.' })));
        continue;
      }
      slots -= 1;
      queue.push(file);
    }
    showUploads();
    pump();
  };

  captureInput.addEventListener('change', () => {
    addCaptures([...captureInput.files]);
    captureInput.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.add('is-over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('is-over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation(); // not step 1's drop: these are the product's, not the video's
    drop.classList.remove('is-over');
    addCaptures([...(e.dataTransfer?.files || [])]);
  });

  const loadCaptures = async () => {
    try {
      captures = await get(`${state.base}/assets?role=capture`);
      drawPicks();
    } catch (err) {
      showError(err);
    }
  };

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
        asset_ids: [...captures, ...state.photos].filter((p) => picks.has(p.id)).map((p) => p.id),
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
  loadCaptures();

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


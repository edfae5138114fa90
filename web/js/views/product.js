// Product 360°, an optional page of its own (#/p/<id>/product): photos taken around a product, uploaded as
// the project's capture (role `capture`: their own limit, never scenes of the video) → a turning product
// shot with a transparent background (POST /api/projects/{id}/product), followed live over SSE, shown in a
// <video>, and used in the video. What this server can make (GPU or the CPU preview) and how many photos
// it needs come from GET /api/products/capabilities; the button stays off, saying why, until they are there.

import { del, get, post, put, uploadFile } from '../api.js';
import { announce, busy, formatBytes, h, icon, nextId } from '../dom.js';
import { openProjectPage } from './projectpage.js';
import { JobStream } from '../stream.js';
import { errorLine, progressBar, segmented, sentence, showError, startsJob, stepSection, toast } from '../ui.js';

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
const PARALLEL_UPLOADS = 3;
const FPS = 30; // the turntable's frame rate (the API's default): the turn lengths below are frames at it
const TURNS = [[48, 'quick'], [120, ''], [240, 'slow and smooth']];
const SIZES = [[360, 'Small'], [720, 'Medium'], [1080, 'Large']];

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
export const productHref = (projectId) => `#/p/${encodeURIComponent(projectId)}/product`;

/** The step bar's way to this page: optional, so it sits apart from the numbered steps. */
export function productStepLink(state) {
  const link = h('a', { class: 'stepnav-extra', href: productHref(state.projectId) },
    icon('plus'), h('span', { text: 'Product 360°' }), h('span', { class: 'stepnav-tag', text: 'optional' }));
  const update = () => link.classList.toggle('is-done', Boolean(state.project?.product));
  state.on('project', update);
  update();
  return h('li', { class: 'stepnav-optional' }, link);
}

/** The page: the project's name to go back to, then the panel. */
export function renderProductPage(root, { projectId }) {
  return openProjectPage(root, {
    projectId,
    kind: 'product',
    opening: 'Opening…',
    what: 'page',
    load: async (state) => {
      const [project, assets, can] = await Promise.all([
        get(state.base), get(`${state.base}/assets`), get('/api/products/capabilities'),
      ]);
      state.project = project;
      state.setAssets(assets);
      return can;
    },
    show: (page, state, can) => {
      const { project } = state;
      const back = `#/p/${encodeURIComponent(projectId)}`;
      const section = stepSection({ id: 'step-product', number: '', title: 'Photos and turntable' });
      section.querySelector('.step-number').remove(); // a page of its own, not a numbered step
      page.replaceChildren(
        h('header', { class: 'project-head' },
          h('a', { class: 'back-link', href: back }, icon('back'), h('span', { text: project.name })),
          h('h1', { class: 'page-title', text: 'Product 360°' }),
          h('p', { class: 'muted', text: 'Optional: a product turning once around, on a transparent background, '
            + 'placed in your video on the beat like every other scene.' })),
        section);
      renderProduct(section, state, can);
      document.title = `Product 360° · ${project.name} · MomentLoop`;
    },
  }).close;
}

/** What the server can make, in words. */
function capabilityLine(can) {
  return can.gpu
    ? 'This server has a GPU: it trains a full-quality 3D model of the product, which takes a few minutes.'
    : 'This server has no GPU, so it makes a quick preview: the product drawn from the points MomentLoop finds '
      + 'in your photos, marked PREVIEW. A server with a GPU (or MomentLoop on Modal) makes the full-quality turn.';
}

export function renderProduct(section, state, can) {
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
    h('p', { class: 'dropzone-text muted', text: `Up to ${can.max_photos}. They are kept apart from your video's photos.` }),
    addBtn, captureInput, uploadLine, uploadErrors);
  const photoGrid = h('ul', { class: 'product-picks', id: 'product-photo-picks', 'aria-label': "The video's photos" });
  const photoBox = h('details', { class: 'product-photos' },
    h('summary', { text: "Or use some of your video's photos" }), photoGrid);
  const allBtn = h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: 'product-all', text: 'Select all' });
  let quality = can.gpu ? 'full' : 'preview';
  const qualityCtl = can.gpu ? segmented({
    name: 'product-quality', legend: 'Quality', value: quality, onChange: (v) => { quality = v; },
    options: [
      { value: 'full', label: 'Full quality', hint: 'Trained on the GPU: a few minutes' },
      { value: 'preview', label: 'Quick preview', hint: 'Drawn from the photos’ points: about a minute' },
    ],
  }) : null;
  const turn = h('select', { class: 'input', id: 'product-turn' },
    TURNS.map(([frames, note]) => h('option', {
      value: String(frames), selected: frames === 120,
      text: `${(frames / FPS).toFixed(frames % FPS ? 1 : 0)} s${note ? ` (${note})` : ''}`,
    })));
  const size = h('select', { class: 'input', id: 'product-size' },
    SIZES.map(([px, word]) => h('option', { value: String(px), selected: px === 1080, text: `${word} (${px} px)` })));
  const startBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'product-button', 'aria-describedby': 'product-ready' },
    icon('sparkle'), h('span', { text: 'Make turntable' }));
  const ready = h('p', { class: 'product-ready', id: 'product-ready', 'aria-live': 'polite' });
  const bar = progressBar({ label: 'Turntable progress', size: 'thick' });
  bar.id = 'product-progress';
  const phase = h('p', { class: 'product-phase', id: 'product-phase', 'aria-live': 'polite' });
  const detail = h('p', { class: 'muted small product-detail', id: 'product-detail' });
  const progressBox = h('div', { class: 'product-progress', hidden: true }, h('div', { class: 'product-phase-row' }, phase,
    h('span', { class: 'big-percent product-percent', id: 'product-percent', 'aria-hidden': 'true', text: '0%' })), bar, detail);
  const failure = h('div', { class: 'product-failure' });
  const result = h('div', { class: 'product-result' });

  section.body.append(
    h('div', { class: 'product-intro' },
      h('p', { text: `Walk once around the product and take ${can.good_photos} or more photos from about the same `
        + 'height, each overlapping the last, in even light. They never become scenes of the video.' }),
      h('p', { class: ['notice', !can.gpu && 'notice-plain'], id: 'product-capability' }, icon(can.gpu ? 'sparkle' : 'alert'),
        h('span', { text: capabilityLine(can) }))),
    drop,
    h('div', { class: 'product-pick-head' }, h('h3', { class: 'sub-title', text: 'Photos around the product' }), count, allBtn),
    grid, photoBox,
    h('div', { class: 'product-options', role: 'group', 'aria-label': 'Turntable options' },
      qualityCtl,
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: turn.id, text: 'One turn takes' }), turn),
      h('div', { class: 'field' }, h('label', { class: 'field-label', for: size.id, text: 'Size' }), size)),
    h('div', { class: 'product-start' }, startBtn, ready),
    progressBox, failure, result);

  const showCount = () => {
    const n = captures.length;
    const fromVideo = [...picks].filter((id) => !captures.some((c) => c.id === id)).length;
    count.textContent = `${plural(n, 'photo')} · ${picks.size} chosen${fromVideo ? ` (${fromVideo} from the video's photos)` : ''}`;
    allBtn.textContent = captures.length && captures.every((c) => picks.has(c.id)) ? 'Select none' : 'Select all';
    allBtn.hidden = captures.length === 0;
    const short = can.min_photos - picks.size;
    startBtn.disabled = short > 0 || Boolean(current);
    ready.classList.toggle('is-short', short > 0);
    if (current) ready.textContent = 'Making the turntable…';
    else if (short > 0) {
      ready.textContent = `Choose at least ${plural(can.min_photos, 'photo')} taken around the product: `
        + `${short} more. Fewer cannot show it from every side.`;
    } else if (picks.size < can.good_photos) {
      ready.textContent = `${plural(picks.size, 'photo')} chosen. Ready; ${can.good_photos} or more make a smoother turn.`;
    } else ready.textContent = `${plural(picks.size, 'photo')} chosen. Ready.`;
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
    grid.hidden = captures.length === 0;
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
    let slots = can.max_photos - captures.length - queue.length - running;
    for (const file of images) {
      batch.total += 1;
      if (slots <= 0) {
        batch.failed += 1;
        uploadErrors.append(h('li', { class: 'upload-row' }, errorLine({
          detail: `${file.name}: not added, a product takes at most ${can.max_photos} photos.`,
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

  startsJob(startBtn, {
    request: () => post(`${state.base}/product`, {
      asset_ids: [...captures, ...state.photos].filter((p) => picks.has(p.id)).map((p) => p.id),
      preview: quality === 'preview', frames: Number(turn.value), fps: FPS, size: Number(size.value),
    }),
    started: follow,
    label: null,
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
    const made = product.preview ? 'Quick preview (drawn from the photos’ points)' : 'Full quality (trained on a GPU)';
    result.replaceChildren(h('div', { class: 'product-card' },
      h('div', { class: 'product-stage' }, video),
      h('div', { class: 'product-side' },
        h('h3', { class: 'sub-title', text: 'Your turntable' }),
        h('p', { class: 'small', text: `One turn in ${product.duration.toFixed(1)} s, ${product.width}×${product.height} px` }),
        h('p', { class: 'muted small', text: `${made} · ${formatBytes(product.size_bytes)}` }),
        h('label', { class: 'check', for: use.id }, use, h('span', { text: 'Use in video' })),
        h('a', { class: 'btn btn-secondary btn-small', href: `${product.video_url}?download=1`, download: '' },
          icon('download'), h('span', { text: 'Download WebM' })),
        h('a', { class: 'btn btn-quiet btn-small', href: `#/p/${encodeURIComponent(state.projectId)}` },
          icon('back'), h('span', { text: 'Back to the project' })))));
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


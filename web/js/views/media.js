// Step 1: drop in photos and a song (per-file progress and errors), then order the photos.

import { del, get, uploadFile } from '../api.js';
import { announce, formatBytes, formatSeconds, h, icon } from '../dom.js';
import { errorLine, progressBar, showError } from '../ui.js';
import { renderPhotoGrid } from './photogrid.js';
import { drawMiniWave } from './timeline.js';

export const MIN_PHOTOS = 5;
export const MAX_PHOTOS = 40;
const PARALLEL_UPLOADS = 3;
const ACCEPT = 'image/*,audio/*,.heic,.heif,.avif,.avifs,.jxl,.mpo,.tif,.tiff,.mp3,.m4a,.aac,.wav,.flac,.ogg,.opus';
let strayGuard = false;
const AUDIO_EXT = /\.(mp3|m4a|aac|wav|flac|ogg|oga|opus|aif|aiff|weba)$/i;

function looksLikeAudio(file) {
  return (file.type || '').startsWith('audio/') || AUDIO_EXT.test(file.name);
}

export function renderMedia(section, state) {
  const input = h('input', {
    type: 'file', id: 'file-input', multiple: true, accept: ACCEPT, class: 'visually-hidden',
    'aria-label': 'Add photos or a song',
  });
  const chooseBtn = h('button', { type: 'button', class: 'btn btn-primary' }, icon('upload'), h('span', { text: 'Choose files' }));
  chooseBtn.addEventListener('click', () => input.click());
  const drop = h('div', { class: 'dropzone', id: 'dropzone' },
    h('span', { class: 'dropzone-icon' }, icon('image')),
    h('p', { class: 'dropzone-title' }, 'Drag photos and a song here'),
    h('p', { class: 'dropzone-text muted' }, 'JPEG, PNG, HEIC, AVIF, WebP… and MP3, M4A or WAV for music'),
    chooseBtn, input);

  const queueList = h('ul', { class: 'upload-list', 'aria-label': 'Uploads' });
  const queueHead = h('div', { class: 'upload-head' });
  const queueBox = h('div', { class: 'uploads', hidden: true }, queueHead, queueList);

  const countLine = h('p', { class: 'photo-count', 'aria-live': 'polite' });
  const gridHost = h('div', { class: 'grid-host' });
  const musicHost = h('div', { class: 'music-host' });

  section.body.append(
    h('div', { class: 'media-top' }, drop, musicHost),
    queueBox,
    h('div', { class: 'grid-head' }, h('h3', { class: 'sub-title', text: 'Your photos, in order' }), countLine),
    gridHost);

  // ------------------------------------------------------------------ uploads
  const queue = [];
  let running = 0;
  let batch = { total: 0, ok: 0, failed: 0 };

  function addFiles(files) {
    if (!files.length) return;
    if (running === 0 && queue.length === 0) {
      batch = { total: 0, ok: 0, failed: 0 };
      // Keep earlier errors visible, but clear finished rows from the previous batch.
      for (const row of [...queueList.children]) if (row.dataset.state === 'done') row.remove();
    }
    let photoSlots = MAX_PHOTOS - state.photos.length - queue.filter((q) => !q.audio).length - running;
    for (const file of files) {
      const audio = looksLikeAudio(file);
      const row = uploadRow(file);
      queueList.append(row);
      batch.total += 1;
      if (!audio && photoSlots <= 0) {
        row.fail({ detail: `Not added: a project takes at most ${MAX_PHOTOS} photos.`, hint: 'Remove some photos first.' });
        batch.failed += 1;
        continue;
      }
      if (!audio) photoSlots -= 1;
      queue.push({ file, row, audio });
    }
    queueBox.hidden = false;
    updateHead();
    pump();
  }

  function updateHead() {
    const done = batch.ok + batch.failed;
    const left = batch.total - done;
    queueHead.replaceChildren(...[
      h('span', { class: 'upload-summary', text: left > 0
        ? `Uploading ${left} of ${batch.total} file${batch.total === 1 ? '' : 's'}…`
        : `${batch.ok} added${batch.failed ? `, ${batch.failed} not added` : ''}` }),
      left === 0 ? h('button', {
        type: 'button', class: 'btn btn-quiet btn-small', text: 'Clear list',
        onclick: () => { queueList.replaceChildren(); queueBox.hidden = true; },
      }) : null].filter(Boolean));
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length) {
      const job = queue.shift();
      running += 1;
      job.row.start();
      const { promise } = uploadFile({
        projectId: state.projectId,
        file: job.file,
        onProgress: (f) => job.row.progress(f),
        onSent: () => job.row.processing(),
      });
      promise.then((asset) => {
        batch.ok += 1;
        job.row.done(asset);
        state.mediaChanged();
        if (asset && asset.kind === 'music') state.music = asset;
        else if (asset) state.photos = [...state.photos.filter((p) => p.id !== asset.id), asset];
        state.emit('assets');
      }, (err) => {
        batch.failed += 1;
        job.row.fail(err);
      }).finally(() => {
        running -= 1;
        updateHead();
        if (running === 0 && queue.length === 0) finishBatch();
        pump();
      });
    }
  }

  async function finishBatch() {
    // Files that went in now show in the grid; keep only the ones that need attention in the list.
    setTimeout(() => {
      if (running || queue.length) return;
      for (const row of [...queueList.children]) if (row.dataset.state === 'done') row.remove();
      if (!queueList.children.length) queueBox.hidden = true;
    }, 2500);
    announce(`${batch.ok} file${batch.ok === 1 ? '' : 's'} added${batch.failed ? `, ${batch.failed} not added` : ''}.`);
    try {
      await state.refreshAssets(); // the server's order and positions are the truth
      await state.refreshProject();
    } catch (err) {
      showError(err);
    }
  }

  input.addEventListener('change', () => {
    addFiles([...input.files]);
    input.value = '';
  });

  const isFileDrag = (e) => [...(e.dataTransfer?.types || [])].includes('Files');
  let depth = 0;
  drop.addEventListener('dragenter', (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    depth += 1;
    drop.classList.add('is-over');
  });
  drop.addEventListener('dragover', (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  drop.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) drop.classList.remove('is-over');
  });
  drop.addEventListener('drop', (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    depth = 0;
    drop.classList.remove('is-over');
    addFiles([...e.dataTransfer.files]);
  });
  // A file dropped anywhere else on the page should not navigate away from it.
  if (!strayGuard) {
    strayGuard = true;
    const stray = (e) => { if (isFileDrag(e)) e.preventDefault(); };
    window.addEventListener('dragover', stray);
    window.addEventListener('drop', stray);
  }

  // ------------------------------------------------------------------ grid, count and music
  const grid = renderPhotoGrid(gridHost, state);

  function updateCount() {
    const n = state.photos.length;
    countLine.className = ['photo-count', n < MIN_PHOTOS ? 'is-short' : ''].join(' ');
    countLine.textContent = n === 0
      ? 'No photos yet'
      : n < MIN_PHOTOS
        ? `${n} photo${n === 1 ? '' : 's'} · add ${MIN_PHOTOS - n} more`
        : `${n} photo${n === 1 ? '' : 's'}`;
    section.status.textContent = n ? `${n} photo${n === 1 ? '' : 's'}${state.music ? ' · song' : ''}` : '';
    section.status.classList.toggle('is-done', n >= MIN_PHOTOS);
  }

  let shownMusic = null;
  function updateMusic() {
    const m = state.music;
    if (m && shownMusic === m.id) return;
    shownMusic = m ? m.id : null;
    musicHost.replaceChildren(musicCard(m, state));
  }

  state.on('assets', () => {
    grid.update();
    updateCount();
    updateMusic();
  });
  grid.update();
  updateCount();
  updateMusic();
}

function uploadRow(file) {
  const bar = progressBar({ label: `Uploading ${file.name}`, size: 'thin' });
  const status = h('span', { class: 'upload-status', text: 'Waiting' });
  const message = h('div', { class: 'upload-message' });
  const row = h('li', { class: 'upload-row', dataset: { state: 'waiting' } },
    h('span', { class: 'upload-icon' }, icon(looksLikeAudio(file) ? 'music' : 'image')),
    h('div', { class: 'upload-main' },
      h('div', { class: 'upload-line' },
        h('span', { class: 'upload-name', text: file.name, title: file.name }),
        h('span', { class: 'upload-size', text: formatBytes(file.size) }),
        status),
      bar,
      message));
  const set = (state, text) => {
    row.dataset.state = state;
    status.textContent = text;
  };
  row.start = () => set('sending', 'Uploading 0%');
  row.progress = (f) => {
    const pct = Math.round(f * 100);
    bar.update(pct);
    if (row.dataset.state === 'sending') status.textContent = `Uploading ${pct}%`;
  };
  row.processing = () => {
    bar.update(100);
    set('processing', 'Checking…');
  };
  row.done = (asset) => {
    bar.update(100);
    set('done', asset && asset.kind === 'music' ? 'Song added' : 'Added');
    row.querySelector('.upload-icon').replaceChildren(icon('check'));
  };
  row.fail = (err) => {
    set('failed', 'Not added');
    bar.remove();
    row.querySelector('.upload-icon').replaceChildren(icon('alert'));
    // The row already names the file; a reason that starts with the name reads better without it.
    const prefix = `${file.name}: `;
    const detail = err && typeof err.detail === 'string' && err.detail.startsWith(prefix) ? err.detail.slice(prefix.length) : err?.detail;
    message.replaceChildren(errorLine({ detail: detail || err?.message, hint: err?.hint }, { compact: true }));
  };
  return row;
}

function musicCard(music, state) {
  if (!music) {
    return h('div', { class: 'music-card music-empty' },
      h('span', { class: 'music-icon' }, icon('music')),
      h('div', {},
        h('p', { class: 'music-title', text: 'No song yet' }),
        h('p', { class: 'muted small', text: 'Add one with your photos, or MomentLoop composes a track that fits.' })));
  }
  const canvas = h('canvas', { class: 'music-wave', width: 600, height: 56, 'aria-hidden': 'true' });
  const remove = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Remove the song ${music.name}` }, icon('trash'));
  remove.addEventListener('click', async () => {
    try {
      await del(`${state.base}/assets/${encodeURIComponent(music.id)}`);
      state.mediaChanged();
      announce(`Removed the song ${music.name}.`);
      await state.refreshAssets();
      await state.refreshProject();
    } catch (err) {
      showError(err);
    }
  });
  const card = h('div', { class: 'music-card' },
    h('span', { class: 'music-icon is-set' }, icon('music')),
    h('div', { class: 'music-body' },
      h('p', { class: 'music-title', text: music.name, title: music.name }),
      h('p', { class: 'muted small', text: [formatSeconds(music.duration), formatBytes(music.size_bytes)].filter(Boolean).join(' · ') }),
      canvas),
    remove);
  get(`/api/assets/${encodeURIComponent(music.id)}/waveform`)
    .then((w) => {
      const draw = () => drawMiniWave(canvas, w.peaks || []);
      new ResizeObserver(draw).observe(canvas);
    })
    .catch(() => canvas.remove());
  return card;
}

// Step 2: the looks side by side, each shown on one of the person's own photos; choosing one saves it.

import { errorFrom, get, patch } from '../api.js';
import { announce, h, icon, nextId } from '../dom.js';
import { showError } from '../ui.js';

const PRETTY = { ghibli: 'Ghibli', lego: 'LEGO', minecraft: 'Minecraft', simpsons: 'Simpsons', comic: 'Comic', sketch: 'Sketch' };
export const lookTitle = (name) => PRETTY[name] || name.replace(/[_-]+/g, ' ').replace(/^./, (c) => c.toUpperCase());

export function renderLooks(section, state) {
  const pickerHost = h('div', { class: 'preview-photos' });
  const grid = h('div', { class: 'look-grid', role: 'radiogroup', 'aria-label': 'Looks' });
  const empty = h('p', { class: 'notice' }, icon('sparkle'), h('span', { text: 'Add a photo above and every look appears here, painted on your own picture.' }));
  section.body.append(empty, pickerHost, grid);

  let previewId = null; // which photo the looks are shown on
  let shownFor = null;
  let urls = new Map();
  const groupName = nextId('look');

  function updateStatus() {
    section.status.textContent = state.project.look ? lookTitle(state.project.look) : '';
    section.status.classList.toggle('is-done', Boolean(state.project.look));
  }

  let stripKey = '';
  function photoPicker() {
    const key = `${previewId}|${state.photos.map((p) => p.id).join()}`;
    if (key === stripKey) return;
    stripKey = key;
    pickerHost.replaceChildren();
    if (state.photos.length < 2) return;
    const row = h('div', { class: 'preview-strip', role: 'radiogroup', 'aria-label': 'Show the looks on' });
    const name = nextId('pv');
    for (const p of state.photos.slice(0, 40)) {
      const id = nextId('pvp');
      const input = h('input', {
        type: 'radio', name, id, value: p.id, checked: p.id === previewId, class: 'visually-hidden',
        'aria-label': p.name,
        onchange: () => { previewId = p.id; loadPreviews(); },
      });
      row.append(h('label', { class: 'preview-choice', for: id, title: p.name }, input,
        h('img', { src: p.thumbnail_url, alt: '', loading: 'lazy', draggable: 'false' })));
    }
    pickerHost.append(h('p', { class: 'field-label', text: 'Shown on' }), row);
  }

  async function loadPreviews() {
    const photo = state.photoById(previewId);
    shownFor = previewId;
    urls = new Map();
    if (!photo) {
      drawCards();
      return;
    }
    const looks = state.looks.map((l) => l.name);
    try {
      const list = await get(`/api/assets/${encodeURIComponent(photo.id)}/previews?looks=${looks.map(encodeURIComponent).join(',')}`);
      if (shownFor !== photo.id) return;
      urls = new Map(list.map((x) => [x.look, x.url]));
    } catch (err) {
      if (shownFor !== photo.id) return;
      // The single-look route works on its own; use it when the comparison route fails.
      if (err.status !== 404) showError(err);
    }
    drawCards();
  }

  function previewUrl(look) {
    return urls.get(look) || `/api/assets/${encodeURIComponent(shownFor)}/styles/${encodeURIComponent(look)}`;
  }

  function drawCards() {
    const hasPhoto = Boolean(state.photoById(shownFor));
    empty.hidden = hasPhoto;
    grid.replaceChildren(...state.looks.map((look) => card(look, hasPhoto)));
  }

  function card(look, hasPhoto) {
    const id = `${groupName}-${look.name}`;
    const selected = state.project.look === look.name;
    const input = h('input', {
      type: 'radio', name: groupName, id, value: look.name, checked: selected, class: 'visually-hidden',
      'aria-describedby': `${id}-desc`,
      onchange: () => choose(look.name),
    });
    const media = h('div', { class: 'look-media' });
    if (hasPhoto) {
      media.classList.add('is-loading');
      const img = h('img', { alt: `${lookTitle(look.name)} look on your photo`, decoding: 'async', draggable: 'false' });
      img.addEventListener('load', () => media.classList.remove('is-loading'));
      img.addEventListener('error', () => previewFailed(media, look.name));
      img.src = previewUrl(look.name);
      media.append(img);
    } else {
      media.append(h('span', { class: 'look-placeholder' }, icon('sparkle')));
    }
    return h('label', { class: ['look-card', selected && 'is-selected'], for: id },
      input,
      media,
      h('span', { class: 'look-check', 'aria-hidden': 'true' }, icon('check')),
      h('span', { class: 'look-text' },
        h('span', { class: 'look-name', text: lookTitle(look.name) }),
        h('span', { class: 'look-desc', id: `${id}-desc`, text: look.description })));
  }

  async function previewFailed(media, look) {
    media.classList.remove('is-loading');
    media.classList.add('is-failed');
    let reason = 'This preview could not be made.';
    try {
      const res = await fetch(previewUrl(look), { credentials: 'same-origin' });
      if (!res.ok) {
        const body = await res.json().catch(() => null);
        reason = errorFrom(res.status, body, res.statusText).detail;
      }
    } catch {
      reason = 'Cannot reach the MomentLoop server.';
    }
    const retry = h('button', { type: 'button', class: 'btn btn-quiet btn-small', text: 'Retry' });
    retry.addEventListener('click', (e) => {
      e.preventDefault();
      media.classList.remove('is-failed');
      media.classList.add('is-loading');
      const img = h('img', { alt: `${lookTitle(look)} look on your photo`, draggable: 'false' });
      img.addEventListener('load', () => media.classList.remove('is-loading'));
      img.addEventListener('error', () => previewFailed(media, look));
      img.src = `${previewUrl(look)}${previewUrl(look).includes('?') ? '&' : '?'}retry=${Date.now()}`;
      media.replaceChildren(img);
    });
    media.replaceChildren(h('span', { class: 'look-failed' }, icon('alert'), h('span', { text: reason }), retry));
  }

  async function choose(look) {
    const before = state.project.look;
    if (look === before) return;
    state.project = { ...state.project, look };
    markSelected();
    updateStatus();
    try {
      state.setProject(await patch(state.base, { look }));
      announce(`${lookTitle(look)} look chosen.`);
    } catch (err) {
      state.project = { ...state.project, look: before };
      markSelected();
      updateStatus();
      showError(err);
    }
  }

  function markSelected() {
    for (const cardEl of grid.querySelectorAll('.look-card')) {
      const input = cardEl.querySelector('input');
      const on = input.value === state.project.look;
      input.checked = on;
      cardEl.classList.toggle('is-selected', on);
    }
  }

  function sync() {
    if (!state.photoById(previewId)) previewId = state.photos[0]?.id || null;
    photoPicker();
    if (previewId !== shownFor) loadPreviews();
  }

  state.on('assets', sync);
  state.on('project', () => {
    updateStatus();
    markSelected();
  });
  updateStatus();
  drawCards();
  sync();
}

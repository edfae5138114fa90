// Step 2: the looks side by side, each shown on one of the person's own photos; choosing one saves it.
// The cards are toggle buttons: arrow keys only move focus between them (the project changes when a look
// is chosen with Enter, Space or a click, never because focus passed over it).

import { errorFrom, get, patch } from '../api.js';
import { announce, h, icon, nextId } from '../dom.js';
import { showError } from '../ui.js';

const PRETTY = { ghibli: 'Ghibli', lego: 'LEGO', minecraft: 'Minecraft', simpsons: 'Simpsons', comic: 'Comic', sketch: 'Sketch' };
export const lookTitle = (name) => PRETTY[name] || name.replace(/[_-]+/g, ' ').replace(/^./, (c) => c.toUpperCase());

export function renderLooks(section, state) {
  const pickerHost = h('div', { class: 'preview-photos' });
  const grid = h('div', { class: 'look-grid', role: 'group', 'aria-label': 'Looks' });
  const empty = h('p', { class: 'notice' }, icon('sparkle'), h('span', { text: 'Add a photo above and every look appears here, painted on your own picture.' }));
  section.body.append(empty, pickerHost, grid);

  let previewId = null; // which photo the looks are shown on
  let shownFor = null;
  let urls = new Map();
  const groupName = nextId('look');
  let focusedLook = null; // the card in the tab order (roving tabindex)

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
    const hadFocus = grid.contains(document.activeElement);
    grid.replaceChildren(...state.looks.map((look) => card(look, hasPhoto)));
    markSelected();
    if (hadFocus) pickOf(focusedLook)?.focus();
  }

  const cards = () => [...grid.querySelectorAll('.look-card')];
  const cardFor = (name) => cards().find((c) => c.dataset.look === name) || null;
  const pickOf = (name) => cardFor(name)?.querySelector('.look-pick') || null;

  function setFocusable(name) {
    focusedLook = name;
    for (const c of cards()) c.querySelector('.look-pick').tabIndex = c.dataset.look === name ? 0 : -1;
  }

  grid.addEventListener('keydown', (e) => {
    const all = cards();
    const at = all.findIndex((c) => c.contains(e.target) && e.target.matches('.look-pick'));
    if (at < 0) return;
    const columns = Math.max(1, all.filter((c) => c.offsetTop === all[0].offsetTop).length);
    const step = { ArrowLeft: -1, ArrowUp: -columns, ArrowRight: 1, ArrowDown: columns, Home: -at, End: all.length - 1 - at }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, at + step))].dataset.look;
    setFocusable(next);
    pickOf(next).focus();
  });

  function card(look, hasPhoto) {
    const id = `${groupName}-${look.name}`;
    const media = h('span', { class: 'look-media' });
    const el = h('div', { class: 'look-card', dataset: { look: look.name } });
    if (hasPhoto) showPreview(el, media, look.name);
    else media.append(h('span', { class: 'look-placeholder' }, icon('sparkle')));
    const pick = h('button', {
      type: 'button', class: 'look-pick', 'aria-pressed': 'false', tabindex: '-1',
      'aria-labelledby': `${id}-name`, 'aria-describedby': `${id}-desc`,
      onclick: () => {
        setFocusable(look.name);
        choose(look.name);
      },
      onfocus: () => setFocusable(look.name),
    },
    media,
    h('span', { class: 'look-check', 'aria-hidden': 'true' }, icon('check')),
    h('span', { class: 'look-text' },
      h('span', { class: 'look-name', id: `${id}-name`, text: lookTitle(look.name) }),
      h('span', { class: 'look-desc', id: `${id}-desc`, text: look.description })));
    el.append(pick);
    return el;
  }

  function showPreview(cardEl, media, look, { retry = false } = {}) {
    cardEl.querySelector('.look-retry')?.remove();
    media.classList.remove('is-failed');
    media.classList.add('is-loading');
    const img = h('img', { alt: `${lookTitle(look)} look on your photo`, decoding: 'async', draggable: 'false' });
    img.addEventListener('load', () => media.classList.remove('is-loading'));
    img.addEventListener('error', () => previewFailed(cardEl, media, look));
    img.src = retry ? `${previewUrl(look)}${previewUrl(look).includes('?') ? '&' : '?'}retry=${Date.now()}` : previewUrl(look);
    media.replaceChildren(img);
  }

  async function previewFailed(cardEl, media, look) {
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
    media.replaceChildren(h('span', { class: 'look-failed' }, icon('alert'), h('span', { text: reason })));
    // Beside the card's button, not in it: a button holds no other button.
    cardEl.append(h('span', { class: 'look-retry' }, h('button', {
      type: 'button', class: 'btn btn-secondary btn-small', text: 'Retry',
      'aria-label': `Retry the ${lookTitle(look)} preview`, onclick: () => showPreview(cardEl, media, look, { retry: true }),
    })));
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
    for (const cardEl of cards()) {
      const on = cardEl.dataset.look === state.project.look;
      cardEl.querySelector('.look-pick').setAttribute('aria-pressed', String(on));
      cardEl.classList.toggle('is-selected', on);
    }
    if (!cardFor(focusedLook)) focusedLook = state.project.look;
    setFocusable(cardFor(focusedLook) ? focusedLook : cards()[0]?.dataset.look);
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

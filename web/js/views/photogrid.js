// The photos as a grid in video order. Reorder by dragging, with the buttons on each tile, or with the
// keyboard: arrows move between photos, Space picks one up, arrows move it, Space puts it down, Escape
// puts it back. A removed photo leaves the grid at once and is removed from the server only when its Undo
// toast goes (or when anything else is done with the project first), so a stray tap loses nothing.

import { del, put } from '../api.js';
import { announce, h, icon } from '../dom.js';
import { emptyState, showError, toast } from '../ui.js';
import { renderOrderSwitch } from './order.js';

export const UNDO_SECONDS = 8;

export function renderPhotoGrid(host, state) {
  const help = h('p', { class: 'field-help grid-help', id: 'grid-help' },
    'Drag to reorder. With a keyboard: Space picks a photo up, arrow keys move it, Space puts it down.');
  const list = h('ol', { class: 'photo-grid', 'aria-label': 'Photos in video order', 'aria-describedby': 'grid-help' });
  const empty = emptyState({ iconName: 'image', title: 'Your photos will appear here', text: 'They play in this order unless their capture times say otherwise.' });
  host.append(renderOrderSwitch(state), help, list, empty);

  let order = [];
  let grabbed = null; // {id, from: [...order]} while a photo is held with the keyboard
  let activeId = null; // the tile in the tab order (roving tabindex)
  let dragId = null;
  let saving = Promise.resolve();
  const removing = new Map(); // id → {commit, close}: removed from the grid, Undo still offered

  const photo = (id) => state.photoById(id);
  const nameOf = (id) => photo(id)?.name || 'photo';

  function update() {
    if (grabbed || dragId) return;
    order = state.photos.map((p) => p.id);
    if (!order.includes(activeId)) activeId = order[0] || null;
    draw();
  }

  let redrawing = false;
  function draw({ focus = false, button = '' } = {}) {
    const hadFocus = focus || list.contains(document.activeElement);
    redrawing = true;
    list.replaceChildren(...order.map((id, i) => tile(id, i)));
    redrawing = false;
    empty.hidden = order.length > 0;
    help.hidden = order.length < 2;
    list.hidden = order.length === 0;
    if (hadFocus && activeId) {
      const again = button && tileEl(activeId)?.querySelector(`button[data-action="${button}"]:not([disabled])`);
      (again || tileEl(activeId))?.focus();
    }
  }

  const tileEl = (id) => list.querySelector(`.tile[data-id="${CSS.escape(id)}"]`);

  function tile(id, i) {
    const p = photo(id);
    const name = p?.name || 'photo';
    const active = id === activeId;
    const btn = (action, label, iconName, onclick, disabled = false, cls = '') => h('button', {
      type: 'button', class: ['icon-btn', 'icon-btn-small', cls], 'aria-label': label, title: label,
      dataset: { action },
      tabindex: active ? 0 : -1, disabled, onclick: (e) => { e.stopPropagation(); onclick(); },
    }, icon(iconName));
    const el = h('li', {
      class: ['tile', grabbed?.id === id && 'is-grabbed'], tabindex: active ? 0 : -1, draggable: 'true',
      dataset: { id }, 'aria-label': `${name}, photo ${i + 1} of ${order.length}${grabbed?.id === id ? ', picked up' : ''}`,
      'aria-describedby': 'grid-help', 'aria-roledescription': 'movable photo',
    },
      h('div', { class: 'tile-media' },
        p?.thumbnail_url ? h('img', { src: p.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async', draggable: 'false' }) : null,
        h('span', { class: 'tile-pos', 'aria-hidden': 'true', text: String(i + 1) }),
        h('span', { class: 'tile-actions' },
          btn('earlier', `Move ${name} earlier`, 'left', () => moveBy(id, -1, { commit: true, button: 'earlier' }), i === 0),
          btn('later', `Move ${name} later`, 'right', () => moveBy(id, 1, { commit: true, button: 'later' }), i === order.length - 1),
          btn('remove', `Remove ${name}`, 'trash', () => remove(id), false, 'icon-btn-danger'))),
      h('span', { class: 'tile-name', text: name, title: name, 'aria-hidden': 'true' }));
    el.addEventListener('focusin', () => setActive(id));
    el.addEventListener('keydown', (e) => onKey(e, id));
    el.addEventListener('dragstart', (e) => onDragStart(e, id));
    el.addEventListener('dragend', onDragEnd);
    el.addEventListener('blur', (e) => {
      if (redrawing) return;
      if (grabbed && grabbed.id === id && !el.contains(e.relatedTarget) && !list.contains(e.relatedTarget)) drop();
    });
    return el;
  }

  function setActive(id) {
    if (activeId === id) return;
    activeId = id;
    for (const el of list.querySelectorAll('.tile')) {
      const on = el.dataset.id === id;
      el.tabIndex = on ? 0 : -1;
      for (const b of el.querySelectorAll('button')) b.tabIndex = on ? 0 : -1;
    }
  }

  function columns() {
    const tiles = [...list.children];
    if (tiles.length < 2) return 1;
    const top = tiles[0].offsetTop;
    const n = tiles.findIndex((t) => t.offsetTop !== top);
    return n === -1 ? tiles.length : n;
  }

  function onKey(e, id) {
    if (e.target !== e.currentTarget) return; // keys on the tile's own buttons act as buttons
    const i = order.indexOf(id);
    const cols = columns();
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols, Home: -i, End: order.length - 1 - i }[e.key];
    if (grabbed) {
      if (step !== undefined) {
        e.preventDefault();
        moveBy(id, step);
      } else if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        drop();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        order = grabbed.from;
        grabbed = null;
        draw({ focus: true });
        announce(`Move cancelled. ${nameOf(id)} is back at position ${order.indexOf(id) + 1}.`);
      }
      return;
    }
    if (step !== undefined) {
      e.preventDefault();
      const j = Math.max(0, Math.min(order.length - 1, i + step));
      setActive(order[j]);
      tileEl(order[j])?.focus();
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      grabbed = { id, from: [...order] };
      draw({ focus: true });
      announce(`Picked up ${nameOf(id)}, position ${i + 1} of ${order.length}. Use the arrow keys to move it, Space to put it down, Escape to cancel.`);
    }
  }

  function moveBy(id, step, { commit = false, button = '' } = {}) {
    const i = order.indexOf(id);
    const j = Math.max(0, Math.min(order.length - 1, i + step));
    if (i === j) return;
    order.splice(i, 1);
    order.splice(j, 0, id);
    activeId = id;
    draw({ focus: true, button });
    announce(`${nameOf(id)} moved to position ${j + 1} of ${order.length}.`);
    if (commit) save();
  }

  function drop() {
    if (!grabbed) return;
    const { id, from } = grabbed;
    grabbed = null;
    draw({ focus: list.contains(document.activeElement) });
    announce(`${nameOf(id)} put down at position ${order.indexOf(id) + 1} of ${order.length}.`);
    if (from.join() !== order.join()) save();
  }

  function save() {
    const wanted = [...order];
    saving = saving.then(async () => {
      try {
        await commitRemovals(); // the order names every photo the server holds
        const assets = await put(`${state.base}/assets/order`, { asset_ids: wanted });
        state.mediaChanged();
        const photos = Array.isArray(assets) ? assets.filter((a) => a.kind === 'photo') : [];
        state.setAssets([...photos, ...(state.music ? [state.music] : [])]);
      } catch (err) {
        showError(err);
        try {
          await state.refreshAssets();
        } catch { /* the error above already says what happened */ }
      }
    });
    return saving;
  }

  function remove(id) {
    const p = photo(id);
    if (!p || removing.has(id)) return;
    const name = p.name || 'photo';
    const i = order.indexOf(id);
    activeId = order[i + 1] || order[i - 1] || null;
    const refocus = list.contains(document.activeElement);
    state.photos = state.photos.filter((x) => x.id !== id);
    let made = null; // the removal's request, once it is made
    let undone = false;
    const entry = {
      commit: () => {
        if (undone) return Promise.resolve();
        if (!made) {
          removing.delete(id);
          made = (async () => {
            try {
              await del(`${state.base}/assets/${encodeURIComponent(id)}`);
              state.mediaChanged();
              await state.refreshAssets();
              await state.refreshProject();
            } catch (err) {
              showError(err);
              await state.refreshAssets().catch(() => {}); // back in the grid if the server kept it
            }
          })();
        }
        return made;
      },
      undo: () => {
        if (made || undone) return;
        undone = true;
        removing.delete(id);
        // The server never removed it: its place among the others is its own position.
        state.photos = [...state.photos, p].sort((a, b) => a.position - b.position);
        activeId = id;
        state.emit('assets');
        announce(`${name} is back, at position ${order.indexOf(id) + 1}.`);
        tileEl(id)?.focus();
      },
      leave: () => {
        if (made || undone) return;
        made = Promise.resolve();
        removing.delete(id);
        fetch(`${state.base}/assets/${encodeURIComponent(id)}`, { method: 'DELETE', credentials: 'same-origin', keepalive: true });
      },
    };
    removing.set(id, entry);
    state.emit('assets');
    if (refocus && activeId) tileEl(activeId)?.focus();
    entry.close = toast(`Removed ${name}.`, {
      timeout: UNDO_SECONDS * 1000,
      action: { label: 'Undo', onClick: entry.undo },
      onClose: (how) => { if (how !== 'action') entry.commit(); },
    });
    announce(`Removed ${name}. Undo is offered for ${UNDO_SECONDS} seconds.`);
  }

  /** Make every removal still waiting for its Undo: before a change the server must see without them. */
  function commitRemovals() {
    const waiting = [...removing.values()];
    for (const r of waiting) r.close('committed');
    return Promise.all(waiting.map((r) => r.commit()));
  }

  // A photo waiting for its Undo stays out of the grid when the photos are read again (after an upload).
  state.on('assets', () => {
    if (!removing.size || !state.photos.some((p) => removing.has(p.id))) return;
    state.photos = state.photos.filter((p) => !removing.has(p.id));
    state.emit('assets');
  });
  // Anything else done with the project (make the storyboard, render, leave) first makes the removals, so
  // that it never works from a photo the person took out.
  const elsewhere = (e) => {
    if (!removing.size) return;
    const target = e.target instanceof Element ? e.target.closest('button, a[href], input, select, textarea, label') : null;
    if (target && !target.closest('.photo-grid, #toasts')) commitRemovals();
  };
  // The tab closing or reloading: the request must outlive the page.
  const leaving = () => {
    for (const r of [...removing.values()]) r.leave();
  };
  document.addEventListener('click', elsewhere, true);
  window.addEventListener('pagehide', leaving);
  state.on('close', () => {
    document.removeEventListener('click', elsewhere, true);
    window.removeEventListener('pagehide', leaving);
    commitRemovals();
  });

  // ------------------------------------------------------------------ mouse drag and drop
  function onDragStart(e, id) {
    dragId = id;
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', nameOf(id));
    requestAnimationFrame(() => tileEl(id)?.classList.add('is-dragging'));
  }

  list.addEventListener('dragover', (e) => {
    if (!dragId) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'move';
    const over = e.target.closest?.('.tile');
    const dragged = tileEl(dragId);
    if (!over || !dragged || over === dragged) return;
    const rect = over.getBoundingClientRect();
    const after = e.clientX > rect.left + rect.width / 2;
    const ref = after ? over.nextSibling : over;
    if (ref !== dragged && ref !== dragged.nextSibling) list.insertBefore(dragged, ref);
  });
  list.addEventListener('drop', (e) => {
    if (dragId) e.preventDefault();
  });

  function onDragEnd() {
    if (!dragId) return;
    const id = dragId;
    dragId = null;
    const before = order.join();
    order = [...list.querySelectorAll('.tile')].map((el) => el.dataset.id);
    activeId = id;
    draw();
    if (order.join() !== before) {
      announce(`${nameOf(id)} moved to position ${order.indexOf(id) + 1} of ${order.length}.`);
      save();
    }
  }

  return { update };
}

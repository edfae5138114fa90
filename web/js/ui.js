// Small shared pieces of interface: error lines, toasts, progress bars, segmented choices, dialogs.

import { busy, h, icon, nextId } from './dom.js';

/** Server messages are written as clauses ("cannot decode…"); on screen they start a sentence. */
export function sentence(text) {
  const t = String(text || '').trim();
  // Only a plain lowercase word is capitalised: never a file name, an id or a code.
  return /^[a-z]+(\s|$)/.test(t) ? t[0].toUpperCase() + t.slice(1) : t;
}

/** Text with `code` in backticks (how server messages name a command) as text and <code> elements. */
export function withCode(text) {
  return String(text || '').split(/`([^`]+)`/).map((part, i) => (i % 2 ? h('code', { text: part }) : part)).filter(Boolean);
}

/** The one-line reason in bold, the hint beneath it: how every API error is shown. */
export function errorLine(err, { compact = false } = {}) {
  const detail = sentence((err && (err.detail || err.message)) || 'Something went wrong.');
  const hint = sentence(err && err.hint);
  return h('div', { class: ['error-line', compact && 'error-line-compact'], role: 'alert' },
    icon('alert'),
    h('div', { class: 'error-text' },
      h('p', { class: 'error-reason' }, withCode(detail)),
      hint ? h('p', { class: 'error-hint' }, withCode(hint)) : null));
}

// Where the person last pointed or focused, so that a toast does not land on the control just used (the
// button may be disabled or redrawn by the time the toast shows, so its place is kept, not the element).
let touched = null;
function remember(e) {
  const el = e.target instanceof Element ? e.target.closest('button, a, input, select, textarea, label, [tabindex]') : null;
  if (!el || el.closest('#toasts')) return;
  const r = el.getBoundingClientRect();
  touched = { left: r.left, right: r.right, top: r.top + window.scrollY, bottom: r.bottom + window.scrollY };
}
document.addEventListener('pointerdown', remember, true);
document.addEventListener('focusin', remember, true);

function avoided() {
  const rects = [];
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected && !active.closest('#toasts')) {
    const r = active.getBoundingClientRect();
    if (r.width || r.height) rects.push(r);
  }
  if (touched) {
    rects.push({ left: touched.left, right: touched.right, top: touched.top - window.scrollY, bottom: touched.bottom - window.scrollY });
  }
  return rects;
}

const overlap = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
  * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));

/** Put the toasts at the bottom, or at the top when the bottom would cover what the person is using. */
function place(host) {
  const covered = () => {
    const r = host.getBoundingClientRect();
    return avoided().reduce((sum, a) => sum + overlap(r, a), 0);
  };
  host.classList.remove('toasts-top');
  const atBottom = covered();
  if (!atBottom) return;
  host.classList.add('toasts-top');
  if (covered() >= atBottom) host.classList.remove('toasts-top');
}

/**
 * A message that floats at the edge of the window, away from the control just used; errors stay longer.
 * `action` ({label, onClick}) adds a button (Undo); `onClose(how)` is told how it went: 'action', 'dismissed',
 * 'timeout' or 'replaced'. The time runs only while the pointer and focus are elsewhere.
 */
export function toast(message, { kind = 'info', hint = '', timeout, action, onClose } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return () => {};
  let closed = false;
  const close = (how = 'dismissed') => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    el.classList.add('toast-leaving');
    setTimeout(() => el.remove(), 180);
    if (onClose) onClose(how);
  };
  const actionBtn = action ? h('button', { type: 'button', class: 'btn btn-small toast-action', text: action.label,
    onclick: () => {
      action.onClick();
      close('action');
    } }) : null;
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' ? 'alert' : 'check'),
    h('div', { class: 'toast-text' },
      h('p', { class: 'toast-message' }, withCode(message)),
      hint ? h('p', { class: 'toast-hint' }, withCode(hint)) : null),
    actionBtn,
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss', onclick: () => close('dismissed') }, icon('x')));
  el.close = close;
  host.append(el);
  while (host.children.length > 3) {
    const oldest = host.firstElementChild;
    if (oldest.close) oldest.close('replaced');
    oldest.remove();
  }
  place(host);
  const wait = timeout ?? (kind === 'error' ? 12000 : 4000);
  let timer = 0;
  let left = wait;
  let since = 0;
  const run = () => {
    since = Date.now();
    timer = setTimeout(() => close('timeout'), left);
  };
  const hold = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = 0;
    left = Math.max(1500, left - (Date.now() - since));
  };
  const resume = () => {
    if (!timer && !closed && !el.matches(':hover') && !el.contains(document.activeElement)) run();
  };
  el.addEventListener('pointerenter', hold);
  el.addEventListener('pointerleave', resume);
  el.addEventListener('focusin', hold);
  el.addEventListener('focusout', () => setTimeout(resume, 0));
  run();
  return close;
}

export function showError(err) {
  if (err && err.name === 'AbortError') return;
  toast(sentence((err && (err.detail || err.message)) || 'Something went wrong.'), { kind: 'error', hint: sentence(err && err.hint) });
}

/** A labelled progress bar; returns the element with an `update(percent, text)` method. */
export function progressBar({ label, percent = 0, size = 'normal', valueText } = {}) {
  const fill = h('span', { class: 'bar-fill' });
  const bar = h('div', {
    class: ['bar', `bar-${size}`], role: 'progressbar', 'aria-label': label,
    'aria-valuemin': 0, 'aria-valuemax': 100,
  }, fill);
  bar.update = (pct, text) => {
    const p = Math.max(0, Math.min(100, Number(pct) || 0));
    fill.style.width = `${p}%`;
    bar.setAttribute('aria-valuenow', String(Math.round(p)));
    bar.setAttribute('aria-valuetext', text || `${Math.round(p)}%`);
  };
  bar.update(percent, valueText);
  return bar;
}

/** Radio buttons that look like a segmented control. `options`: [{value, label, hint?}]. */
export function segmented({ name, legend, options, value, onChange, hideLegend = false }) {
  const group = h('fieldset', { class: 'segmented' },
    h('legend', { class: hideLegend ? 'visually-hidden' : 'field-label', text: legend }));
  const row = h('div', { class: 'segmented-row' });
  for (const opt of options) {
    const id = nextId(name);
    const input = h('input', {
      type: 'radio', name, id, value: opt.value, checked: opt.value === value,
      onchange: () => onChange && onChange(opt.value),
    });
    row.append(h('label', { class: 'segment', for: id, title: opt.hint || null }, input,
      h('span', { class: 'segment-text', text: opt.label })));
  }
  group.append(row);
  return group;
}

/** A labelled input (or any control) with optional help text, wired with aria-describedby. */
export function field({ label, control, help, hideLabel = false }) {
  const id = control.id || nextId('f');
  control.id = id;
  const wrap = h('div', { class: 'field' },
    h('label', { class: hideLabel ? 'visually-hidden' : 'field-label', for: id, text: label }), control);
  if (help) {
    const helpId = `${id}-help`;
    control.setAttribute('aria-describedby', helpId);
    wrap.append(h('p', { class: 'field-help', id: helpId, text: help }));
  }
  return wrap;
}

/** Ask to confirm something that cannot be undone; resolves true or false. */
export function confirmDialog({ title, body, confirm = 'Delete', danger = true }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('form', { method: 'dialog', class: 'dialog-body' },
        h('h2', { id: titleId, class: 'dialog-title', text: title }),
        body ? h('p', { class: 'muted', text: body }) : null,
        h('div', { class: 'dialog-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'btn btn-secondary', text: 'Cancel' }),
          h('button', { type: 'submit', value: 'ok', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], text: confirm }))));
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    dialog.showModal();
    dialog.querySelector('button[value="cancel"]').focus();
  });
}

/** An empty-state block: a calm icon, a line, and an optional action. */
export function emptyState({ iconName, title, text, action }) {
  return h('div', { class: 'empty' },
    h('span', { class: 'empty-icon' }, icon(iconName)),
    h('p', { class: 'empty-title', text: title }),
    text ? h('p', { class: 'muted', text }) : null,
    action || null);
}

/** Section shell used by the project's steps. */
export function stepSection({ id, number, title, subtitle }) {
  const headingId = `${id}-title`;
  const body = h('div', { class: 'step-body' });
  const status = h('span', { class: 'step-status' });
  const section = h('section', { class: 'step card', id, 'aria-labelledby': headingId },
    h('header', { class: 'step-head' },
      h('span', { class: 'step-number', 'aria-hidden': 'true', text: String(number) }),
      h('div', { class: 'step-titles' },
        h('h2', { id: headingId, class: 'step-title', text: title }),
        subtitle ? h('p', { class: 'step-subtitle', text: subtitle }) : null),
      status),
    body);
  section.body = body;
  section.status = status;
  return section;
}

/** Refuses a form's input: `detail` in the form's error slot, and the cursor where it is put right. */
export function refuse(slot, control, detail) {
  slot.append(errorLine({ detail }, { compact: true }));
  control.focus();
}

/** The trimmed value of a form's required `control`; null, once refused with `detail`, when it is empty. */
export function required(slot, control, detail) {
  const value = control.value.trim();
  if (!value) refuse(slot, control, detail);
  return value || null;
}

/** A submitted `form` runs `handler` in the page (no navigation), its error `slot` emptied first. */
export function onSubmit(form, slot, handler) {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    slot.replaceChildren();
    handler();
  });
}

/**
 * `button` starts a job: `request()` asks for it (the button busy meanwhile), `started(job)` follows it, and
 * a refusal goes to `failed(err)` (a toast unless said otherwise).
 */
export function startsJob(button, { request, started, failed = showError, label = 'Starting…' }) {
  button.addEventListener('click', async () => {
    try {
      started(await busy(button, request, label));
    } catch (err) {
      failed(err);
    }
  });
}

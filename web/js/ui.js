// Small shared pieces of interface: error lines, toasts, progress bars, segmented choices, dialogs.

import { h, icon, nextId } from './dom.js';

/** Server messages are written as clauses ("cannot decode…"); on screen they start a sentence. */
export function sentence(text) {
  const t = String(text || '').trim();
  // Only a plain lowercase word is capitalised: never a file name, an id or a code.
  return /^[a-z]+(\s|$)/.test(t) ? t[0].toUpperCase() + t.slice(1) : t;
}

/** The one-line reason in bold, the hint beneath it: how every API error is shown. */
export function errorLine(err, { compact = false } = {}) {
  const detail = sentence((err && (err.detail || err.message)) || 'Something went wrong.');
  const hint = sentence(err && err.hint);
  return h('div', { class: ['error-line', compact && 'error-line-compact'], role: 'alert' },
    icon('alert'),
    h('div', { class: 'error-text' },
      h('p', { class: 'error-reason', text: detail }),
      hint ? h('p', { class: 'error-hint', text: hint }) : null));
}

/** A message that floats in the corner; errors stay until dismissed or replaced after a while. */
export function toast(message, { kind = 'info', hint = '', timeout } = {}) {
  const host = document.getElementById('toasts');
  if (!host) return () => {};
  const close = () => {
    el.classList.add('toast-leaving');
    setTimeout(() => el.remove(), 180);
  };
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' ? 'alert' : 'check'),
    h('div', { class: 'toast-text' },
      h('p', { class: 'toast-message', text: message }),
      hint ? h('p', { class: 'toast-hint', text: hint }) : null),
    h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Dismiss', onclick: close }, icon('x')));
  host.append(el);
  while (host.children.length > 3) host.firstElementChild.remove();
  setTimeout(close, timeout ?? (kind === 'error' ? 12000 : 4000));
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

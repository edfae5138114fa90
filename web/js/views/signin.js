// Sign in with a token from `momentloop users add NAME`; the server answers with a session cookie.

import { post } from '../api.js';
import { busy, h, icon } from '../dom.js';
import { errorLine, onSubmit, required } from '../ui.js';

export function renderSignIn(root, { message, onSignedIn }) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', required: true, autocomplete: 'current-password',
    spellcheck: 'false', class: 'input', placeholder: 'Paste your access token',
    'aria-describedby': 'token-help',
  });
  const errorSlot = h('div', { class: 'form-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, h('span', { text: 'Sign in' }));
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { class: 'field-label', for: 'token', text: 'Access token' }),
      input,
      h('p', { class: 'field-help', id: 'token-help' },
        'Ask whoever runs this server, or run ', h('code', { text: 'momentloop users add YOUR_NAME' }),
        ' and paste the token it prints.')),
    errorSlot,
    submit);

  onSubmit(form, errorSlot, async () => {
    const token = required(errorSlot, input, 'Paste your access token first.');
    if (!token) return;
    try {
      await busy(submit, () => post('/api/session', { token }, { quietUnauthorized: true }), 'Signing in…');
      input.value = '';
      onSignedIn();
    } catch (err) {
      const shown = err.status === 401
        ? { detail: 'That token is not valid.', hint: err.hint || 'Check that you copied the whole last line.' }
        : err;
      errorSlot.append(errorLine(shown, { compact: true }));
      input.select();
      input.focus();
    }
  });

  root.append(h('div', { class: 'signin' },
    h('div', { class: 'signin-card card' },
      h('div', { class: 'signin-hero' },
        h('span', { class: 'signin-mark' }, icon('logo')),
        h('h1', { class: 'signin-title', text: 'Your photos, set to music' }),
        h('p', { class: 'muted', text: 'MomentLoop turns a handful of photos into a short, beat-synced video in the look you pick.' })),
      message ? h('p', { class: 'notice', role: 'status', text: message }) : null,
      form)));
  input.focus();
}

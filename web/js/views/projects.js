// The signed-in person's projects, newest first, and the form that starts a new one.

import { del, get, post } from '../api.js';
import { busy, h, icon, formatWhen } from '../dom.js';
import { confirmDialog, emptyState, errorLine, field, onSubmit, refuse, required, segmented, showError, toast } from '../ui.js';
import { lookTitle } from './looks.js';

export const ASPECTS = [
  { value: '9:16', label: 'Vertical 9:16', hint: 'Reels, TikTok, Shorts' },
  { value: '1:1', label: 'Square 1:1', hint: 'Feeds' },
  { value: '16:9', label: 'Wide 16:9', hint: 'YouTube, TV' },
];

/** Parse the optional length field: '' means automatic (null). */
export function parseDuration(text) {
  const t = String(text).trim();
  if (!t) return { value: null };
  const v = Number(t);
  if (!Number.isFinite(v) || v < 1 || v > 600) return { error: 'Length must be between 1 and 600 seconds, or empty for automatic.' };
  return { value: v };
}

export function renderProjects(root) {
  const list = h('div', { class: 'project-list', 'aria-busy': 'true' });
  const page = h('div', { class: 'page' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { class: 'page-title', text: 'Your projects' }),
        h('p', { class: 'muted', text: 'Each project is one video: its photos, its song, its look.' }))),
    h('div', { class: 'projects-layout' }, newProjectForm(), h('section', { 'aria-label': 'Projects', class: 'projects-col' }, list)));
  root.append(page);

  let alive = true;
  async function load() {
    try {
      const projects = await get('/api/projects');
      if (!alive) return;
      list.removeAttribute('aria-busy');
      list.replaceChildren();
      if (!projects.length) {
        list.append(emptyState({
          iconName: 'film', title: 'No projects yet',
          text: 'Give your first one a name to start; you can change everything later.',
        }));
        return;
      }
      for (const p of projects) list.append(projectCard(p, load));
    } catch (err) {
      if (!alive) return;
      list.removeAttribute('aria-busy');
      list.replaceChildren(errorLine(err), h('button', { type: 'button', class: 'btn btn-secondary', text: 'Try again', onclick: load }));
    }
  }
  list.append(...[0, 1, 2].map(() => h('div', { class: 'project-card skeleton', 'aria-hidden': 'true' })));
  load();
  return () => { alive = false; };
}

function newProjectForm() {
  let aspect = '9:16';
  const name = h('input', { class: 'input', name: 'name', required: true, maxlength: 120, placeholder: 'Summer in Lisbon', autocomplete: 'off' });
  const duration = h('input', { class: 'input input-short', name: 'duration', type: 'number', min: 1, max: 600, step: 0.5, inputmode: 'decimal', placeholder: 'Auto' });
  const errorSlot = h('div', { class: 'form-error' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), h('span', { text: 'Create project' }));
  const form = h('form', { class: 'card card-pad new-project', 'aria-labelledby': 'new-project-title', novalidate: true },
    h('h2', { class: 'card-title', id: 'new-project-title', text: 'New project' }),
    field({ label: 'Project name', control: name }),
    segmented({ name: 'aspect', legend: 'Shape', options: ASPECTS, value: aspect, onChange: (v) => { aspect = v; } }),
    field({ label: 'Length in seconds', control: duration, help: 'Leave empty for about 3 seconds per photo.' }),
    errorSlot,
    submit);
  onSubmit(form, errorSlot, async () => {
    const title = required(errorSlot, name, 'Give the project a name.');
    if (!title) return;
    const d = parseDuration(duration.value);
    if (d.error) {
      refuse(errorSlot, duration, d.error);
      return;
    }
    try {
      const project = await busy(submit, () => post('/api/projects', { name: title, aspect, duration: d.value }), 'Creating…');
      window.location.hash = `#/p/${encodeURIComponent(project.id)}`;
    } catch (err) {
      errorSlot.append(errorLine(err, { compact: true }));
    }
  });
  return form;
}

function projectCard(p, reload) {
  const open = `#/p/${encodeURIComponent(p.id)}`;
  const remove = h('button', { type: 'button', class: 'icon-btn', 'aria-label': `Delete project ${p.name}` }, icon('trash'));
  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete “${p.name}”?`,
      body: 'Its photos, storyboard and videos are deleted with it. This cannot be undone.',
    });
    if (!ok) return;
    try {
      await del(`/api/projects/${encodeURIComponent(p.id)}`);
      toast(`Deleted “${p.name}”.`);
      reload();
    } catch (err) {
      showError(err);
    }
  });
  const photos = p.photo_count === 1 ? '1 photo' : `${p.photo_count ?? 0} photos`;
  const shape = `shape-${String(p.aspect).replace(':', 'x')}`;
  // The first photo, in the video's shape; a project without photos shows its shape as an outline.
  const cover = p.cover_url
    ? h('span', { class: ['project-cover', shape], 'aria-hidden': 'true' },
      h('img', { class: 'project-thumb', src: p.cover_url, alt: '', loading: 'lazy', decoding: 'async' }))
    : h('span', { class: ['project-shape', shape], 'aria-hidden': 'true' });
  return h('article', { class: 'project-card' },
    cover,
    h('div', { class: 'project-info' },
      h('h3', { class: 'project-name' }, h('a', { href: open, class: 'stretched', text: p.name })),
      h('p', { class: 'project-meta' },
        h('span', { text: photos }),
        h('span', { text: `${lookTitle(p.look)} look` }),
        h('span', { text: p.aspect }),
        p.music ? h('span', {}, icon('music'), ' ', p.music.name) : null),
      h('p', { class: 'project-when', text: `Edited ${formatWhen(p.updated_at)}` })),
    remove);
}

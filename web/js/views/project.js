// One project: its header and settings, then the four steps (photos, look, storyboard, render).

import { del, get, patch } from '../api.js';
import { busy, h, icon } from '../dom.js';
import { confirmDialog, segmented, showError, stepSection, toast } from '../ui.js';
import { renderLooks } from './looks.js';
import { renderMedia } from './media.js';
import { productStepLink } from './product.js';
import { openProjectPage } from './projectpage.js';
import { ASPECTS, parseDuration } from './projects.js';
import { renderRender } from './render.js';
import { renderStoryboard } from './storyboard.js';

export function renderProject(root, { projectId }) {
  const { state, close } = openProjectPage(root, {
    projectId,
    kind: 'project',
    opening: 'Opening project…',
    what: 'project',
    load: async (opened, alive) => {
      const [project, assets, looks] = await Promise.all([
        get(opened.base), get(`${opened.base}/assets`), get('/api/styles'),
      ]);
      if (!alive()) return;
      opened.looks = looks;
      opened.project = project;
      opened.setAssets(assets);
      await opened.refreshPlan();
    },
    show: (page, opened) => {
      page.replaceChildren();
      build(page, opened);
      opened.markReady();
      document.title = `${opened.project.name} · MomentLoop`;
    },
  });

  // Back from another tab or window: the project may have changed there.
  const onVisible = () => {
    if (document.visibilityState === 'visible') state.statusChanged();
  };
  document.addEventListener('visibilitychange', onVisible);

  return () => {
    document.removeEventListener('visibilitychange', onVisible);
    close();
  };
}

function build(page, state) {
  const media = stepSection({ id: 'step-photos', number: 1, title: 'Photos and music', subtitle: 'Add 5 to 40 photos and, if you like, a song.' });
  const look = stepSection({ id: 'step-look', number: 2, title: 'Look', subtitle: 'Pick how your photos are painted.' });
  const story = stepSection({ id: 'step-storyboard', number: 3, title: 'Storyboard', subtitle: 'Scenes cut on the beat. Change any of them.' });
  const render = stepSection({ id: 'step-render', number: 4, title: 'Render', subtitle: 'Watch every scene come to life, then play and download.' });

  page.append(header(state), stepNav(state), media, look, story, render);
  renderMedia(media, state);
  renderLooks(look, state);
  renderStoryboard(story, state);
  renderRender(render, state);
}

function header(state) {
  const title = h('h1', { class: 'page-title project-title', id: 'project-title' });
  const renameBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': 'Rename project' }, icon('edit'));
  const titleRow = h('div', { class: 'title-row' }, title, renameBtn);
  const showTitle = () => {
    title.textContent = state.project.name;
    document.title = `${state.project.name} · MomentLoop`;
  };
  showTitle();
  state.on('project', showTitle);

  renameBtn.addEventListener('click', () => {
    const input = h('input', { class: 'input input-title', value: state.project.name, maxlength: 120, 'aria-label': 'Project name' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-small', text: 'Save' });
    const cancel = h('button', { type: 'button', class: 'btn btn-quiet btn-small', text: 'Cancel' });
    const form = h('form', { class: 'rename-form' }, input, save, cancel);
    const restore = () => {
      form.replaceWith(titleRow);
      renameBtn.focus();
    };
    cancel.addEventListener('click', restore);
    input.addEventListener('keydown', (e) => { if (e.key === 'Escape') restore(); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const name = input.value.trim();
      if (!name || name === state.project.name) {
        restore();
        return;
      }
      try {
        state.setProject(await busy(save, () => patch(state.base, { name })));
        restore();
      } catch (err) {
        showError(err);
      }
    });
    titleRow.replaceWith(form);
    input.select();
  });

  // Settings that change the whole video: shape and length.
  const shape = segmented({
    name: 'project-aspect', legend: 'Shape', options: ASPECTS, value: state.project.aspect,
    onChange: async (aspect) => {
      try {
        state.setProject(await patch(state.base, { aspect }));
        toast(`Shape set to ${aspect}.`, { hint: state.plan ? 'The storyboard keeps your edits: update it in step 3 for the new shape.' : '' });
      } catch (err) {
        showError(err);
        shape.querySelector(`input[value="${state.project.aspect}"]`).checked = true;
      }
    },
  });
  const length = h('input', {
    class: 'input input-short', type: 'number', min: 1, max: 600, step: 0.5, inputmode: 'decimal', id: 'project-duration',
    placeholder: 'Auto', value: state.project.duration ?? '', 'aria-describedby': 'project-duration-help',
  });
  length.addEventListener('change', async () => {
    const d = parseDuration(length.value);
    if (d.error) {
      showError({ detail: d.error });
      length.value = state.project.duration ?? '';
      return;
    }
    try {
      state.setProject(await patch(state.base, { duration: d.value }));
      toast(d.value ? `Length set to ${d.value} s.` : 'Length set to automatic.',
        { hint: state.plan ? 'The storyboard keeps your edits: update it in step 3 for the new length.' : '' });
    } catch (err) {
      showError(err);
      length.value = state.project.duration ?? '';
    }
  });

  const remove = h('button', { type: 'button', class: 'btn btn-quiet btn-small btn-danger-quiet' }, icon('trash'), h('span', { text: 'Delete project' }));
  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: `Delete “${state.project.name}”?`,
      body: 'Its photos, storyboard and videos are deleted with it. This cannot be undone.',
    });
    if (!ok) return;
    try {
      await del(state.base);
      toast(`Deleted “${state.project.name}”.`);
      window.location.hash = '#/';
    } catch (err) {
      showError(err);
    }
  });

  return h('header', { class: 'project-head' },
    h('a', { class: 'back-link', href: '#/' }, icon('back'), h('span', { text: 'All projects' })),
    titleRow,
    h('div', { class: 'project-settings', role: 'group', 'aria-label': 'Video settings' },
      shape,
      h('div', { class: 'field field-inline' },
        h('label', { class: 'field-label', for: 'project-duration', text: 'Length (s)' }),
        length,
        h('span', { class: 'visually-hidden', id: 'project-duration-help', text: 'Seconds; empty for automatic.' })),
      remove));
}

function stepNav(state) {
  const items = [
    ['step-photos', 'Photos'], ['step-look', 'Look'], ['step-storyboard', 'Storyboard'], ['step-render', 'Render'],
  ];
  const links = items.map(([id, label], i) => h('li', {},
    h('a', { href: `#${id}`, 'data-step': id, onclick: (e) => {
      e.preventDefault();
      const target = document.getElementById(id);
      target.scrollIntoView({ behavior: 'smooth', block: 'start' });
      target.querySelector('h2')?.setAttribute('tabindex', '-1');
      target.querySelector('h2')?.focus({ preventScroll: true });
    }, dataset: { label } }, h('span', { class: 'stepnav-num', text: String(i + 1) }), h('span', { text: label }),
    h('span', { class: 'visually-hidden stepnav-state' }))));
  const nav = h('nav', { class: 'stepnav', 'aria-label': 'Steps' }, h('ol', {}, links, productStepLink(state)));
  // Each step's state is the project's: 'todo', 'done', or 'stale' (made, but for photos or settings
  // that have changed since). A look is only chosen for something once there are photos to paint.
  const WORDS = { done: 'done', stale: 'out of date', todo: 'to do' };
  const update = () => {
    const plan = state.plan;
    const video = state.latestExport;
    const states = {
      'step-photos': state.photos.length >= 5 ? 'done' : 'todo',
      'step-look': state.photos.length && state.project?.look ? 'done' : 'todo',
      'step-storyboard': !plan ? 'todo' : plan.current ? 'done' : 'stale',
      'step-render': !video ? 'todo' : video.current && (!plan || plan.current) ? 'done' : 'stale',
    };
    for (const a of nav.querySelectorAll('a[data-step]')) {
      const now = states[a.dataset.step];
      if (!now) continue; // another step's link (the optional product step) keeps its own state
      a.dataset.state = now;
      a.classList.toggle('is-done', now === 'done');
      a.classList.toggle('is-stale', now === 'stale');
      a.title = `${a.dataset.label}: ${WORDS[now]}`;
      a.querySelector('.stepnav-state').textContent = `, ${WORDS[now]}`;
    }
  };
  for (const ev of ['assets', 'project', 'plan', 'exports']) state.on(ev, update);
  update();
  return nav;
}

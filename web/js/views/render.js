// Step 4: render. Live progress per scene (style → clip) and for the final video from the job's event
// stream, cancel and resume, then the video in the page and a download. A video made before the latest
// changes (storyboard, look, photos, settings) is labelled out of date, with what changed.

import { post } from '../api.js';
import { announce, busy, formatBytes, formatSeconds, formatWhen, h, icon } from '../dom.js';
import { JobProgress, STAGE_TITLES } from '../progress.js';
import { JobStream } from '../stream.js';
import { errorLine, progressBar, sentence, showError, startsJob, toast } from '../ui.js';

const ACTIVE = new Set(['queued', 'running']);

function sceneNumber(item) {
  const m = /scene\s*#?\s*(\d+)/i.exec(item || '');
  return m ? Number(m[1]) : null;
}

export function renderRender(section, state) {
  const renderBtn = h('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'render-button' }, icon('film'), h('span', { text: 'Render video' }));
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, icon('stop'), h('span', { text: 'Cancel' }));
  const hint = h('p', { class: 'muted small render-hint' });
  const pill = h('span', { class: 'pill', hidden: true, role: 'status' });
  const progressHost = h('div', { class: 'render-progress' });
  const resultHost = h('div', { class: 'result-host' });
  section.body.append(
    h('div', { class: 'render-actions' }, renderBtn, cancelBtn, pill, hint),
    progressHost,
    resultHost);

  let current = null; // {job, progress, view, stream, frame}

  function updateButton() {
    const running = current && current.progress.status === 'running';
    const latest = state.latestExport;
    // Rendering an out-of-date storyboard would show neither it nor the project: update it first.
    renderBtn.disabled = !state.plan || state.planStale || Boolean(running);
    cancelBtn.hidden = !running;
    renderBtn.lastChild.textContent = latest ? 'Render again' : 'Render video';
    const wanted = Boolean(state.plan) && !state.planStale && (!latest || !latest.current);
    renderBtn.classList.toggle('btn-primary', wanted);
    renderBtn.classList.toggle('btn-secondary', !wanted);
    hint.replaceChildren();
    if (running) return;
    if (!state.plan) hint.textContent = 'Make the storyboard first.';
    else if (state.planStale) {
      const why = state.plan.stale.map((r) => r.detail).join('; ');
      hint.append(`The storyboard is out of date (${why}). `,
        h('a', { href: '#step-storyboard', class: 'link', text: 'Update it in step 3',
          onclick: (e) => {
            e.preventDefault();
            document.getElementById('step-storyboard')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
            document.getElementById('make-storyboard')?.focus({ preventScroll: true });
          } }),
        ' first: your edits are carried over.');
    } else if (latest && latest.current) hint.textContent = 'The video below shows the storyboard as it is.';
  }

  startsJob(renderBtn, {
    request: () => post(`${state.base}/render`),
    started: (job) => follow(job),
    failed: (err) => progressHost.replaceChildren(errorLine(err)),
  });

  cancelBtn.addEventListener('click', async () => {
    if (!current) return;
    try {
      const job = await busy(cancelBtn, () => post(`/api/jobs/${encodeURIComponent(current.job.id)}/cancel`), 'Cancelling…');
      if (job.status === 'cancelled') {
        current.progress.cancelled = true;
        finish('cancelled', { detail: 'Cancelled.', hint: 'Resume picks up where it stopped; finished scenes are kept.' });
      }
      else announce('Cancelling: the scene in progress stops first.');
    } catch (err) {
      showError(err);
    }
  });

  // ------------------------------------------------------------------ following a job
  function follow(job, { resumeFrom = null } = {}) {
    stop();
    const progress = resumeFrom || new JobProgress({ kind: job.kind === 'plan' ? 'plan' : 'render' });
    progress.status = 'running';
    progress.cancelled = false;
    progress.error = null;
    progress.hint = null;
    const view = progressView(progress, job);
    progressHost.replaceChildren(view.root);
    current = { job, progress, view, stream: null, frame: 0 };
    const me = current;
    const stream = new JobStream({
      jobId: job.id,
      onEvent: (e) => {
        progress.apply(e);
        if (!me.frame) me.frame = requestAnimationFrame(() => { me.frame = 0; view.update(); });
      },
      onState: (s) => showConnection(s),
      onEnd: (type, err) => {
        if (me !== current) return;
        view.update();
        if (type === 'done') finish('done');
        else if (type === 'failed') {
          if (err && err.jobStatus === 'cancelled') progress.cancelled = true;
          finish('failed', progress.error ? { detail: progress.error, hint: progress.hint } : err);
        }
        else finish('gone', err);
      },
    });
    if (resumeFrom) stream.lastSeq = resumeFrom.lastSeq;
    current.stream = state.track(stream.start());
    updateButton();
    view.update();
  }

  function stop() {
    if (!current) return;
    if (current.stream) current.stream.close();
    cancelAnimationFrame(current.frame);
  }

  async function finish(type, err) {
    const me = current;
    if (!me) return;
    stop();
    showConnection('ended');
    if (type === 'done') {
      me.progress.status = 'done';
      me.view.update();
      announce('Your video is ready.');
      try {
        await state.refreshExports();
        toast('Your video is ready.');
      } catch (e) {
        showError(e);
      }
    } else {
      me.progress.status = 'failed';
      me.progress.error = (err && err.detail) || me.progress.error || 'The render stopped.';
      me.progress.hint = (err && err.hint) || me.progress.hint;
      me.view.update();
      me.view.showFailure({
        detail: me.progress.error, hint: me.progress.hint,
        canResume: type !== 'gone',
        onResume: () => resume(me),
      });
    }
    updateButton();
  }

  async function resume(me) {
    try {
      const job = await post(`/api/jobs/${encodeURIComponent(me.job.id)}/resume`);
      follow(job, { resumeFrom: job.id === me.job.id ? me.progress : null });
    } catch (err) {
      showError(err);
    }
  }

  let bannerTimer = 0;
  function showConnection(s) {
    const texts = {
      connecting: ['Connecting…', 'pill-wait'],
      live: ['Live', 'pill-live'],
      reconnecting: ['Reconnecting…', 'pill-warn'],
      offline: ['Server unreachable, retrying…', 'pill-warn'],
    };
    const t = texts[s];
    pill.hidden = !t;
    if (t) {
      pill.className = `pill ${t[1]}`;
      pill.replaceChildren(h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), h('span', { text: t[0] }));
    }
    // A blip is not worth a banner; a server that stays away for a few seconds is.
    const banner = document.getElementById('connection');
    clearTimeout(bannerTimer);
    if (s === 'reconnecting' || s === 'offline') {
      bannerTimer = setTimeout(() => {
        banner.textContent = 'Lost contact with the MomentLoop server. Retrying: this page picks up where it left off.';
        banner.hidden = false;
      }, 3000);
    } else {
      banner.hidden = true;
    }
  }

  // ------------------------------------------------------------------ the progress panel
  function progressView(progress, job) {
    const overall = progressBar({ label: 'Render progress', size: 'thick' });
    overall.id = 'render-progress';
    const pct = h('span', { class: 'big-percent', 'aria-hidden': 'true', text: '0%' });
    const headline = h('p', { class: 'render-headline', text: 'Starting…' });
    const note = h('p', { class: 'stage-message', hidden: true });
    const stages = h('ol', { class: 'stage-chips', 'aria-label': 'Stages' });
    const scenes = h('ol', { class: 'render-scenes', 'aria-label': 'Scenes' });
    const logList = h('ol', { class: 'log-list' });
    const log = h('details', { class: 'log' }, h('summary', { text: 'Details' }), logList);
    const failure = h('div', { class: 'failure' });
    const root = h('div', { class: 'render-panel card-inset', dataset: { job: job.id } },
      h('div', { class: 'render-top' }, h('div', {}, headline), pct),
      overall, note, stages, scenes, failure, log);
    let shownLog = 0;
    const sceneRows = new Map();

    function stageOrder() {
      const names = [...progress.stages.keys()];
      for (const n of ['style', 'clips', 'compose']) if (!names.includes(n) && job.kind !== 'plan') names.push(n);
      return names;
    }

    function ensureScenes() {
      const plan = state.plan;
      if (!plan || sceneRows.size) return;
      for (const s of plan.scenes) {
        const style = progressBar({ label: `Scene ${s.index + 1} style`, size: 'thin' });
        const clip = progressBar({ label: `Scene ${s.index + 1} clip`, size: 'thin' });
        const styleText = h('span', { class: 'step-state', text: 'waiting' });
        const clipText = h('span', { class: 'step-state', text: 'waiting' });
        const note = h('div', { class: 'scene-note' });
        const row = h('li', { class: 'render-scene', dataset: { state: 'waiting' } },
          h('img', { class: 'render-thumb', src: s.thumbnail_url, alt: '', loading: 'lazy' }),
          h('div', { class: 'render-scene-main' },
            h('p', { class: 'render-scene-title' }, h('strong', { text: `Scene ${s.index + 1}` }), h('span', { class: 'muted', text: s.photo })),
            h('div', { class: 'substeps' },
              h('div', { class: 'substep' }, h('span', { class: 'substep-label', text: 'Style' }), style, styleText),
              h('span', { class: 'substep-arrow', 'aria-hidden': 'true' }, icon('right')),
              h('div', { class: 'substep' }, h('span', { class: 'substep-label', text: 'Clip' }), clip, clipText)),
            note));
        sceneRows.set(s.index, { row, style, clip, styleText, clipText, note, scene: s });
        scenes.append(row);
      }
    }

    function itemFor(stage, scene) {
      const items = progress.items.get(stage);
      if (!items) return null;
      for (const [name, it] of items) {
        if (stage === 'clips') {
          const n = sceneNumber(name);
          if (n !== null ? n === scene.index + 1 : name.includes(scene.photo)) return it;
        } else if (name === scene.photo || name === scene.asset_id || name.includes(scene.photo)) {
          return it;
        }
      }
      return null;
    }

    const stateText = (it, stageStatus) => {
      if (!it) return stageStatus === 'done' ? 'done' : 'waiting';
      if (it.status === 'failed') return 'failed';
      if (it.status === 'done') return it.note ? 'kept original' : 'done';
      return `${Math.round(it.percent)}%`;
    };

    function update() {
      const p = progress.percent;
      overall.update(p, progress.status === 'done' ? 'Done' : `${Math.round(p)}% · ${progress.currentTitle}`);
      pct.textContent = `${Math.round(p)}%`;
      note.textContent = sentence(progress.currentMessage);
      note.hidden = !note.textContent;
      root.classList.toggle('is-done', progress.status === 'done');
      root.classList.toggle('is-failed', progress.status === 'failed' && !progress.cancelled);
      root.classList.toggle('is-cancelled', progress.status === 'failed' && progress.cancelled);
      if (progress.status === 'done') headline.replaceChildren(icon('check'), h('span', { text: progress.message ? `Done · ${progress.message}` : 'Done' }));
      else if (progress.status === 'failed') headline.replaceChildren(icon(progress.cancelled ? 'stop' : 'alert'), h('span', { text: progress.cancelled ? 'Cancelled' : 'Stopped' }));
      else {
        const st = progress.stages.get(progress.current);
        const items = progress.items.get(progress.current);
        const doneCount = items ? [...items.values()].filter((i) => i.status === 'done' || i.status === 'failed').length : 0;
        const count = st && st.total > 1 ? ` · ${doneCount} of ${st.total}` : '';
        headline.replaceChildren(h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }),
          h('span', { text: `${progress.currentTitle}${count}` }));
      }

      stages.replaceChildren(...stageOrder().map((name) => {
        const s = progress.stages.get(name);
        let status = s ? s.status : 'waiting';
        if (status === 'running' && progress.status === 'failed') status = 'stopped';
        return h('li', { class: ['stage-chip', `is-${status}`] },
          status === 'done' ? icon('check') : h('span', { class: 'chip-dot', 'aria-hidden': 'true' }),
          h('span', { text: STAGE_TITLES[name] || name }),
          h('span', { class: 'visually-hidden', text: `: ${status === 'running' ? `${Math.round(s.percent)}%` : status}` }));
      }));

      ensureScenes();
      for (const r of sceneRows.values()) {
        const st = itemFor('style', r.scene);
        const cl = itemFor('clips', r.scene);
        const styleStage = progress.stages.get('style')?.status;
        const clipStage = progress.stages.get('clips')?.status;
        const done = progress.status === 'done';
        const sp = done || styleStage === 'done' ? 100 : st ? (st.status === 'done' ? 100 : st.percent) : 0;
        const cp = done || clipStage === 'done' ? 100 : cl ? (cl.status === 'done' ? 100 : cl.percent) : 0;
        r.style.update(sp);
        r.clip.update(cp);
        r.styleText.textContent = done ? 'done' : stateText(st, styleStage);
        r.clipText.textContent = done ? 'done' : stateText(cl, clipStage);
        const failed = (st && st.status === 'failed') || (cl && cl.status === 'failed');
        const rowState = failed ? 'failed' : cp >= 100 ? 'done' : sp > 0 || cp > 0 ? 'running' : 'waiting';
        r.row.dataset.state = rowState;
        const err = (cl && cl.error) ? cl : (st && st.error) ? st : null;
        if (err && !r.note.firstChild) r.note.append(errorLine({ detail: err.error, hint: err.hint }, { compact: true }));
        else if (st && st.note && !r.note.firstChild) r.note.append(h('p', { class: 'muted small', text: st.note }));
      }

      for (; shownLog < progress.log.length; shownLog += 1) {
        const l = progress.log[shownLog];
        logList.append(h('li', { dataset: { seq: String(l.seq ?? '') } }, l.stage ? h('span', { class: 'log-stage', text: STAGE_TITLES[l.stage] || l.stage }) : null, ' ', l.message));
      }
      log.hidden = progress.log.length === 0;
    }

    function showFailure({ detail, hint, canResume, onResume }) {
      const message = progress.cancelled
        ? h('p', { class: 'notice' }, icon('stop'), h('span', { text: sentence(hint) || 'Resume picks up where it stopped.' }))
        : errorLine({ detail, hint });
      const resumeBtn = canResume
        ? h('button', { type: 'button', class: 'btn btn-primary btn-small' }, icon('refresh'), h('span', { text: 'Resume' }))
        : null;
      if (resumeBtn) {
        resumeBtn.addEventListener('click', () => busy(resumeBtn, onResume, 'Resuming…'));
      }
      failure.replaceChildren(...[message, resumeBtn].filter(Boolean));
    }

    return { root, update, showFailure };
  }

  // ------------------------------------------------------------------ the result
  let shown = null; // what the result shows, so a change elsewhere does not restart a playing video
  function drawResult() {
    const [latest, ...older] = state.exports;
    const fresh = Boolean(latest) && latest.current && !state.planStale;
    const changes = latest ? [...(latest.stale || []), ...(latest.current && state.planStale
      ? state.plan.stale.map((r) => r.detail) : [])] : [];
    const key = JSON.stringify([state.exports.map((x) => x.id), fresh, changes]);
    if (key === shown) return;
    shown = key;
    resultHost.replaceChildren();
    section.status.textContent = !latest ? '' : fresh ? 'Video ready' : 'Out of date';
    section.status.classList.toggle('is-done', fresh);
    section.status.classList.toggle('is-stale', Boolean(latest) && !fresh);
    if (!latest) return;
    const downloadUrl = `${latest.video_url}${latest.video_url.includes('?') ? '&' : '?'}download=1`;
    const fileName = `${(state.project.name || 'momentloop').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'momentloop'}.mp4`;
    const video = h('video', {
      id: 'result-video', class: 'result-video', controls: true, playsinline: true, preload: 'metadata',
      poster: latest.poster_url, src: latest.video_url, 'aria-label': `Your video, ${formatSeconds(latest.duration)}`,
      tabindex: '0',
      style: { aspectRatio: `${latest.width} / ${latest.height}` },
    });
    video.addEventListener('error', () => {
      if (!video.querySelector('.error-line')) {
        resultHost.querySelector('.result-error')?.replaceChildren(errorLine({
          detail: 'This browser could not play the video.', hint: 'Download it and open it in a video player.',
        }, { compact: true }));
      }
    });
    const outdated = fresh ? null : h('div', { class: 'notice notice-warn result-outdated', role: 'status', id: 'result-outdated' },
      icon('alert'),
      h('div', {},
        h('p', { class: 'notice-title', text: 'Out of date: this video was made before your latest changes.' }),
        h('ul', { class: 'stale-list' }, changes.map((c) => h('li', { text: c.replace(/^./, (x) => x.toUpperCase()) }))),
        h('p', { text: state.planStale ? 'Update the storyboard, then render again to see them.' : 'Render again to see them.' })));
    const card = h('div', { class: ['result', `result-${latest.width >= latest.height ? 'wide' : 'tall'}`, !fresh && 'is-outdated'] },
      h('div', { class: 'result-stage' }, video,
        fresh ? null : h('span', { class: 'stale-badge', 'aria-hidden': 'true', text: 'Out of date' })),
      h('div', { class: 'result-side' },
        h('h3', { class: 'sub-title', text: fresh ? 'Your video' : 'Your last video (out of date)' }),
        h('ul', { class: 'facts facts-stacked' },
          h('li', {}, h('span', { class: 'muted', text: 'Length' }), h('strong', { text: formatSeconds(latest.duration, 2) })),
          h('li', {}, h('span', { class: 'muted', text: 'Size' }), h('strong', { text: `${latest.width}×${latest.height}` })),
          h('li', {}, h('span', { class: 'muted', text: 'File' }), h('strong', { text: `MP4 · ${formatBytes(latest.size_bytes)}` })),
          h('li', {}, h('span', { class: 'muted', text: 'Made' }), h('strong', { text: formatWhen(latest.created_at) }))),
        h('a', { class: 'btn btn-primary btn-block', href: downloadUrl, download: fileName, id: 'download-link' },
          icon('download'), h('span', { text: 'Download MP4' })),
        h('div', { class: 'result-error' }),
        older.length ? h('details', { class: 'older' },
          h('summary', { text: `Earlier versions (${older.length})` }),
          h('ul', {}, older.map((x) => h('li', {},
            h('a', { href: `${x.video_url}${x.video_url.includes('?') ? '&' : '?'}download=1`, download: fileName },
              `${formatWhen(x.created_at)} · ${formatSeconds(x.duration)} · ${formatBytes(x.size_bytes)}`))))) : null));
    resultHost.append(...[outdated, card].filter(Boolean));
  }

  state.on('exports', () => {
    drawResult();
    updateButton();
  });
  state.on('plan', () => {
    updateButton();
    drawResult();
  });
  state.on('assets', updateButton);
  state.on('job-started', (e) => follow(e.detail));
  state.on('close', () => {
    stop();
    clearTimeout(bannerTimer);
    document.getElementById('connection').hidden = true;
  });
  state.on('jobs', () => {
    const renders = state.jobs.filter((j) => j.kind !== 'plan' && j.kind !== 'product')
      .sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const latest = renders[0];
    if (!latest || (current && current.job.id === latest.id)) return;
    if (ACTIVE.has(latest.status)) follow(latest);
    else if ((latest.status === 'failed' || latest.status === 'cancelled') && !latest.export_id) {
      // Show how the last render ended and offer to resume it.
      const progress = new JobProgress({ kind: 'render' });
      progress.status = 'failed';
      progress.cancelled = latest.status === 'cancelled';
      const view = progressView(progress, latest);
      progressHost.replaceChildren(view.root);
      current = { job: latest, progress, view, stream: null, frame: 0 };
      view.update();
      view.showFailure({
        detail: latest.error || 'The last render failed.',
        hint: latest.hint || (progress.cancelled ? 'The last render was cancelled. Resume picks up where it stopped.' : ''),
        canResume: true, onResume: () => resume(current),
      });
      updateButton();
    }
  });

  (async () => {
    try {
      await Promise.all([state.refreshExports(), state.refreshJobs()]);
    } catch (err) {
      showError(err);
    }
  })();
  updateButton();
}

// Step 3: the storyboard. Scenes laid on the song's waveform with beat and downbeat markers, a card per
// scene, and an editor for its camera move, transition, length in beats, prompt and place. Every state is
// kept on the server (Undo, Redo); a change of photos or settings marks the storyboard out of date rather
// than deleting it, and the new one takes over every edit that still applies (and says which could not).

import { patch, post, put } from '../api.js';
import { announce, busy, formatSeconds, h, icon } from '../dom.js';
import { JobProgress } from '../progress.js';
import { JobStream } from '../stream.js';
import { emptyState, errorLine, field, progressBar, segmented, sentence, showError, startsJob, toast } from '../ui.js';
import { drawTimeline } from './timeline.js';

export const MOVES = {
  push_in: 'Push in', pull_out: 'Pull out', pan_left: 'Pan left', pan_right: 'Pan right',
  pan_up: 'Pan up', pan_down: 'Pan down', drift: 'Drift',
};
export const TRANSITIONS = { cut: 'Cut', crossfade: 'Crossfade' };

export function renderStoryboard(section, state) {
  const makeBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'make-storyboard' }, icon('sparkle'), h('span', { text: 'Make storyboard' }));
  const summary = h('div', { class: 'story-summary' });
  const jobHost = h('div', { class: 'story-job', 'aria-live': 'polite' });
  const stale = h('div', { class: 'notice notice-warn story-stale', hidden: true, role: 'status' });
  const carried = h('div', { class: 'story-carried', hidden: true });
  const undoBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'plan-undo' }, icon('back'), h('span', { text: 'Undo' }));
  const redoBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'plan-redo' }, h('span', { text: 'Redo' }), icon('right'));
  const lastChange = h('p', { class: 'story-note muted small', id: 'story-note', role: 'status' });
  const history = h('div', { class: 'story-history', role: 'group', 'aria-label': 'Storyboard history', hidden: true },
    undoBtn, redoBtn, lastChange);
  const body = h('div', { class: 'story-body' });
  section.body.append(h('div', { class: 'story-top' }, summary, makeBtn), history, jobHost, stale, carried, body);

  let selected = 0;
  let stream = null;
  let canvas = null;
  let lane = null;
  let resize = null;

  // ------------------------------------------------------------------ making the plan
  startsJob(makeBtn, {
    request: () => post(`${state.base}/plan`),
    started: (job) => follow(job),
    failed: (err) => jobHost.replaceChildren(errorLine(err)),
  });

  function follow(job) {
    if (stream) stream.close();
    const progress = new JobProgress({ kind: 'plan' });
    const bar = progressBar({ label: 'Making the storyboard', size: 'thin' });
    const line = h('p', { class: 'job-line' }, h('span', { class: 'spinner spinner-small', 'aria-hidden': 'true' }), h('span', { text: 'Starting…' }));
    const note = h('p', { class: 'stage-message', hidden: true });
    jobHost.replaceChildren(h('div', { class: 'job-card' }, line, bar, note));
    makeBtn.disabled = true;
    const show = () => {
      bar.update(progress.percent);
      line.lastChild.textContent = `${progress.currentTitle}… ${Math.round(progress.percent)}%`;
      note.textContent = sentence(progress.currentMessage);
      note.hidden = !note.textContent;
    };
    stream = state.track(new JobStream({
      jobId: job.id,
      onEvent: (e) => { progress.apply(e); show(); },
      onState: (s) => jobHost.firstChild?.classList.toggle('is-offline', s === 'offline' || s === 'reconnecting'),
      onEnd: async (type, err) => {
        updateStale();
        if (type === 'done') {
          jobHost.replaceChildren();
          try {
            selected = 0;
            await state.refreshStatus();
            const lost = (state.plan?.carried || []).filter((c) => !c.kept).length;
            announce(`Storyboard ready: ${state.plan?.scenes.length || 0} scenes.${lost ? ` ${lost} of your edits could not be kept; the list says why.` : ''}`);
          } catch (e) {
            showError(e);
          }
        } else {
          const retry = h('button', { type: 'button', class: 'btn btn-secondary btn-small', text: 'Try again', onclick: () => makeBtn.click() });
          jobHost.replaceChildren(h('div', { class: 'job-card is-failed' },
            errorLine(type === 'failed' && progress.error ? { detail: progress.error, hint: progress.hint } : err), retry));
        }
      },
    }).start());
  }

  state.on('jobs', () => {
    const running = state.jobs.find((j) => j.kind === 'plan' && (j.status === 'running' || j.status === 'queued'));
    if (running && (!stream || stream.jobId !== running.id)) follow(running);
  });

  // ------------------------------------------------------------------ undo and redo
  const sentenceOf = (t) => String(t || '').replace(/^./, (c) => c.toUpperCase());
  async function step(which) {
    const btn = which === 'undo' ? undoBtn : redoBtn;
    const what = which === 'undo' ? state.plan?.undo : state.plan?.redo;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      state.setPlan(await post(`${state.base}/plan/${which}`));
      state.refreshExports().catch(() => {});
      const said = `${which === 'undo' ? 'Undone' : 'Redone'}: ${what}.`;
      toast(said);
      announce(said);
    } catch (err) {
      showError(err);
      await state.refreshPlan().catch(() => {});
    } finally {
      btn.removeAttribute('aria-busy');
      updateStale();
      // Keep the keyboard where it was; at either end of the history, on the other button.
      (btn.disabled ? (which === 'undo' ? redoBtn : undoBtn) : btn).focus();
    }
  }
  undoBtn.addEventListener('click', () => step('undo'));
  redoBtn.addEventListener('click', () => step('redo'));

  // ------------------------------------------------------------------ showing it
  function updateStale() {
    const plan = state.plan;
    makeBtn.disabled = !state.photos.length || Boolean(stream && !stream.closed);
    if (!plan) {
      summary.replaceChildren(h('p', { class: 'muted', text: state.photos.length
        ? 'MomentLoop reads your photos and the music, then cuts a scene on the beat for each photo.'
        : 'Add your photos first.' }));
    }
    makeBtn.lastChild.textContent = !plan ? 'Make storyboard' : state.planStale ? 'Update storyboard' : 'Make again';
    makeBtn.classList.toggle('btn-primary', !plan || state.planStale);
    makeBtn.classList.toggle('btn-secondary', Boolean(plan) && !state.planStale);
    stale.hidden = !state.planStale;
    if (state.planStale) {
      stale.replaceChildren(icon('refresh'), h('div', {},
        h('p', { class: 'notice-title', text: 'This storyboard is out of date.' }),
        h('ul', { class: 'stale-list' }, plan.stale.map((r) => h('li', { text: sentenceOf(r.detail) }))),
        h('p', { text: 'It is kept as you left it. Update it to fit: your edits are carried over to the scenes of the same photos, and you are told of any that no longer fit. Undo brings this one back.' })));
    }
    history.hidden = !plan;
    if (plan) {
      undoBtn.disabled = !plan.can_undo;
      redoBtn.disabled = !plan.can_redo;
      undoBtn.title = plan.can_undo ? `Undo: ${plan.undo}` : 'Nothing to undo';
      redoBtn.title = plan.can_redo ? `Redo: ${plan.redo}` : 'Nothing to redo';
      undoBtn.setAttribute('aria-label', plan.can_undo ? `Undo: ${plan.undo}` : 'Undo (nothing to undo)');
      redoBtn.setAttribute('aria-label', plan.can_redo ? `Redo: ${plan.redo}` : 'Redo (nothing to redo)');
      const said = `Last change: ${plan.note}.`;
      if (lastChange.textContent !== said) lastChange.textContent = said;
    }
    drawCarried(plan);
    section.status.textContent = !plan ? '' : state.planStale ? 'Out of date' : `${plan.scenes.length} scenes`;
    section.status.classList.toggle('is-done', Boolean(plan) && !state.planStale);
    section.status.classList.toggle('is-stale', state.planStale);
  }

  /** After a re-plan: each edit of the storyboard before it, kept or not and why. */
  function drawCarried(plan) {
    const list = plan?.carried || [];
    carried.hidden = !list.length;
    if (!list.length) {
      carried.replaceChildren();
      return;
    }
    const lost = list.filter((c) => !c.kept);
    const kept = list.filter((c) => c.kept);
    const name = (c) => (c.photo ? `${c.photo}: ${c.what}` : sentenceOf(c.what));
    carried.replaceChildren(h('div', { class: ['notice', lost.length ? 'notice-warn' : ''] },
      icon(lost.length ? 'alert' : 'check'),
      h('div', {},
        h('p', { class: 'notice-title', text: lost.length
          ? `${kept.length} of ${list.length} edits carried over; ${lost.length} could not be kept.`
          : `All ${list.length} of your edits were carried over to the new storyboard.` }),
        lost.length ? h('ul', { class: 'carried-lost', 'aria-label': 'Edits not kept' },
          lost.map((c) => h('li', {}, h('strong', { text: name(c) }), ` — ${c.reason}`))) : null,
        kept.length ? h('details', { class: 'carried-kept', open: !lost.length },
          h('summary', { text: `Kept (${kept.length})` }),
          h('ul', {}, kept.map((c) => h('li', { text: name(c) })))) : null)));
  }

  function draw() {
    const plan = state.plan;
    updateStale();
    if (resize) resize.disconnect();
    if (!plan) {
      body.replaceChildren(emptyState({ iconName: 'film', title: 'No storyboard yet', text: 'It takes a few seconds, and you can change every scene afterwards.' }));
      return;
    }
    if (selected >= plan.scenes.length) selected = 0;
    summary.replaceChildren(h('ul', { class: 'facts', 'aria-label': 'Storyboard summary' },
      h('li', {}, h('strong', { text: String(plan.scenes.length) }), ' scenes'),
      h('li', {}, h('strong', { text: formatSeconds(plan.duration) })),
      h('li', {}, h('strong', { text: String(Math.round(plan.tempo)) }), ' BPM'),
      h('li', {}, h('strong', { text: String((plan.beats || []).length) }), ' beats')));

    body.replaceChildren(...[leftOut(plan), timeline(plan), h('div', { class: 'story-layout' }, sceneList(plan), editor(plan))].filter(Boolean));
    paint();
  }

  /** Photos the planner left out (near-duplicates, or more photos than the length has beats for). */
  function leftOut(plan) {
    if (state.planStale) return null;
    const used = new Set(plan.scenes.map((sc) => sc.asset_id));
    const missing = state.photos.filter((p) => !used.has(p.id));
    if (!missing.length || state.planStale) return null;
    const names = missing.map((p) => p.name).join(', ');
    return h('p', { class: 'notice' }, icon('image'),
      h('span', {}, h('strong', { text: names }),
        ` ${missing.length === 1 ? 'is' : 'are'} not in this cut: either a near-duplicate of another photo, or the video is too short for every photo. A longer length fits more.`));
  }

  function paint() {
    if (!canvas || !state.plan) return;
    drawTimeline(canvas, state.plan, { selected });
  }

  function timeline(plan) {
    const minWidth = plan.scenes.length * 48;
    canvas = h('canvas', {
      class: 'timeline-wave', role: 'img',
      'aria-label': `The song's waveform over ${formatSeconds(plan.duration)} with ${(plan.beats || []).length} beats and ${(plan.downbeats || []).length} downbeats; every cut lands on a beat.`,
    });
    lane = h('div', { class: 'lane', role: 'group', 'aria-label': 'Scenes on the timeline' },
      plan.scenes.map((s, i) => {
        const left = (100 * s.start) / plan.duration;
        const width = (100 * (s.end - s.start)) / plan.duration;
        return h('button', {
          type: 'button', class: ['lane-scene', i === selected && 'is-selected'],
          style: { left: `${left}%`, width: `${width}%`, backgroundImage: s.thumbnail_url ? `url("${s.thumbnail_url}")` : '' },
          'aria-label': `Scene ${i + 1}: ${s.photo}, ${s.start.toFixed(1)} to ${s.end.toFixed(1)} seconds`,
          'aria-pressed': String(i === selected),
          onclick: () => select(i, { focusEditor: false }),
        }, h('span', { class: 'lane-num', text: String(i + 1) }));
      }));
    const ticks = [];
    const stepS = plan.duration > 40 ? 10 : plan.duration > 16 ? 5 : plan.duration > 6 ? 2 : 1;
    for (let t = 0; t <= plan.duration + 1e-6; t += stepS) {
      ticks.push(h('span', { class: 'axis-tick', style: { left: `${(100 * t) / plan.duration}%` }, text: `${t}s` }));
    }
    const inner = h('div', { class: 'timeline-inner', style: { minWidth: `${minWidth}px` } },
      lane, canvas, h('div', { class: 'axis', 'aria-hidden': 'true' }, ticks));
    resize = new ResizeObserver(() => paint());
    resize.observe(inner);
    return h('figure', { class: 'timeline' },
      h('div', { class: 'timeline-scroll', tabindex: '0', 'aria-label': 'Timeline (scrolls sideways)' }, inner),
      h('figcaption', { class: 'legend' },
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-beat' }), 'beat'),
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-down' }), 'downbeat'),
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-cut' }), 'cut'),
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch swatch-fade' }), 'crossfade')));
  }

  function sceneList(plan) {
    return h('ol', { class: 'scene-list', 'aria-label': 'Scenes' },
      plan.scenes.map((s, i) => h('li', { class: ['scene-card', i === selected && 'is-selected'], dataset: { index: String(i) } },
        h('img', { class: 'scene-thumb', src: s.thumbnail_url, alt: '', loading: 'lazy', draggable: 'false' }),
        h('div', { class: 'scene-info' },
          h('p', { class: 'scene-title' },
            h('span', { text: `Scene ${i + 1}` }),
            h('span', { class: 'scene-time', text: `${s.start.toFixed(1)}–${s.end.toFixed(1)} s · ${s.beats} beat${s.beats === 1 ? '' : 's'}` })),
          h('p', { class: 'chips' },
            s.kind === 'product' ? h('span', { class: 'chip', text: 'Product 360°' }) : null,
            h('span', { class: 'chip', text: MOVES[s.move] || s.move }),
            h('span', { class: ['chip', s.transition_in === 'crossfade' && 'chip-soft'], text: TRANSITIONS[s.transition_in] || s.transition_in })),
          h('p', { class: 'scene-prompt', text: s.prompt })),
        h('button', {
          type: 'button', class: 'btn btn-quiet btn-small scene-edit', 'aria-label': `Edit scene ${i + 1}`,
          'aria-pressed': String(i === selected), onclick: () => select(i, { focusEditor: true }),
        }, icon('edit'), h('span', { text: 'Edit' })))));
  }

  function select(i, { focusEditor }) {
    selected = i;
    draw();
    if (focusEditor) document.getElementById('scene-editor-title')?.focus();
    if (window.matchMedia('(max-width: 899px)').matches && focusEditor) {
      document.getElementById('scene-editor')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }

  function editor(plan) {
    const s = plan.scenes[selected];
    const i = selected;
    const move = h('select', { class: 'input', id: 'scene-move' },
      Object.entries(MOVES).map(([v, label]) => h('option', { value: v, selected: v === s.move, text: label })));
    let transition = s.transition_in;
    const transitionCtl = segmented({
      name: 'scene-transition', legend: 'Transition in',
      options: Object.entries(TRANSITIONS).map(([value, label]) => ({ value, label })),
      value: s.transition_in, onChange: (v) => { transition = v; },
    });
    const beats = h('input', { class: 'input input-short', id: 'scene-beats', type: 'number', min: 1, max: 64, step: 1, value: s.beats, inputmode: 'numeric', 'aria-describedby': 'scene-beats-help scene-beats-effect' });
    // The video's length is fixed: a longer scene takes its beats from another one. Before saving, the
    // server says which (the same rule as the save, asked with ?preview=true).
    const effect = h('p', { class: 'field-help beats-effect', id: 'scene-beats-effect', 'aria-live': 'polite' });
    let previewTimer = 0;
    let previewAsked = 0;
    const previewBeats = () => {
      clearTimeout(previewTimer);
      const b = Number(beats.value);
      if (!Number.isInteger(b) || b < 1 || b === s.beats) {
        effect.replaceChildren();
        effect.classList.remove('is-error');
        return;
      }
      previewTimer = setTimeout(async () => {
        const asked = ++previewAsked;
        try {
          const after = await patch(`${state.base}/plan/scenes/${s.index}?preview=true`, { beats: b });
          if (asked !== previewAsked) return;
          effect.classList.remove('is-error');
          effect.textContent = `On saving: ${after.note}.`;
        } catch (err) {
          if (asked !== previewAsked) return;
          effect.classList.add('is-error');
          effect.textContent = sentenceOf(err.detail || 'This length does not fit.') + (err.hint ? ` (${err.hint})` : '');
        }
      }, 250);
    };
    beats.addEventListener('input', previewBeats);
    const stepper = (delta, label) => h('button', {
      type: 'button', class: 'icon-btn', 'aria-label': label,
      onclick: () => {
        beats.value = String(Math.max(1, (Number(beats.value) || s.beats) + delta));
        previewBeats();
      },
    }, icon(delta < 0 ? 'minus' : 'plus'));
    const prompt = h('textarea', { class: 'input', id: 'scene-prompt', rows: 3, maxlength: 1000, value: s.prompt });
    const readers = plan.prompt_readers || [];
    // Only a video model reads the prompt; the offline renderer animates the camera move alone. Say which
    // will use it, or keep it folded away with the reason when none will.
    const promptField = readers.length && s.kind !== 'product'
      ? field({ label: 'Animation prompt', control: prompt, help: `Used by ${readers.join(', then ')} to animate this scene.` })
      : h('details', { class: 'prompt-unused' },
        h('summary', {}, h('span', { text: 'Animation prompt' }), h('span', { class: 'muted small', text: ' · not used by this server' })),
        field({ label: 'Animation prompt', control: prompt, hideLabel: true,
          help: s.kind === 'product'
            ? 'A product shot is always composited from its turntable: no video model reads this prompt.'
            : 'This server renders clips offline from the camera move, so the prompt changes nothing in your video. It is kept for when a video model (Kling, Veo…) is set up on the server.' }));
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('check'), h('span', { text: 'Save scene' }));
    const errorSlot = h('div', { class: 'form-error' });

    const earlier = h('button', { type: 'button', class: 'btn btn-secondary btn-small', disabled: i === 0, onclick: () => reorder(i, -1) },
      icon('left'), h('span', { text: 'Earlier' }));
    const later = h('button', { type: 'button', class: 'btn btn-secondary btn-small', disabled: i === plan.scenes.length - 1, onclick: () => reorder(i, 1) },
      h('span', { text: 'Later' }), icon('right'));
    earlier.setAttribute('aria-label', `Move scene ${i + 1} earlier`);
    later.setAttribute('aria-label', `Move scene ${i + 1} later`);

    // Only a storyboard that fits the project can be re-rendered scene by scene.
    const rerender = h('button', { type: 'button', class: 'btn btn-quiet btn-small', hidden: !state.exports.length || state.planStale },
      icon('refresh'), h('span', { text: 'Re-render this scene' }));
    startsJob(rerender, {
      request: () => post(`${state.base}/scenes/${i}/render`),
      started: (job) => {
        state.emit('job-started', job);
        document.getElementById('step-render')?.scrollIntoView({ behavior: 'smooth', block: 'start' });
      },
    });

    const form = h('form', { class: 'scene-editor card-inset', id: 'scene-editor', 'aria-labelledby': 'scene-editor-title', novalidate: true },
      h('div', { class: 'editor-head' },
        h('img', { class: 'editor-thumb', src: s.thumbnail_url, alt: '' }),
        h('div', {},
          h('h3', { class: 'sub-title', id: 'scene-editor-title', tabindex: '-1', text: `Scene ${i + 1}` }),
          h('p', { class: 'muted small', text: `${s.photo} · ${s.start.toFixed(2)}–${s.end.toFixed(2)} s` }))),
      field({ label: 'Camera move', control: move }),
      transitionCtl,
      h('div', { class: 'field' },
        h('label', { class: 'field-label', for: 'scene-beats', text: 'Length in beats' }),
        h('div', { class: 'stepper' }, stepper(-1, 'One beat shorter'), beats, stepper(1, 'One beat longer')),
        h('p', { class: 'field-help', id: 'scene-beats-help', text: `One beat is ${(60 / (plan.tempo || 120)).toFixed(2)} s at ${Math.round(plan.tempo)} BPM. The video stays ${formatSeconds(plan.duration)}: a longer scene takes its beats from another.` }),
        effect),
      promptField,
      h('div', { class: 'field' },
        h('span', { class: 'field-label', id: 'scene-order-label', text: 'Place in the video' }),
        h('div', { class: 'button-row', role: 'group', 'aria-labelledby': 'scene-order-label' }, earlier, later)),
      errorSlot,
      h('div', { class: 'editor-actions' }, save, rerender));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      errorSlot.replaceChildren();
      const changes = {};
      const b = Number(beats.value);
      if (!Number.isInteger(b) || b < 1) {
        errorSlot.append(errorLine({ detail: 'Length must be a whole number of beats, 1 or more.' }, { compact: true }));
        beats.focus();
        return;
      }
      if (b !== s.beats) changes.beats = b;
      if (move.value !== s.move) changes.move = move.value;
      if (transition !== s.transition_in) changes.transition_in = transition;
      if (prompt.value.trim() !== s.prompt) changes.prompt = prompt.value.trim();
      if (!Object.keys(changes).length) {
        toast('Nothing changed.');
        return;
      }
      try {
        clearTimeout(previewTimer);
        previewAsked += 1;
        const updated = await busy(save, () => patch(`${state.base}/plan/scenes/${s.index}`, changes), 'Saving…');
        state.setPlan(updated);
        state.refreshExports().catch(() => {});
        // The note says what the edit did elsewhere ("scene 5 gave 1 beat (4 → 3)").
        toast(`Saved ${updated.note}.`);
        announce(`Saved ${updated.note}.`);
        document.getElementById('scene-editor-title')?.focus();
      } catch (err) {
        errorSlot.append(errorLine(err, { compact: true }));
      }
    });
    return form;
  }

  async function reorder(i, delta) {
    const order = state.plan.scenes.map((s) => s.index);
    const j = i + delta;
    if (j < 0 || j >= order.length) return;
    [order[i], order[j]] = [order[j], order[i]];
    try {
      state.setPlan(await put(`${state.base}/plan/order`, { order }));
      state.refreshExports().catch(() => {});
      selected = j;
      draw();
      announce(`Scene moved to place ${j + 1}.`);
      document.querySelector(`#scene-editor button[aria-label^="Move scene ${j + 1} ${delta < 0 ? 'earlier' : 'later'}"]:not([disabled])`)?.focus()
        || document.getElementById('scene-editor-title')?.focus();
    } catch (err) {
      showError(err);
    }
  }

  state.on('plan', draw);
  state.on('assets', updateStale);
  state.on('project', updateStale);
  state.on('status-error', (e) => showError(e.detail));
  state.on('exports', () => {
    const btn = document.querySelector('#scene-editor .editor-actions .btn-quiet');
    if (btn) btn.hidden = !state.exports.length || state.planStale;
  });
  draw();
}

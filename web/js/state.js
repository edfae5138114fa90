// One open project's state, shared by its steps. Steps listen for the parts they show.
//
// Whether the storyboard and the latest video still show the project is the server's answer
// (PlanPublic.current / ExportPublic.current, with what changed): after any change of photos, song or
// settings both are read again, so the page never shows a storyboard or a video state the server does
// not hold.

import { get } from './api.js';

/** Project settings a storyboard or a video depends on (the name does not count). */
const SHAPING = ['look', 'aspect', 'duration', 'fps', 'order'];

export class ProjectState extends EventTarget {
  constructor(projectId) {
    super();
    this.projectId = projectId;
    this.project = null;
    this.photos = [];
    this.music = null;
    this.plan = null;
    this.looks = [];
    this.jobs = [];
    this.exports = [];
    this.streams = new Set();
    this.ready = false; // set once the page is built: changes before that are the first load
    this.statusTimer = 0;
    this.planJson = '';
    // The settings and media the server last confirmed. Views may update `project` or `photos` in place
    // before the server answers, so a change is told from what the server sent, not from the fields.
    this.shapeSeen = '';
    this.mediaSeen = '';
    this.asked = { plan: 0, exports: 0 }; // the newest read of each: an older answer arriving late is dropped
  }

  /** The page is built: from now on a change of photos or settings re-reads the storyboard and video state. */
  markReady() {
    this.ready = true;
    this.shapeSeen = this.shapeKey();
    this.mediaSeen = this.mediaKey();
  }

  shapeKey(project = this.project) {
    return JSON.stringify(SHAPING.map((k) => project?.[k] ?? null));
  }

  get base() {
    return `/api/projects/${encodeURIComponent(this.projectId)}`;
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  on(name, fn) {
    this.addEventListener(name, fn);
  }

  setProject(project) {
    this.project = project;
    this.emit('project');
    const key = this.shapeKey(project);
    if (key !== this.shapeSeen) {
      this.shapeSeen = key;
      this.statusChanged();
    }
  }

  setAssets(assets) {
    this.photos = assets.filter((a) => a.kind === 'photo').sort((a, b) => a.position - b.position);
    this.music = assets.find((a) => a.kind === 'music') || null;
    this.emit('assets');
    const key = this.mediaKey();
    if (key !== this.mediaSeen) {
      this.mediaSeen = key;
      this.statusChanged();
    }
  }

  mediaKey() {
    return [...this.photos.map((p) => p.id), this.music ? `music:${this.music.id}` : ''].join(',');
  }

  /** The storyboard as the server just answered it (an edit, an undo): newer than any read in flight. */
  setPlan(plan) {
    this.asked.plan += 1;
    this.showPlan(plan);
  }

  /** Listeners hear only of a real change, so an editor with unsaved input is not redrawn by a refresh
   * that found nothing new. */
  showPlan(plan) {
    const json = plan ? JSON.stringify(plan) : '';
    if (json === this.planJson) return;
    this.planJson = json;
    this.plan = plan;
    this.emit('plan');
  }

  /** The storyboard is there but no longer fits the photos or settings (`plan.stale` says why). */
  get planStale() {
    return Boolean(this.plan) && !this.plan.current;
  }

  /** The newest video, if any; `current` false when the project changed since it was rendered. */
  get latestExport() {
    return this.exports[0] || null;
  }

  /** Photos, song or order were changed on the server: read back what the storyboard and video say now. */
  mediaChanged() {
    this.statusChanged();
  }

  /** Something a storyboard or video depends on changed: ask the server (once for a burst of changes). */
  statusChanged() {
    if (!this.ready) return;
    clearTimeout(this.statusTimer);
    this.statusTimer = setTimeout(() => {
      this.refreshStatus().catch((err) => this.emit('status-error', err));
    }, 120);
  }

  async refreshStatus() {
    await Promise.all([this.refreshPlan(), this.refreshExports()]);
  }

  photoById(id) {
    return this.photos.find((p) => p.id === id) || null;
  }

  async refreshProject() {
    this.setProject(await get(this.base));
  }

  async refreshAssets() {
    this.setAssets(await get(`${this.base}/assets`));
  }

  async refreshPlan() {
    const n = ++this.asked.plan;
    let plan = null;
    try {
      plan = await get(`${this.base}/plan`);
    } catch (err) {
      if (err.status !== 404) throw err;
    }
    if (plan && !plan.version) plan = null; // no storyboard yet, however the server says it
    if (plan && !plan.scenes.length) plan = null; // before the first storyboard the server answers an empty one
    if (n === this.asked.plan) this.showPlan(plan);
  }

  async refreshExports() {
    const n = ++this.asked.exports;
    const exports = await get(`${this.base}/exports`);
    if (n !== this.asked.exports) return;
    this.exports = exports;
    this.emit('exports');
  }

  async refreshJobs() {
    this.jobs = await get(`${this.base}/jobs`);
    this.emit('jobs');
  }

  track(stream) {
    this.streams.add(stream);
    return stream;
  }

  close() {
    clearTimeout(this.statusTimer);
    for (const s of this.streams) s.close();
    this.streams.clear();
    this.emit('close');
  }
}

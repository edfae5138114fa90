// One open project's state, shared by its steps. Steps listen for the parts they show.

import { get } from './api.js';

export class ProjectState extends EventTarget {
  constructor(projectId) {
    super();
    this.projectId = projectId;
    this.project = null;
    this.photos = [];
    this.music = null;
    this.plan = null;
    this.mediaChangedSincePlan = false;
    this.looks = [];
    this.jobs = [];
    this.exports = [];
    this.streams = new Set();
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
  }

  setAssets(assets) {
    this.photos = assets.filter((a) => a.kind === 'photo').sort((a, b) => a.position - b.position);
    this.music = assets.find((a) => a.kind === 'music') || null;
    this.emit('assets');
  }

  setPlan(plan, { fresh = false } = {}) {
    this.plan = plan;
    if (fresh) this.mediaChangedSincePlan = false;
    this.emit('plan');
  }

  /** True when photos changed since the storyboard was made (the planner may drop near-duplicates, so a
   * photo missing from the plan alone does not make it stale). */
  get planStale() {
    if (!this.plan) return false;
    if (this.mediaChangedSincePlan) return true;
    const have = new Set(this.photos.map((p) => p.id));
    return this.plan.scenes.some((s) => s.asset_id && !have.has(s.asset_id));
  }

  /** Photos were added, removed or reordered: a storyboard made before no longer matches them. */
  mediaChanged() {
    if (this.plan) this.mediaChangedSincePlan = true;
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
    try {
      this.setPlan(await get(`${this.base}/plan`));
    } catch (err) {
      if (err.status === 404) this.setPlan(null);
      else throw err;
    }
  }

  async refreshExports() {
    this.exports = await get(`${this.base}/exports`);
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
    for (const s of this.streams) s.close();
    this.streams.clear();
    this.emit('close');
  }
}

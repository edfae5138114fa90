// What a job's events add up to: per-stage and per-item progress, an overall percent, the log, the end.

export const STAGE_TITLES = {
  analyze_photo: 'Reading photos',
  music: 'Music',
  analyze_music: 'Finding the beat',
  plan: 'Storyboard',
  style: 'Style',
  clips: 'Clips',
  compose: 'Final video',
};

// How much of a job's time each stage usually takes; stages not listed count a little.
const WEIGHTS = { analyze_photo: 1, music: 0.5, analyze_music: 1, plan: 0.3, style: 2, clips: 4, compose: 2 };
const EXPECTED = {
  plan: ['analyze_photo', 'music', 'analyze_music', 'plan'],
  render: ['style', 'clips', 'compose'],
};

export class JobProgress {
  constructor({ kind = 'render' } = {}) {
    this.kind = kind;
    this.stages = new Map(); // name -> {status, percent, total, message, note}
    this.items = new Map(); // stage -> Map(item -> {percent, status, error, hint, message})
    this.log = [];
    this.status = 'running'; // running | done | failed
    this.cancelled = false;
    this.error = null;
    this.hint = null;
    this.message = '';
    this.current = '';
    this.lastSeq = 0;
  }

  stage(name) {
    if (!this.stages.has(name)) this.stages.set(name, { status: 'waiting', percent: 0, total: 0, message: '', note: '' });
    return this.stages.get(name);
  }

  item(stage, name) {
    if (!this.items.has(stage)) this.items.set(stage, new Map());
    const items = this.items.get(stage);
    if (!items.has(name)) items.set(name, { percent: 0, status: 'waiting', error: null, hint: null, message: '' });
    return items.get(name);
  }

  /** Apply one event from the stream. */
  apply(e) {
    if (e.seq) this.lastSeq = Math.max(this.lastSeq, e.seq);
    if (this.status === 'failed' && e.type !== 'failed' && e.type !== 'done') {
      // Events after a `failed` one: the job was resumed and runs again.
      this.status = 'running';
      this.cancelled = false;
      this.error = null;
      this.hint = null;
    }
    const pct = typeof e.percent === 'number' ? e.percent : null;
    switch (e.type) {
      case 'stage': {
        if (!e.stage) break;
        const s = this.stage(e.stage);
        if (e.status === 'running') {
          s.status = 'running';
          s.total = e.total || s.total;
          s.message = e.message || '';
          this.current = e.stage;
        } else if (e.status === 'done') {
          s.status = 'done';
          s.percent = 100;
        } else if (e.status) {
          s.status = e.status;
        }
        if (pct !== null && e.status !== 'done') s.percent = Math.max(s.percent, pct);
        break;
      }
      case 'progress': {
        if (!e.stage) break;
        this.current = e.stage;
        const s = this.stage(e.stage);
        if (s.status === 'waiting') s.status = 'running';
        // What the stage says it is doing now ("preparing the audio analyser (first run only, ~45 s)").
        if (e.message) s.note = e.message;
        if (e.item) {
          const it = this.item(e.stage, e.item);
          if (it.status !== 'done' && it.status !== 'failed') {
            it.status = 'running';
            if (pct !== null) it.percent = Math.max(it.percent, pct);
            it.message = e.message || it.message;
          }
          s.percent = Math.max(s.percent, this.itemsPercent(e.stage));
        } else if (pct !== null) {
          s.percent = Math.max(s.percent, pct);
        }
        break;
      }
      case 'item': {
        if (!e.stage || !e.item) break;
        const it = this.item(e.stage, e.item);
        it.status = e.status || 'done';
        if (it.status === 'done') it.percent = 100;
        if (e.error) {
          it.error = e.error;
          it.hint = e.hint || null;
        }
        const s = this.stage(e.stage);
        if (s.status === 'waiting') s.status = 'running';
        // On item events `percent` is the stage's share of finished items.
        s.percent = Math.max(s.percent, pct ?? 0, this.itemsPercent(e.stage));
        break;
      }
      case 'log':
        this.log.push({ seq: e.seq, stage: e.stage, item: e.item, status: e.status, message: e.message || '' });
        if (e.stage && e.item && e.status === 'fallback') {
          this.item(e.stage, e.item).note = e.message;
        }
        break;
      case 'done':
        this.status = 'done';
        this.message = e.message || '';
        for (const s of this.stages.values()) {
          s.status = s.status === 'failed' ? 'failed' : 'done';
          s.percent = 100;
        }
        break;
      case 'failed':
        this.status = 'failed';
        this.cancelled = e.status === 'cancelled';
        this.error = this.cancelled ? 'Cancelled.' : e.error || e.message || 'The job failed.';
        this.message = e.message || '';
        this.hint = e.hint || null;
        break;
      default:
        break;
    }
  }

  itemsPercent(stage) {
    const total = this.stage(stage).total;
    const items = this.items.get(stage);
    if (!items || !total) return 0;
    let sum = 0;
    for (const it of items.values()) sum += it.status === 'done' ? 100 : it.percent;
    return Math.min(100, sum / total);
  }

  /** 0..100 for the whole job, weighting stages by how long they usually take. */
  get percent() {
    if (this.status === 'done') return 100;
    const names = new Set([...(EXPECTED[this.kind] || []), ...this.stages.keys()]);
    let done = 0;
    let total = 0;
    for (const name of names) {
      const w = WEIGHTS[name] ?? 0.5;
      total += w;
      const s = this.stages.get(name);
      if (s) done += (w * s.percent) / 100;
    }
    // Never claim 100 before the `done` event: the final write and the export are still ahead.
    return total ? Math.min(99, (100 * done) / total) : 0;
  }

  get currentTitle() {
    return STAGE_TITLES[this.current] || this.current || 'Starting';
  }

  /** The latest progress message of the stage running now; '' when none is running or it said nothing. */
  get currentMessage() {
    const s = this.stages.get(this.current);
    return this.status === 'running' && s && s.status === 'running' ? s.note : '';
  }
}

// Follow one job's event stream (GET /api/jobs/{id}/events) until its terminal event.
//
// EventSource reconnects by itself after a dropped connection and sends Last-Event-ID, so the server
// replays exactly what was missed. It gives up for good on an HTTP error (a restarting server, a proxy's
// 502): then we reconnect ourselves with backoff, passing the last sequence number we saw as
// `last_event_id`, and drop any event we already have, so the view never sees a duplicate.
// A terminal event ends the job only if the server then closes the stream: a job that was resumed has an
// old `failed` in the middle of its log, followed by the events of the run that picked it up again.
// Now and then it also asks for the job itself: a job that ended while its stream stays silent or
// broken still ends here, so no view waits forever.

import { ApiError, get } from './api.js';

export const EVENT_TYPES = ['stage', 'item', 'progress', 'log', 'done', 'failed'];
const TERMINAL = new Set(['done', 'failed']);
const MAX_RETRY_MS = 10000;
const CHECK_MS = 10000;
const ENDED_STATUSES = new Set(['done', 'failed', 'cancelled']);

export class JobStream {
  /**
   * @param {object} o
   * @param {string} o.jobId
   * @param {(event: object) => void} o.onEvent  each event once, in order, with `type` and `seq`
   * @param {(state: 'connecting'|'live'|'reconnecting'|'offline'|'ended') => void} [o.onState]
   * @param {(type: 'done'|'failed'|'gone', why?: {detail: string, hint?: string, jobStatus?: string}) => void} [o.onEnd]
   */
  constructor({ jobId, onEvent, onState = () => {}, onEnd = () => {} }) {
    this.jobId = jobId;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onEnd = onEnd;
    this.lastSeq = 0;
    this.source = null;
    this.timer = null;
    this.retryMs = 1000;
    this.closed = false;
    this.state = '';
    this.checker = null;
    this.endedOnServer = false;
    this.pendingEnd = null; // the terminal event last seen, until the stream closes after it
  }

  start() {
    this.open();
    this.checker = setInterval(() => this.check(), CHECK_MS);
    return this;
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.checker);
    if (this.source) this.source.close();
    this.source = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  url() {
    const base = `/api/jobs/${encodeURIComponent(this.jobId)}/events`;
    return this.lastSeq > 0 ? `${base}?last_event_id=${this.lastSeq}` : base;
  }

  open() {
    if (this.closed) return;
    this.setState(this.lastSeq > 0 ? 'reconnecting' : 'connecting');
    const source = new EventSource(this.url(), { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      this.retryMs = 1000;
      this.setState('live');
    };
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (e) => this.receive(type, e));
    }
    source.onerror = () => {
      if (this.closed || source !== this.source) return;
      if (this.pendingEnd) {
        // The server closed the stream right after a terminal event: that was the end of the job.
        this.end(this.pendingEnd);
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.retryLater();
      } else {
        // The browser retries on its own and sends Last-Event-ID.
        this.setState('reconnecting');
      }
    };
  }

  receive(type, e) {
    if (this.closed) return;
    const seq = Number.parseInt(e.lastEventId, 10);
    if (Number.isFinite(seq)) {
      if (seq <= this.lastSeq) return;
      this.lastSeq = seq;
    }
    let data = {};
    try {
      data = JSON.parse(e.data || '{}');
    } catch {
      data = { message: String(e.data || '') };
    }
    this.pendingEnd = TERMINAL.has(type) ? type : null;
    this.onEvent({ ...data, type, seq: Number.isFinite(seq) ? seq : data.seq });
  }

  end(type, why) {
    if (this.closed) return;
    this.close();
    this.setState('ended');
    this.onEnd(type, why);
  }

  /** The job as the server has it; ends the stream if the job is gone or ended without its event. */
  async check() {
    let job;
    try {
      job = await get(`/api/jobs/${encodeURIComponent(this.jobId)}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) this.end('gone', err);
      return;
    }
    if (this.closed || !ENDED_STATUSES.has(job.status)) return;
    // Give the terminal event one more round to arrive the normal way before trusting the job row.
    if (!this.endedOnServer) {
      this.endedOnServer = true;
      return;
    }
    if (job.status === 'done') this.end('done');
    else {
      this.end('failed', {
        detail: job.error || (job.status === 'cancelled' ? 'Cancelled.' : 'The job failed.'),
        hint: job.hint || '',
        jobStatus: job.status,
      });
    }
  }

  /** The browser gave up: find out why (signed out? job gone? server down?) and reconnect if it makes sense. */
  async retryLater() {
    this.setState('offline');
    try {
      await get(`/api/jobs/${encodeURIComponent(this.jobId)}`);
    } catch (err) {
      if (this.closed) return;
      if (err instanceof ApiError && (err.status === 401 || err.status === 404)) {
        this.end('gone', err);
        return;
      }
    }
    if (this.closed) return;
    this.timer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(MAX_RETRY_MS, this.retryMs * 2);
  }
}

// The JSON API client (docs/api.md). Every failure becomes an ApiError carrying the server's one-line
// reason and its hint, so views can always tell the person what went wrong and what to do.

export class ApiError extends Error {
  constructor({ status, detail, hint = '' }) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.hint = hint;
  }
}

const OFFLINE = {
  status: 0,
  detail: 'Cannot reach the MomentLoop server.',
  hint: 'Check that `momentloop serve` is still running and try again.',
};

const STATUS_REASONS = {
  400: 'The server could not understand the request.',
  401: 'You are signed out.',
  403: 'You are not allowed to do that.',
  404: 'That no longer exists.',
  409: 'That conflicts with the current state; reload and try again.',
  413: 'The file is too large.',
  415: 'That kind of file is not supported.',
  422: 'The server could not use that input.',
  429: 'Too many requests; wait a moment and try again.',
};

/** Turn any error body (ours, FastAPI validation lists, plain text) into one line and a hint. */
export function errorFrom(status, body, statusText = '') {
  let detail = '';
  let hint = '';
  if (body && typeof body === 'object') {
    hint = typeof body.hint === 'string' ? body.hint : '';
    if (typeof body.detail === 'string') detail = body.detail;
    else if (Array.isArray(body.detail) && body.detail.length) {
      const first = body.detail[0];
      const where = Array.isArray(first.loc) ? first.loc.filter((p) => p !== 'body').join('.') : '';
      detail = where ? `${where}: ${first.msg}` : String(first.msg || '');
    } else if (body.detail && typeof body.detail === 'object') {
      detail = String(body.detail.detail || body.detail.message || '');
      hint = hint || String(body.detail.hint || '');
    }
  } else if (typeof body === 'string' && body.trim() && body.length < 300 && !body.trim().startsWith('<')) {
    detail = body.trim().split('\n')[0];
  }
  if (!detail) {
    detail = STATUS_REASONS[status] || (status >= 500
      ? `The server hit an error (${status}${statusText ? ` ${statusText}` : ''}).`
      : `The request failed (${status}).`);
    if (status >= 500 && !hint) hint = 'This is a bug in MomentLoop; the server log has the details.';
  }
  return new ApiError({ status, detail, hint });
}

function unauthorized() {
  window.dispatchEvent(new CustomEvent('ml:unauthorized'));
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Call the API. Resolves with the parsed JSON (null for 204), rejects with an ApiError. */
export async function api(method, path, body, { signal, quietUnauthorized = false } = {}) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, signal };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(OFFLINE);
  }
  const data = await readBody(response).catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && !quietUnauthorized) unauthorized();
    throw errorFrom(response.status, data, response.statusText);
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body, opts);
export const patch = (path, body, opts) => api('PATCH', path, body, opts);
export const put = (path, body, opts) => api('PUT', path, body, opts);
export const del = (path, opts) => api('DELETE', path, undefined, opts);

/**
 * Upload one file as multipart `file` with XMLHttpRequest, so the upload's own progress events can feed
 * a progress bar. `onProgress(fraction)` gets 0..1 of the bytes sent. Resolves with the AssetPublic.
 */
export function uploadFile({ projectId, file, onProgress, onSent, role }) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    // role 'capture': a photo of a product capture (the Product 360° panel's), never a scene of the video.
    const query = role ? `?role=${encodeURIComponent(role)}` : '';
    xhr.open('POST', `/api/projects/${encodeURIComponent(projectId)}/assets${query}`);
    xhr.withCredentials = true;
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    });
    xhr.upload.addEventListener('load', () => onSent && onSent());
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = xhr.responseText;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        if (xhr.status === 401) unauthorized();
        reject(errorFrom(xhr.status, data, xhr.statusText));
      }
    });
    // A server that cuts the body off at its size limit may close the connection before answering.
    xhr.addEventListener('error', () => reject(new ApiError({
      status: 0,
      detail: 'The upload was cut off before the server answered.',
      hint: 'The file may be over the size limit, or the server stopped; check it and try again.',
    })));
    xhr.addEventListener('abort', () => reject(new ApiError({ status: 0, detail: 'Upload cancelled.' })));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

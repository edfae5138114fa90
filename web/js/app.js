// Start-up, the signed-in user, and the router (#/ for projects, #/p/<id> for one project, #/p/<id>/product
// for its optional Product 360° page).

import { ApiError, del, get } from './api.js';
import { h } from './dom.js';
import { errorLine, showError } from './ui.js';
import { renderProductPage } from './views/product.js';
import { renderProject } from './views/project.js';
import { renderProjects } from './views/projects.js';
import { renderSignIn } from './views/signin.js';

const main = document.getElementById('main');
let user = null;
let teardown = null; // the current view's clean-up (closes its event streams)

function setUser(me) {
  user = me;
  const account = document.getElementById('account');
  account.hidden = !me;
  document.getElementById('account-name').textContent = me ? me.name : '';
}

function mount(render) {
  if (teardown) {
    try {
      teardown();
    } catch (err) {
      console.error(err);
    }
  }
  teardown = null;
  main.replaceChildren();
  const result = render(main);
  if (typeof result === 'function') teardown = result;
}

function showSignIn(message) {
  setUser(null);
  document.title = 'Sign in · MomentLoop';
  mount((root) => renderSignIn(root, { message, onSignedIn: start }));
}

function route() {
  if (!user) return;
  const hash = window.location.hash || '#/';
  const match = hash.match(/^#\/p\/([^/?#]+)(\/product)?/);
  if (match && match[2]) {
    mount((root) => renderProductPage(root, { projectId: decodeURIComponent(match[1]) }));
  } else if (match) {
    mount((root) => renderProject(root, { projectId: decodeURIComponent(match[1]) }));
  } else {
    document.title = 'Projects · MomentLoop';
    mount((root) => renderProjects(root));
  }
  // Move focus to the new view's content for keyboard and screen-reader users, but not on first load.
  if (route.focused) main.focus({ preventScroll: true });
  route.focused = true;
  window.scrollTo({ top: 0 });
}

async function start() {
  try {
    // Asks without a 401 when nobody is signed in: the browser would log that as an error on every open.
    const session = await get('/api/session', { quietUnauthorized: true });
    if (!session.signed_in) {
      showSignIn();
      return;
    }
    setUser({ name: session.name });
    route();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showSignIn();
      return;
    }
    setUser(null);
    mount((root) => {
      root.append(h('div', { class: 'page page-narrow' },
        h('div', { class: 'card card-pad' },
          h('h1', { class: 'page-title', text: 'MomentLoop is not answering' }),
          errorLine(err),
          h('button', { type: 'button', class: 'btn btn-primary', text: 'Try again', onclick: start }))));
    });
  }
}

// The skip link must not change the hash: the router owns it.
document.querySelector('.skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', route);
window.addEventListener('ml:unauthorized', () => {
  if (user) showSignIn('Your session has ended. Sign in again to continue.');
});
document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await del('/api/session', { quietUnauthorized: true });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      showError(err);
      return;
    }
  }
  window.location.hash = '#/';
  showSignIn('You are signed out.');
});

start();

// What every page of one project does first: a spinner while it loads, then the page, or why it could not
// be opened.

import { h, icon } from '../dom.js';
import { ProjectState } from '../state.js';
import { errorLine } from '../ui.js';

/**
 * Opens a page of one project in `root`: a spinner saying `opening` while `load(state, alive)` fetches what
 * the page needs (`alive()`: whether the page is still shown), then `show(page, state, loaded)`; a card
 * saying why this `what` could not be opened otherwise. Returns the project's state and the page's cleanup.
 */
export function openProjectPage(root, { projectId, kind, opening, what, load, show }) {
  const state = new ProjectState(projectId);
  const page = h('div', { class: `page page-${kind}` });
  root.append(page);
  page.append(h('div', { class: 'project-loading', 'aria-busy': 'true' },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { text: opening })));
  let alive = true;
  (async () => {
    try {
      const loaded = await load(state, () => alive);
      if (!alive) return;
      show(page, state, loaded);
    } catch (err) {
      if (!alive) return;
      page.replaceChildren(h('div', { class: 'card card-pad page-narrow' },
        h('h1', { class: 'page-title', text: `This ${what} could not be opened` }),
        errorLine(err),
        h('a', { class: 'btn btn-secondary', href: '#/' }, icon('back'), h('span', { text: 'All projects' }))));
    }
  })();
  return {
    state,
    close: () => {
      alive = false;
      state.close();
    },
  };
}

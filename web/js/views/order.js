// The photo order rule, shown where the photos are (issue 11): "Order by capture time" is on until the
// person orders the photos by hand; then their order wins (the server sets the project's `order` to
// `manual` on a reorder) and the switch says so. Either way the storyboard follows what the switch shows.

import { patch } from '../api.js';
import { h } from '../dom.js';
import { showError, toast } from '../ui.js';

const HELP = {
  capture_time: 'On: photos with a capture date play in the order they were taken; undated ones keep their place. Move a photo to use your own order instead.',
  manual: 'Off: the photos play exactly in the order shown here. Turn it on to order them by when they were taken.',
};

export function renderOrderSwitch(state) {
  const input = h('input', {
    type: 'checkbox', role: 'switch', id: 'order-by-time', class: 'switch-input', 'aria-describedby': 'order-help',
  });
  const help = h('p', { class: 'field-help', id: 'order-help' });
  const row = h('div', { class: 'order-rule' },
    h('label', { class: 'switch', for: 'order-by-time' }, input,
      h('span', { class: 'switch-track', 'aria-hidden': 'true' }, h('span', { class: 'switch-thumb' })),
      h('span', { class: 'switch-label', text: 'Order by capture time' })),
    help);

  const rule = () => (state.project?.order === 'manual' ? 'manual' : 'capture_time');
  const show = () => {
    input.checked = rule() === 'capture_time';
    help.textContent = HELP[rule()];
    row.hidden = state.photos.length < 2;
  };

  input.addEventListener('change', async () => {
    const order = input.checked ? 'capture_time' : 'manual';
    input.disabled = true;
    try {
      state.setProject(await patch(state.base, { order }));
      toast(order === 'manual' ? 'The photos play in the order shown.' : 'Dated photos play in the order they were taken.',
        { hint: state.plan ? 'Update the storyboard in step 3 to follow it.' : '' });
    } catch (err) {
      showError(err);
    } finally {
      input.disabled = false;
      show();
    }
  });

  // The same photos in a new order: a reorder by hand, which the server takes as the person's choice.
  let sequence = state.photos.map((p) => p.id);
  state.on('assets', async () => {
    const before = sequence;
    sequence = state.photos.map((p) => p.id);
    show();
    const reordered = before.length === sequence.length && before.join() !== sequence.join()
      && [...before].sort().join() === [...sequence].sort().join();
    if (!reordered || rule() === 'manual') return;
    try {
      await state.refreshProject();
      if (rule() === 'manual') {
        toast('Your order is used now.', { hint: '“Order by capture time” is off. Turn it back on to order the photos by when they were taken.' });
      }
    } catch (err) {
      showError(err);
    }
  });
  state.on('project', show);
  show();
  return row;
}

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveFollower } from '../lib/follow.js';
import { liveModel, registerLive, unregisterLive, waitingCount, whenLive } from '../lib/live.js';

function fakeModel(id, views) {
  return {
    model_id: id,
    widget_manager: {
      create_view(model, options) {
        const view = { model, options, removed: false, remove() { this.removed = true; } };
        views.push(view);
        return Promise.resolve(view);
      }
    }
  };
}

test('a renderer waits for the model, then stops waiting', () => {
  const seen = [];
  const stop = whenLive('m1', m => seen.push(m.model_id));
  assert.equal(waitingCount(), 1);
  registerLive(fakeModel('m1', []));
  assert.deepEqual(seen, ['m1']);
  assert.equal(waitingCount(), 0);
  stop();
  whenLive('m1', m => seen.push(`now ${m.model_id}`));
  assert.deepEqual(seen, ['m1', 'now m1']);
  unregisterLive('m1');
  assert.equal(liveModel('m1'), null);
  const cancel = whenLive('never', () => assert.fail('no model'));
  cancel();
  assert.equal(waitingCount(), 0);
});

test('a follower drives the component through a view that adopts it', async () => {
  const views = [];
  const component = { name: 'the component on the page' };
  const follower = new LiveFollower(component);
  follower.follow('m2');
  assert.equal(follower.attached, false);
  registerLive(fakeModel('m2', views));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(views.length, 1);
  assert.equal(views[0].options.cdmAdopt, component);
  assert.equal(follower.attached, true);
  follower.follow(null);
  assert.equal(views[0].removed, true);
  assert.equal(follower.modelId, null);
  unregisterLive('m2');
});

test('a follower that moved on drops a view that arrives late', async () => {
  const views = [];
  registerLive(fakeModel('m3', views));
  const follower = new LiveFollower({});
  follower.follow('m3');
  follower.follow('elsewhere');
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(views.length, 1);
  assert.equal(views[0].removed, true);
  follower.stop();
  unregisterLive('m3');
  assert.equal(waitingCount(), 0);
});

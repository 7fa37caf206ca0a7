import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseDag } from '../lib/model.js';
import { failures, progress, runSpan, tableRows, ticks, timeline, usesCache } from '../lib/timeline.js';
import { applyPatch } from '../lib/patch.js';
import { gaugeText, parseDashboard } from '../lib/dashboard.js';
import { bigDoc, sixNodeDoc } from './fixtures.mjs';

const model = doc => parseDag(doc).model;

function timedDoc() {
  const doc = sixNodeDoc();
  const at = { load: [0, 0.1], clean: [0.1, 0.0002], validate: [0.1, 1.5], train: [0.2, null], archive: [0.3, 0.05] };
  for (const n of doc.nodes) {
    const [offset, duration] = at[n.id] ?? [null, null];
    n.offset = offset;
    n.duration = duration;
  }
  doc.duration = 2;
  return doc;
}

test('the timeline spans the run; bars are fractions of it, in start order', () => {
  const t = timeline(model(timedDoc()));
  assert.equal(t.span, 2);
  assert.deepEqual(t.bars.map(b => b.node.id), ['load', 'clean', 'validate', 'train', 'archive']);
  const clean = t.bars[1];
  assert.equal(clean.left, 0.05);
  assert.ok(clean.width > 0 && clean.width < 0.001, 'a sub-millisecond step keeps its true width; CSS gives it 3px');
  const train = t.bars[3];
  assert.equal(train.open, true);
  assert.equal(train.left + train.width, 1);
  assert.deepEqual(t.ticks, [0, 0.5, 1, 1.5, 2]);
  assert.equal(t.hidden, 0);
});

test('the span of a run still going is the latest step end seen', () => {
  const doc = timedDoc();
  doc.duration = null;
  assert.equal(runSpan(model(doc)), 1.6);
  assert.equal(runSpan(model(sixNodeDoc())), 0.001);  // no step has started: a token span
});

test('ticks are round numbers', () => {
  assert.deepEqual(ticks(0.0042), [0, 0.001, 0.002, 0.003, 0.004]);
  assert.deepEqual(ticks(7), [0, 2, 4, 6]);
  assert.deepEqual(ticks(0), [0]);
});

test('big runs: the table keeps failed steps past the limit; the timeline counts the rest', () => {
  const doc = bigDoc(150);
  doc.nodes.forEach(n => { n.state = 'succeeded'; });
  doc.nodes[140].state = 'failed';
  doc.nodes.forEach((n, i) => { n.offset = i / 100; n.duration = 0.01; });
  const m = model(doc);
  const rows = tableRows(m, 100);
  assert.equal(rows.nodes.length, 101);
  assert.equal(rows.nodes[100].id, doc.nodes[140].id);
  assert.equal(rows.hidden, 49);
  assert.equal(timeline(m, 100).hidden, 50);
});

test('failures in the order they failed; progress counts final states', () => {
  const doc = timedDoc();
  doc.nodes[0].state = 'failed';
  doc.nodes[0].duration = 3;
  const m = model(doc);
  assert.deepEqual(failures(m).nodes.map(n => n.id), ['validate', 'load']);
  assert.deepEqual(progress(m), { done: 5, total: 6 });
});

test('patches replace the changed nodes and run keys only', () => {
  const doc = sixNodeDoc();
  const patched = applyPatch(doc, {
    run: { status: 'completed', counts: { succeeded: 6 } },
    nodes: [[3, { ...doc.nodes[3], state: 'succeeded' }], [99, {}], ['x', {}]]
  });
  assert.equal(patched.status, 'completed');
  assert.equal(patched.nodes[3].state, 'succeeded');
  assert.equal(patched.nodes[0], doc.nodes[0]);
  assert.equal(doc.nodes[3].state, 'running', 'the original is left alone');
});

test('dashboard documents and gauges', () => {
  assert.equal(parseDashboard({ version: 1, kind: 'dashboard' }).kind, 'dashboard');
  assert.equal(parseDashboard({ version: 2, kind: 'dashboard' }), null);
  assert.equal(parseDashboard({ version: 1, kind: 'run' }), null);
  assert.deepEqual(gaugeText({ capacity: 2, allocated: 1, unit: 'GPU', holders: 'train (run 1a2b3c4d) 1' }), {
    text: '1/2 GPU (50%) · held by train (run 1a2b3c4d) 1', fraction: 0.5, tone: 'ok'
  });
  assert.equal(gaugeText({ capacity: 2, allocated: 2, waiting: 3 }).text, '2/2 (100%) · 3 waiting');
  assert.equal(gaugeText({ capacity: 0, allocated: 0 }).tone, 'ok');
});

test('a running run spans up to now', () => {
  const doc = timedDoc();
  doc.duration = null;
  doc.status = 'running';
  doc.started = '2026-01-01T00:00:00+00:00';
  const now = Date.parse(doc.started) + 5000;
  assert.equal(runSpan(model(doc), now), 5);
  assert.equal(runSpan(model(doc), Date.parse(doc.started)), 1.6);  // never before the latest step end
  doc.status = 'failed';
  assert.equal(runSpan(model(doc), now), 1.6);  // over: its own times only
});

test('a cached step is a mark where it was taken, not a bar; the table gets a cache column only when used', () => {
  const doc = timedDoc();
  const m = model(doc);
  const archive = timeline(m).bars.find(b => b.node.id === 'archive');
  assert.deepEqual([archive.left, archive.width, archive.open, archive.cached], [0.15, 0, false, true]);
  assert.ok(timeline(m).bars.filter(b => b.node.id !== 'archive').every(b => !b.cached));
  assert.equal(usesCache(m), false);
  doc.nodes[5].cache = 'hit';
  doc.nodes[0].cache = 'miss: code changed';
  assert.equal(usesCache(model(doc)), true);
  assert.deepEqual(model(doc).nodes.map(n => n.cache), ['miss: code changed', null, null, null, null, 'hit']);
});

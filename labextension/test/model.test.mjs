import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  computeBounds, computeLayers, DEFAULT_STATE_COLORS, detailRows, formatDuration, formatTimestamp,
  isSafeColor, legendEntries, mergeStates, parseDag, readLink, stateColor, summaryLine,
  UNKNOWN_STATE_COLOR
} from '../lib/model.js';
import { bigDoc, sixNodeDoc } from './fixtures.mjs';

function parsed(doc) {
  const result = parseDag(doc);
  assert.equal(result.ok, true, result.message);
  return result.model;
}

test('parses a version 1 document into a typed model', () => {
  const m = parsed(sixNodeDoc());
  assert.equal(m.version, 1);
  assert.equal(m.kind, 'run');
  assert.equal(m.workflow, 'etl');
  assert.equal(m.runId, '2f6c1d0e9b8a4c3d');
  assert.equal(m.status, 'failed');
  assert.equal(m.direction, 'LR');
  assert.equal(m.nodes.length, 6);
  assert.equal(m.edges.length, 6);
  assert.equal(m.layoutComputed, false);
  assert.deepEqual(m.warnings, []);
  const validate = m.nodes[2];
  assert.deepEqual(
    [validate.index, validate.id, validate.state, validate.error, validate.attempts, validate.x, validate.y],
    [2, 'validate', 'failed', 'ValueError: bad input', 3, 1, 1]
  );
  assert.deepEqual(m.edges[1], { source: 0, target: 2 });
  assert.deepEqual(m.bounds, { minX: 0, minY: 0, maxX: 3, maxY: 1 });
});

test('unknown versions and malformed documents give a plain message', () => {
  for (const [doc, fragment] of [
    [{ ...sixNodeDoc(), version: 2 }, 'version 2 is not supported'],
    [{ nodes: [] }, 'version null is not supported'],
    [{ version: '1', nodes: [] }, 'version "1" is not supported'],
    [[], 'not a JSON object'],
    [null, 'not a JSON object'],
    [{ version: 1, nodes: 'x' }, 'no "nodes" list']
  ]) {
    const result = parseDag(doc);
    assert.equal(result.ok, false);
    assert.ok(result.message.includes(fragment), result.message);
  }
});

test('edges naming unknown nodes and duplicate ids are skipped with warnings', () => {
  const doc = sixNodeDoc();
  doc.nodes.push({ ...doc.nodes[0] });
  doc.edges.push(['load', 'nowhere'], ['x'], 'junk');
  const m = parsed(doc);
  assert.equal(m.nodes.length, 6);
  assert.equal(m.edges.length, 6);
  assert.deepEqual(m.warnings, ['duplicate node id "load"', '3 edge(s) name unknown nodes and were skipped']);
});

test('missing fields get defaults', () => {
  const m = parsed({ version: 1, nodes: [{ id: 'a' }, { id: 'b', label: '' }], edges: [['a', 'b']] });
  assert.equal(m.kind, 'workflow');
  assert.equal(m.runId, null);
  assert.equal(m.nodes[0].state, 'pending');
  assert.equal(m.nodes[1].label, 'b');
  assert.equal(m.nodes[0].duration, null);
  assert.deepEqual(m.counts, { pending: 2 });
  assert.equal(m.totalNodes, 2);
  assert.equal(m.truncated, false);
});

test('longest-path layers', () => {
  // a -> b -> d, a -> d, c -> d, d -> e: d is on layer 2 (via b), e on 3.
  const edges = [[0, 1], [1, 3], [0, 3], [2, 3], [3, 4]].map(([source, target]) => ({ source, target }));
  assert.deepEqual(computeLayers(5, edges), [0, 1, 0, 2, 3]);
  assert.deepEqual(computeLayers(3, []), [0, 0, 0]);
});

test('layers tolerate cycles and self-loops', () => {
  const edges = [[0, 1], [1, 2], [2, 1], [3, 3]].map(([source, target]) => ({ source, target }));
  const layers = computeLayers(4, edges);
  assert.equal(layers[0], 0);
  assert.equal(layers[3], 0);
  assert.ok(layers[1] >= 1 && layers[2] >= 1);
});

test('fallback layout places nodes by layer and row when x/y are missing', () => {
  const doc = {
    version: 1,
    nodes: ['a', 'b', 'c', 'd'].map(id => ({ id })),
    edges: [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd']]
  };
  const m = parsed(doc);
  assert.equal(m.layoutComputed, true);
  assert.deepEqual(m.nodes.map(n => [n.id, n.layer, n.x, n.y]), [
    ['a', 0, 0, 0], ['b', 1, 1, 0], ['c', 1, 1, 1], ['d', 2, 2, 0]
  ]);
  const tb = parsed({ ...doc, direction: 'TB' });
  assert.deepEqual(tb.nodes.map(n => [n.x, n.y]), [[0, 0], [0, 1], [1, 1], [0, 2]]);
});

test('fallback layout keeps layers given by the document', () => {
  const m = parsed({ version: 1, nodes: [{ id: 'a', layer: 0 }, { id: 'b', layer: 5 }], edges: [] });
  assert.deepEqual(m.nodes.map(n => [n.x, n.y]), [[0, 0], [5, 0]]);
});

test('fallback layout of 2,000 nodes is linear and fast', () => {
  const start = performance.now();
  const m = parsed(bigDoc(2000, false));
  const ms = performance.now() - start;
  assert.equal(m.layoutComputed, true);
  assert.equal(m.nodes[1999].layer, 49);
  assert.deepEqual(m.bounds, { minX: 0, minY: 0, maxX: 49, maxY: 39 });
  assert.ok(ms < 250, `took ${ms} ms`);
});

test('state colours: document first, built-ins next, then a neutral fallback', () => {
  const states = mergeStates({ failed: '#ff0000', custom: 'rebeccapurple', bad: 'url(javascript:x)', n: 3 });
  assert.equal(stateColor(states, 'failed'), '#ff0000');
  assert.equal(stateColor(states, 'custom'), 'rebeccapurple');
  assert.equal(stateColor(states, 'succeeded'), DEFAULT_STATE_COLORS.succeeded);
  assert.equal(stateColor(states, 'bad'), UNKNOWN_STATE_COLOR);
  assert.equal(stateColor(states, 'whatever'), UNKNOWN_STATE_COLOR);
  assert.equal(isSafeColor('rgb(1, 2, 3)'), true);
  assert.equal(isSafeColor('red;stroke:blue'), false);
});

test('bounds of an empty graph', () => {
  assert.deepEqual(computeBounds([]), { minX: 0, minY: 0, maxX: 0, maxY: 0 });
});

test('legend lists present states in colour-table order with counts', () => {
  const m = parsed(sixNodeDoc());
  assert.deepEqual(legendEntries(m).map(e => [e.state, e.count, e.color]), [
    ['running', 1, '#0969da'],
    ['succeeded', 2, '#1a7f37'],
    ['failed', 1, '#cf222e'],
    ['skipped', 1, '#8c959f'],
    ['cached', 1, '#8250df']
  ]);
  const odd = parsed({ version: 1, nodes: [{ id: 'a', state: 'zombie' }] });
  assert.deepEqual(legendEntries(odd).map(e => [e.state, e.count, e.color]), [['zombie', 1, UNKNOWN_STATE_COLOR]]);
});

test('details rows carry status, duration, attempts, action and error', () => {
  const m = parsed(sixNodeDoc());
  assert.deepEqual(detailRows(m.nodes[2]).map(r => [r.key, r.value]), [
    ['status', 'failed'],
    ['error', 'ValueError: bad input'],
    ['duration', '1.50 s'],
    ['attempts', '3'],
    ['action', 'notebook.etl.validate']
  ]);
  const timed = parsed({ version: 1, nodes: [{ id: 'a', started: '2026-11-25T23:50:01.123456+00:00', ended: 'soon' }] });
  assert.deepEqual(detailRows(timed.nodes[0]).slice(-2).map(r => r.value), ['2026-11-25 23:50:01.123 UTC', 'soon']);
  const hit = parsed({ version: 1, nodes: [{ id: 'a', state: 'cached', cache: 'hit' }] }).nodes[0];
  assert.deepEqual(detailRows(hit).slice(0, 2).map(r => [r.key, r.value]), [['status', 'cached'], ['cache', 'hit']]);
  const bare = parsed({ version: 1, nodes: [{ id: 'a' }] }).nodes[0];
  assert.deepEqual(detailRows(bare).map(r => r.value), ['pending', '–', '–']);
});

test('timestamps read like people write them', () => {
  assert.equal(formatTimestamp('2026-11-25T23:50:01.123456+00:00'), '2026-11-25 23:50:01.123 UTC');
  assert.equal(formatTimestamp('2026-11-25T23:50:01Z'), '2026-11-25 23:50:01 UTC');
  assert.equal(formatTimestamp('2026-11-25T23:50:01.5+02:00'), '2026-11-25 23:50:01.5 +02:00');
  assert.equal(formatTimestamp('2026-11-25T23:50:01'), '2026-11-25 23:50:01');
  assert.equal(formatTimestamp('yesterday'), 'yesterday');
});

test('durations read like people write them', () => {
  assert.equal(formatDuration(null), '–');
  assert.equal(formatDuration(0.0002), '0.2 ms');
  assert.equal(formatDuration(0.0049), '4.9 ms');
  assert.equal(formatDuration(0.012), '12 ms');
  assert.equal(formatDuration(0.9996), '1.00 s');
  assert.equal(formatDuration(1.5), '1.50 s');
  assert.equal(formatDuration(42.25), '42.3 s');
  assert.equal(formatDuration(125), '2 min 05 s');
  assert.equal(formatDuration(3720), '1 h 02 min');
});

test('summary line', () => {
  assert.equal(summaryLine(parsed(sixNodeDoc())), 'etl · run 2f6c1d0e9b8a… · failed · 6 steps');
  const big = parsed({ ...bigDoc(30), truncated: true, total_nodes: 5000 });
  assert.equal(summaryLine(big), 'big · 5000 steps · showing the first 30');
});

test('the Dask dashboard link is read when it is an http(s) URL, and only then', () => {
  assert.equal(parsed({ ...sixNodeDoc(), dashboard: 'http://127.0.0.1:8787/status' }).dashboard,
    'http://127.0.0.1:8787/status');
  assert.equal(parsed(sixNodeDoc()).dashboard, null);
  assert.equal(readLink('javascript:alert(1)'), null);
  assert.equal(readLink(42), null);
});

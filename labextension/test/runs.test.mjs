import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  countsLabel, formatAge, formatDelta, formatRunDuration, nextPollDelay, olderFirst, originLabel,
  originTitle, parseRunDetail, parseRunsPage, runColor, RUNS_API, IDLE_MAX_MS, ACTIVE_POLL_MS
} from '../lib/runsText.js';

const row = (over = {}) => ({
  run_id: 'abc123', workflow: 'etl', version: 1, status: 'completed', start: 1000, end: 1002.5,
  duration: 2.5, error: null, errors: [], counts: { succeeded: 3 }, host: 'vm', pid: 42,
  notebook: 'sub/a.ipynb', kernel: 'k1', cancel_requested: false, ...over
});

test('the API path matches the server extension', () => {
  assert.equal(RUNS_API, 'codomyrmex/api');
});

test('parses a page and drops rows that are not runs', () => {
  const page = parseRunsPage({ runs: [row(), { nope: 1 }, null], total: 7, active: 1, limit: 50, offset: 0,
    store: { path: '/s/codomyrmex.sqlite3' } });
  assert.equal(page.runs.length, 1);
  assert.deepEqual([page.total, page.active, page.storePath], [7, 1, '/s/codomyrmex.sqlite3']);
  assert.throws(() => parseRunsPage({ message: 'x' }), /not a list of runs/);
  const detail = parseRunDetail({ run: { ...row(), parameters: { n: 5 } }, document: { nodes: [] } });
  assert.deepEqual(detail.run.parameters, { n: 5 });
  assert.throws(() => parseRunDetail({ run: 3 }), /not a run/);
});

test('status colours are the run document state colours', () => {
  assert.equal(runColor('completed'), '#1a7f37');
  assert.equal(runColor('failed'), '#cf222e');
  assert.equal(runColor('running'), '#0969da');
  assert.equal(runColor('weird'), '#d0d7de');
});

test('durations are live for running runs', () => {
  assert.equal(formatRunDuration(row(), 5000), '2.50 s');
  assert.equal(formatRunDuration(row({ status: 'running', duration: null, end: null }), 1065), '1 min 05 s');
  assert.equal(formatRunDuration(row({ status: 'pending', duration: null, start: null }), 1), '–');
});

test('ages read like a person says them', () => {
  assert.equal(formatAge(1000, 1002), 'just now');
  assert.equal(formatAge(1000, 1040), '40 s ago');
  assert.equal(formatAge(1000, 1000 + 300), '5 min ago');
  assert.equal(formatAge(1000, 1000 + 3 * 3600), '3 h ago');
  assert.equal(formatAge(0, 3 * 86400), '1970-01-01');
  assert.equal(formatAge(null, 5), '–');
});

test('origin: the notebook file name, else the process', () => {
  assert.equal(originLabel(row()), 'a.ipynb');
  assert.equal(originLabel(row({ notebook: null })), 'vm:42');
  assert.match(originTitle(row()), /notebook: sub\/a.ipynb\nkernel: k1\nprocess: vm pid 42/);
});

test('step counts', () => {
  assert.equal(countsLabel({ succeeded: 2, failed: 1, skipped: 1 }), '2/4 steps, 1 failed');
  assert.equal(countsLabel({ succeeded: 2, cached: 1 }), '3/3 steps, 1 cached');
  assert.equal(countsLabel({ succeeded: 1, cached: 2, failed: 1 }), '3/4 steps, 1 failed, 2 cached');
  assert.equal(countsLabel(null), '');
});

test('polling: every second while active, backing off to the idle ceiling', () => {
  assert.equal(nextPollDelay(8000, true), ACTIVE_POLL_MS);
  const delays = [];
  let d = 0;
  for (let i = 0; i < 6; i++) {
    d = nextPollDelay(d, false);
    delays.push(d);
  }
  assert.deepEqual(delays, [2000, 4000, 8000, IDLE_MAX_MS, IDLE_MAX_MS, IDLE_MAX_MS]);
});

test('the run that started first is A of a comparison', () => {
  const runs = [row({ run_id: 'new', start: 2000 }), row({ run_id: 'old', start: 1000 })];
  assert.deepEqual(olderFirst('new', 'old', runs), ['old', 'new']);
  assert.deepEqual(olderFirst('old', 'new', runs), ['old', 'new']);
  assert.deepEqual(olderFirst('x', 'new', runs), ['new', 'x']); // a run no longer listed goes last
  assert.equal(formatDelta(0.5), '+500 ms');
  assert.equal(formatDelta(-2), '-2.00 s');
  assert.equal(formatDelta(null), '');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  formatStatus, formatTooltip, parseStatusMessage, STATUS_COMM_TARGET, STATUS_REQUEST, statusTone
} from '../lib/statusText.js';

const msg = (over = {}) => ({ running: 0, failed: 0, completed: 0, cancelled: 0, runs: [], ...over });

test('protocol constants match the kernel side', () => {
  assert.equal(STATUS_COMM_TARGET, 'codomyrmex.status');
  assert.deepEqual(STATUS_REQUEST, { request: 'status' });
});

test('parses kernel messages and rejects everything else', () => {
  const parsed = parseStatusMessage({
    running: 2, failed: 1, completed: 3, cancelled: 0,
    runs: [{ run_id: 'abc', workflow: 'etl', status: 'running' }, null, 'x',
      { run_id: 'def', workflow: 'etl', status: 'completed', cached: 7 }]
  });
  assert.deepEqual(parsed, {
    running: 2, failed: 1, completed: 3, cancelled: 0,
    runs: [{ runId: 'abc', workflow: 'etl', status: 'running', cached: 0 },
      { runId: 'def', workflow: 'etl', status: 'completed', cached: 7 }]
  });
  assert.equal(parseStatusMessage({ request: 'status' }), null);
  assert.equal(parseStatusMessage(null), null);
  assert.equal(parseStatusMessage([1]), null);
  assert.deepEqual(parseStatusMessage({ running: -1, failed: 'x', completed: 2.7 }), msg({ completed: 2 }));
});

test('status text', () => {
  const cases = [
    [msg({ running: 2, failed: 1 }), 'codomyrmex: 2 running, 1 failed'],
    [msg({ running: 1, completed: 4 }), 'codomyrmex: 1 running'],
    [msg({ completed: 4, cancelled: 1 }), 'codomyrmex: idle, 5 runs'],
    [msg({ completed: 1 }), 'codomyrmex: idle, 1 run'],
    [msg({ completed: 3, failed: 2 }), 'codomyrmex: idle, 5 runs, 2 failed'],
    [msg(), 'codomyrmex: idle, 0 runs']
  ];
  for (const [m, text] of cases) {
    assert.equal(formatStatus(m), text);
  }
});

test('tone and tooltip', () => {
  assert.equal(statusTone(msg({ running: 1, failed: 1 })), 'running');
  assert.equal(statusTone(msg({ failed: 1 })), 'failed');
  assert.equal(statusTone(msg()), 'idle');
  const tip = formatTooltip(msg({ running: 1, runs: [
    { runId: '0123456789abcdef', workflow: 'etl', status: 'running', cached: 0 },
    { runId: 'abc', workflow: 'etl', status: 'completed', cached: 3 }] }));
  assert.equal(tip, [
    'codomyrmex runs in this kernel: 1 running, 0 completed, 0 failed, 0 cancelled',
    'Recent runs:',
    '  etl (0123456789ab…): running',
    '  etl (abc): completed, 3 cached'
  ].join('\n'));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  diffLines, diffSummary, durationChange, parseRunDiff, shown, stateChange, stepNotes
} from '../lib/runDiff.js';

// The JSON of RunDiff.to_dict(), as GET runs/<a>/diff/<b> answers it.
const side = (over = {}) => ({
  run_id: 'aaaa1111', workflow: 'etl', version: 1, status: 'completed', start: 1000, duration: 2.5, ...over
});
const step = (over = {}) => ({
  step: 'load', change: 'same', state: { a: 'succeeded', b: 'succeeded' }, state_changed: false,
  duration: { a: 0.3, b: 0.4 }, dependencies: null, code_changed: false, code_diff: null, parameters: [],
  result: null, cache: { a: null, b: null }, ...over
});
const CODE = '--- clean (aaaa1111)\n+++ clean (bbbb2222)\n@@ -1,2 +1,2 @@\n def clean(load):\n' +
  '-    return [x * 2 for x in load]\n+    return [x * 3 for x in load]\n';
const body = () => ({
  a: side(), b: side({ run_id: 'bbbb2222', version: 2, status: 'failed' }), identical: false,
  parameters: [{ name: 'n', a: '1', b: '5' }],
  environment: [{ name: 'package numpy', a: '1.26.4', b: null }],
  steps: [
    step(),
    step({ step: 'clean', change: 'changed', state: { a: 'succeeded', b: 'failed' }, state_changed: true,
      code_changed: true, code_diff: CODE, result: 'list len 3 -> no result' }),
    step({ step: 'report', change: 'changed', dependencies: { a: ['clean'], b: ['clean', 'extra'] },
      parameters: [{ name: 'title', a: null, b: "'t'" }] }),
    step({ step: 'extra', change: 'added', state: { a: null, b: 'succeeded' }, duration: { a: null, b: 0.1 } }),
    step({ step: 'old', change: 'removed', state: { a: 'succeeded', b: null }, duration: { a: 0.1, b: null } })
  ]
});

test('parses the diff and refuses what is not one', () => {
  const diff = parseRunDiff(body());
  assert.equal(diff.a.run_id, 'aaaa1111');
  assert.equal(diff.b.version, 2);
  assert.deepEqual(diff.parameters, [{ name: 'n', a: '1', b: '5' }]);
  assert.deepEqual(diff.steps.map(s => s.change), ['same', 'changed', 'changed', 'added', 'removed']);
  assert.deepEqual(diff.steps[2].dependencies, { a: ['clean'], b: ['clean', 'extra'] });
  const odd = parseRunDiff({ ...body(), steps: [step({ change: 'weird' }), { nope: 1 }, null] });
  assert.deepEqual(odd.steps.map(s => s.change), ['changed']); // unknown change: shown as a change
  assert.throws(() => parseRunDiff({ message: 'no run' }), /not a run diff/);
  assert.throws(() => parseRunDiff({ ...body(), steps: undefined }), /not a run diff/);
});

test('a summary line counts the steps by change', () => {
  assert.equal(diffSummary(parseRunDiff(body())),
    '5 steps: 1 added, 1 removed, 2 changed, 1 unchanged; run parameters and environment changed.');
  const same = parseRunDiff({ ...body(), identical: true, parameters: [], environment: [], steps: [step()] });
  assert.equal(diffSummary(same), 'Nothing differs but times.');
  const states = parseRunDiff({ ...body(), parameters: [], environment: [], steps: [step({ change: 'changed' })] });
  assert.equal(diffSummary(states), '1 step: 1 changed.');
});

test('each step says what changed', () => {
  const [load, clean, report, extra, old] = parseRunDiff(body()).steps;
  assert.deepEqual(stepNotes(load), []);
  assert.deepEqual(stepNotes(clean), ['state succeeded → failed', 'result list len 3 → no result', 'code changed']);
  assert.deepEqual(stepNotes(report), ['rewired: depends on [clean] → [clean, extra]', "parameter title: (unset) → 't'"]);
  assert.deepEqual(stepNotes(extra), ['only in B']);
  assert.deepEqual(stepNotes(old), ['only in A']);
  assert.deepEqual(stepNotes({ ...clean, code_diff: null, state_changed: false, result: null }),
    ['code changed (source not stored)']);
  assert.equal(stateChange(extra), '– → succeeded');
  assert.equal(durationChange(load), '300 ms → 400 ms (+100 ms)');
  assert.equal(durationChange(extra), '– → 100 ms');
  assert.equal(durationChange({ ...load, duration: { a: 0.00010, b: 0.00006 } }), '0.1 ms → 0.1 ms'); // no "-0.0 ms"
  assert.equal(shown(null), '(unset)');
});

test('code diff lines are classified for colouring', () => {
  assert.deepEqual(diffLines(CODE).map(l => l.kind), ['file', 'file', 'hunk', 'same', 'del', 'add']);
  // After the first hunk, a line starting "---" is a removed line, not a file name.
  assert.deepEqual(diffLines('@@ -1 +1 @@\n---x\n+++y').map(l => l.kind), ['hunk', 'del', 'add']);
  assert.equal(diffLines(CODE)[4].text, '-    return [x * 2 for x in load]');
});

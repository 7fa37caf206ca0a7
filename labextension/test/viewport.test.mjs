import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  canvasHeight, clampScale, fitTransform, MAX_SCALE, MIN_SCALE, panBy, transformAttr, wheelFactor, zoomAt
} from '../lib/viewport.js';

const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('zooming keeps the point under the cursor fixed', () => {
  const t = { x: 10, y: -20, k: 0.5 };
  const z = zoomAt(t, 2, 100, 60);
  close(z.k, 1);
  // Drawing point under (100, 60) before: ((100-10)/0.5, (60+20)/0.5) = (180, 160).
  close(z.x + 180 * z.k, 100);
  close(z.y + 160 * z.k, 60);
});

test('scale is clamped', () => {
  assert.equal(clampScale(100), MAX_SCALE);
  assert.equal(clampScale(0), MIN_SCALE);
  assert.equal(zoomAt({ x: 0, y: 0, k: MAX_SCALE }, 2, 0, 0).k, MAX_SCALE);
});

test('pan moves by the screen offset', () => {
  assert.deepEqual(panBy({ x: 1, y: 2, k: 3 }, 10, -5), { x: 11, y: -3, k: 3 });
});

test('fit centres a small drawing at 1:1 and shrinks a big one', () => {
  assert.deepEqual(fitTransform(200, 100, 400, 300), { k: 1, x: 100, y: 100 });
  const big = fitTransform(2000, 500, 1000, 500);
  assert.equal(big.k, 0.5);
  close(big.x, 0);
  close(big.y, 125);
});

test('fit below the minimum starts at the top-left corner', () => {
  assert.deepEqual(fitTransform(10000, 2000, 800, 400, 1, 0.35), { x: 0, y: 0, k: 0.35 });
  assert.deepEqual(fitTransform(0, 0, 800, 400), { x: 0, y: 0, k: 1 });
});

test('wheel zooms in for negative deltas and normalises lines and pages', () => {
  assert.ok(wheelFactor(-100, 0) > 1);
  assert.ok(wheelFactor(100, 0) < 1);
  close(wheelFactor(3, 1), wheelFactor(48, 0));
  close(wheelFactor(10000, 0), wheelFactor(300, 0));
});

test('transform attribute and canvas height', () => {
  assert.equal(transformAttr({ x: 1.23456, y: 2, k: 0.5 }), 'translate(1.235,2) scale(0.5)');
  assert.equal(canvasHeight(50), 200);
  assert.equal(canvasHeight(300), 300);
  assert.equal(canvasHeight(5000), 460);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseDag } from '../lib/model.js';
import {
  buildSvg, drawingSize, edgePath, escapeXml, GEOMETRY_LR, nodePositions, textColorFor, truncateLabel
} from '../lib/svg.js';
import { bigDoc, sixNodeDoc, STATES } from './fixtures.mjs';

const model = doc => parseDag(doc).model;

function nodeGroups(markup) {
  return [...markup.matchAll(/<g class="cdm-node" data-id="([^"]*)" data-state="([^"]*)"[^>]*>.*?<rect [^>]*fill="([^"]*)"/g)]
    .map(m => ({ id: m[1], state: m[2], fill: m[3] }));
}

test('one g.cdm-node per node with its state colour, one path.cdm-edge per edge', () => {
  const { markup } = buildSvg(model(sixNodeDoc()), 'cdm-t');
  const groups = nodeGroups(markup);
  assert.equal(groups.length, 6);
  for (const g of groups) {
    assert.equal(g.fill, STATES[g.state], g.id);
  }
  assert.deepEqual(groups.map(g => g.id), ['load', 'clean', 'validate', 'train', 'report', 'archive']);
  assert.equal((markup.match(/<path class="cdm-edge"/g) ?? []).length, 6);
  assert.ok(markup.includes('marker-end="url(#cdm-t-arrow)"'));
  assert.ok(markup.includes('<marker id="cdm-t-arrow"'));
  assert.ok(markup.includes('data-source="load" data-target="validate"'));
});

test('documents colours override built-ins; unknown states get the neutral fill', () => {
  const doc = sixNodeDoc();
  doc.states.failed = '#ff00ff';
  doc.nodes[4].state = 'mystery';
  const groups = nodeGroups(buildSvg(model(doc), 'x').markup);
  assert.equal(groups[2].fill, '#ff00ff');
  assert.equal(groups[4].fill, '#afb8c1');
});

test('positions come from x/y in layout units', () => {
  const m = model(sixNodeDoc());
  const pos = nodePositions(m, GEOMETRY_LR);
  const { padding, stepX, stepY } = GEOMETRY_LR;
  assert.deepEqual([pos[4], pos[5]], [padding + stepX, padding + stepY]); // validate (1, 1)
  assert.deepEqual(drawingSize(m, GEOMETRY_LR), {
    width: 2 * padding + 3 * stepX + GEOMETRY_LR.nodeWidth,
    height: 2 * padding + stepY + GEOMETRY_LR.nodeHeight
  });
  const { markup } = buildSvg(m, 'x');
  assert.ok(markup.includes(`data-id="validate" data-state="failed" data-index="2" transform="translate(${padding + stepX},${padding + stepY})"`));
});

test('edge paths go from the right side of the source to the left side of the target', () => {
  const d = edgePath(0, 0, 190, 52, GEOMETRY_LR, false);
  assert.equal(d, 'M150,20C174,20 164,72 188,72');
  const v = edgePath(0, 0, 0, 80, GEOMETRY_LR, true);
  assert.equal(v, 'M75,40C75,64 75,54 75,78');
});

test('text is escaped everywhere', () => {
  const doc = sixNodeDoc();
  doc.nodes[0].id = '<script>"&\'';
  doc.nodes[0].label = '<b>x</b>';
  doc.edges = [];
  doc.workflow = '"><img>';
  const { markup } = buildSvg(model(doc), 'x');
  assert.ok(!markup.includes('<script>'));
  assert.ok(!markup.includes('<b>'));
  assert.ok(!markup.includes('<img>'));
  assert.ok(markup.includes('data-id="&lt;script&gt;&quot;&amp;&#39;"'));
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('long labels are cut with an ellipsis; the title keeps the full name', () => {
  assert.equal(truncateLabel('short', 19), 'short');
  assert.equal(truncateLabel('a_really_long_step_name_indeed', 10), 'a_really_…');
  const doc = sixNodeDoc();
  doc.nodes[0].label = 'a_really_long_step_name_indeed';
  const { markup } = buildSvg(model(doc), 'x');
  assert.ok(markup.includes('>a_really_long_step_…</text>'));
  assert.ok(markup.includes('<title>a_really_long_step_name_indeed (load): succeeded</title>'));
});

test('retried steps show their attempts', () => {
  const { markup } = buildSvg(model(sixNodeDoc()), 'x');
  assert.equal((markup.match(/class="cdm-node-attempts"/g) ?? []).length, 1);
  assert.ok(markup.includes('>×3</text>'));
});

test('a cached step says "cached" in its box, and its cache answer in its tooltip', () => {
  const doc = sixNodeDoc();
  const archive = doc.nodes.find(n => n.id === 'archive');
  archive.duration = 0.000012;
  archive.cache = 'hit';
  const { markup } = buildSvg(model(doc), 'x');
  const box = markup.match(/<g class="cdm-node" data-id="archive"[^>]*>([\s\S]*?)<\/g>/)[1];
  assert.ok(box.includes('<title>archive: cached\ncache: hit</title>'), box);
  assert.ok(box.includes('class="cdm-node-detail" x="10" y="31" fill="#ffffff">cached</text>'), box);
  assert.ok(box.includes(`rx="5" ry="5" fill="${STATES.cached}"`), box);
});

test('label colour contrasts with the fill', () => {
  assert.equal(textColorFor('#1a7f37'), '#ffffff');
  assert.equal(textColorFor('#0969da'), '#ffffff');
  assert.equal(textColorFor('#d0d7de'), '#1f2328');
  assert.equal(textColorFor('#9ecbff'), '#1f2328');
  assert.equal(textColorFor('#fff'), '#1f2328');
  assert.equal(textColorFor('#ffff'), '#1f2328');
  assert.equal(textColorFor('rebeccapurple'), '#ffffff');
});

test('up to 300 nodes are boxes; more are dots on one edge path, as in the Python twin', () => {
  const full = buildSvg(model(bigDoc(300)), 'full').markup;
  assert.equal((full.match(/<g class="cdm-node"/g) ?? []).length, 300);
  const doc = bigDoc(2000);
  const start = performance.now();
  const { markup, width, height } = buildSvg(model(doc), 'big');
  const ms = performance.now() - start;
  assert.equal((markup.match(/<circle class="cdm-node cdm-dot"/g) ?? []).length, 2000);
  assert.equal((markup.match(/<path class="cdm-edge/g) ?? []).length, 1);
  const edges = /class="cdm-edge cdm-edges-compact" d="([^"]*)"/.exec(markup)[1];
  assert.equal((edges.match(/M/g) ?? []).length, doc.edges.length);
  assert.ok(!markup.includes('marker-end'));
  assert.equal(width, 2 * 12 + 49 * 44 + 8);
  assert.equal(height, 2 * 12 + 39 * 12 + 8);
  assert.ok(markup.includes('data-state="failed" data-index="1" cx="16" cy="28" r="4" fill="#cf222e" stroke="#1f2328"'));
  assert.ok(ms < 300, `took ${ms} ms`);
});

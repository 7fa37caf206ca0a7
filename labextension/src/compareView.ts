/**
 * Two runs side by side: both headers, the server's diff of the two runs
 * (run parameters, environment, a step table with what changed in each
 * step, and each edited step's code diff), then both run documents drawn by
 * the notebook's renderer.
 */

import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';

import { el } from './dom.js';
import { createRunRenderer, renderRunDocument } from './renderRun.js';
import {
  diffLines,
  diffSummary,
  durationChange,
  INamedChange,
  IPair,
  IRunDiff,
  IStepDiff,
  shown,
  stepNotes
} from './runDiff.js';
import { RunsClient } from './runsClient.js';
import { runHeader } from './runTab.js';
import { IRunDetail, runColor } from './runsText.js';

const message = (reason: unknown): string => String(reason instanceof Error ? reason.message : reason);

function stateCell(state: IPair<string>): HTMLElement {
  const cell = el('td', 'cdm-compare-state');
  [state.a, state.b].forEach((value, i) => {
    if (i === 1) {
      cell.append(' → ');
    }
    if (value === null) {
      cell.append('–');
      return;
    }
    const dot = el('span', 'cdm-runs-dot');
    dot.style.background = runColor(value);
    cell.append(dot, value);
  });
  return cell;
}

function changesTable(label: string, changes: INamedChange[], className: string): HTMLElement | null {
  if (changes.length === 0) {
    return null;
  }
  const table = el('table', `cdm-diff-changes ${className}`);
  const head = el('tr', '');
  head.append(el('th', '', label), el('th', '', 'A'), el('th', '', 'B'));
  table.appendChild(head);
  for (const change of changes) {
    const row = el('tr', '');
    row.dataset.name = change.name;
    row.append(
      el('td', 'cdm-diff-name', change.name),
      el('td', 'cdm-diff-value', shown(change.a)),
      el('td', 'cdm-diff-value', shown(change.b))
    );
    table.appendChild(row);
  }
  return table;
}

function stepTable(diff: IRunDiff): HTMLElement {
  const table = el('table', 'cdm-compare-steps');
  const head = el('tr', '');
  for (const label of ['step', 'change', 'state A → B', 'duration A → B', 'what changed']) {
    head.appendChild(el('th', '', label));
  }
  table.appendChild(head);
  for (const step of diff.steps) {
    const tr = el('tr', step.change === 'same' ? '' : 'cdm-compare-changed');
    tr.dataset.step = step.step;
    tr.dataset.change = step.change;
    const notes = el('td', 'cdm-diff-notes');
    for (const note of stepNotes(step)) {
      notes.appendChild(el('div', '', note));
    }
    tr.append(
      el('td', 'cdm-compare-step', step.step),
      el('td', `cdm-diff-change cdm-diff-${step.change}`, step.change),
      stateCell(step.state),
      el('td', 'cdm-compare-delta', durationChange(step)),
      notes
    );
    table.appendChild(tr);
  }
  return table;
}

function codeBlock(step: IStepDiff): HTMLElement {
  const box = el('details', 'cdm-diff-code');
  box.open = true;
  box.dataset.step = step.step;
  box.appendChild(el('summary', '', `${step.step}: code changed`));
  const pre = el('pre', 'cdm-diff-lines');
  for (const line of diffLines(step.code_diff ?? '')) {
    pre.appendChild(el('span', `cdm-diff-line cdm-diff-line-${line.kind}`, line.text));
  }
  box.appendChild(pre);
  return box;
}

/** The diff of the two runs, as the server computed it. */
export function diffView(diff: IRunDiff): HTMLElement {
  const view = el('div', 'cdm-diff');
  const title = el('div', 'cdm-diff-title');
  title.append(el('span', 'cdm-diff-heading', 'What changed from A to B'), el('span', 'cdm-diff-summary', diffSummary(diff)));
  view.appendChild(title);
  const tables = [
    changesTable('run parameter', diff.parameters, 'cdm-diff-params'),
    changesTable('environment', diff.environment, 'cdm-diff-env')
  ].filter((t): t is HTMLElement => t !== null);
  if (tables.length) {
    const row = el('div', 'cdm-diff-tables');
    row.append(...tables);
    view.appendChild(row);
  }
  view.appendChild(stepTable(diff));
  for (const step of diff.steps.filter(s => s.code_diff)) {
    view.appendChild(codeBlock(step));
  }
  return view;
}

export class CompareView extends Panel {
  constructor(a: string, b: string, client: RunsClient, rendermime: IRenderMimeRegistry) {
    super();
    this.addClass('cdm-compare-view');
    this.title.label = `Compare ${a.slice(0, 6)} · ${b.slice(0, 6)}`;
    this.title.closable = true;
    this.ids = [a, b];
    this._client = client;
    this._rendermime = rendermime;
    this._summary.addClass('cdm-compare-summary');
    this._pair.addClass('cdm-compare-pair');
    this.addWidget(this._summary);
    this.addWidget(this._pair);
    void this._load();
  }

  readonly ids: [string, string];

  private async _load(): Promise<void> {
    const [a, b] = this.ids;
    const diff = this._client.diff(a, b).catch((reason: unknown) => new Error(message(reason)));
    let details: IRunDetail[];
    try {
      details = await Promise.all(this.ids.map(id => this._client.run(id)));
    } catch (reason) {
      this._summary.node.replaceChildren(el('div', 'cdm-runs-message cdm-runs-error', `Cannot load the runs: ${message(reason)}`));
      return;
    }
    const now = Date.now() / 1000;
    const heads = el('div', 'cdm-compare-heads');
    for (const [label, detail] of [['A', details[0]], ['B', details[1]]] as const) {
      const side = el('div', 'cdm-compare-head');
      side.append(el('span', 'cdm-compare-tag', label), runHeader(detail, now));
      heads.appendChild(side);
    }
    const answer = await diff;
    const changes = answer instanceof Error
      ? el('div', 'cdm-runs-message cdm-runs-error', `Cannot compare the runs: ${answer.message}`)
      : diffView(answer);
    this._summary.node.replaceChildren(heads, changes);
    for (const detail of details) {
      const renderer = createRunRenderer(this._rendermime);
      if (renderer === null || detail.document === null) {
        const empty = new Widget();
        empty.node.textContent = 'Nothing to draw.';
        this._pair.addWidget(empty);
        continue;
      }
      renderer.addClass('cdm-compare-side');
      this._pair.addWidget(renderer);
      await renderRunDocument(renderer, detail.document);
    }
  }

  private readonly _client: RunsClient;
  private readonly _rendermime: IRenderMimeRegistry;
  private readonly _summary = new Widget();
  private readonly _pair = new Panel();
}

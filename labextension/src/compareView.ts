/**
 * Two runs side by side: both headers, the run parameters that differ, a
 * step table (state and duration in each run, the change in duration), and
 * both run documents drawn by the notebook's renderer.
 */

import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';

import { el } from './dom.js';
import { formatDuration } from './model.js';
import { createRunRenderer, renderRunDocument } from './renderRun.js';
import { RunsClient } from './runsClient.js';
import { runHeader } from './runTab.js';
import { compareDocuments, formatDelta, IRunDetail, parameterChanges, runColor } from './runsText.js';

function stateCell(state: string | null, duration: number | null): HTMLElement {
  const cell = el('td', 'cdm-compare-state');
  if (state === null) {
    cell.textContent = '–';
    return cell;
  }
  const dot = el('span', 'cdm-runs-dot');
  dot.style.background = runColor(state);
  cell.append(dot, `${state} ${duration !== null ? formatDuration(duration) : ''}`.trim());
  return cell;
}

function stepTable(a: IRunDetail, b: IRunDetail): HTMLElement {
  const table = el('table', 'cdm-compare-steps');
  const head = el('tr', '');
  for (const label of ['step', `A ${a.run.run_id.slice(0, 8)}`, `B ${b.run.run_id.slice(0, 8)}`, 'change']) {
    head.appendChild(el('th', '', label));
  }
  table.appendChild(head);
  for (const row of compareDocuments(a.document, b.document)) {
    const tr = el('tr', row.changed ? 'cdm-compare-changed' : '');
    tr.dataset.step = row.step;
    tr.append(
      el('td', 'cdm-compare-step', row.step),
      stateCell(row.a.state, row.a.duration),
      stateCell(row.b.state, row.b.duration),
      el('td', 'cdm-compare-delta', row.changed ? 'state changed' : formatDelta(row.delta))
    );
    table.appendChild(tr);
  }
  return table;
}

function parameterList(a: IRunDetail, b: IRunDetail): HTMLElement {
  const changes = parameterChanges(a.run.parameters, b.run.parameters);
  const box = el('div', 'cdm-compare-params');
  if (changes.length === 0) {
    box.textContent = 'Same run parameters.';
    return box;
  }
  box.appendChild(el('div', 'cdm-compare-label', 'Parameters that differ:'));
  for (const [name, x, y] of changes) {
    box.appendChild(el('div', 'cdm-compare-param', `${name}: ${x} → ${y}`));
  }
  return box;
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
    let details: IRunDetail[];
    try {
      details = await Promise.all(this.ids.map(id => this._client.run(id)));
    } catch (reason) {
      this._summary.node.replaceChildren(el('div', 'cdm-runs-message cdm-runs-error', `Cannot load the runs: ${String(reason instanceof Error ? reason.message : reason)}`));
      return;
    }
    const [a, b] = details;
    const now = Date.now() / 1000;
    const heads = el('div', 'cdm-compare-heads');
    for (const [label, detail] of [['A', a], ['B', b]] as const) {
      const side = el('div', 'cdm-compare-head');
      side.append(el('span', 'cdm-compare-tag', label), runHeader(detail, now));
      heads.appendChild(side);
    }
    this._summary.node.replaceChildren(heads, parameterList(a, b), stepTable(a, b));
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

/**
 * The dashboard component (`application/vnd.codomyrmex.dashboard+json`): runs,
 * workflows, resource gauges and sessions of one kernel, built from the same
 * pieces as the run view. A click on a run opens that run's view below the
 * table (live while it runs); a click on a workflow shows its graph. A
 * document of kind "resources" shows the gauges alone.
 *
 * Live, clicks are sent to the kernel, which answers with a new document;
 * saved, the dashboard shows what it showed last, and the run that was open.
 *
 * Uses the DOM only (no JupyterLab imports). Every text is set as text.
 */

import { el } from './dom.js';
import { LiveFollower } from './follow.js';
import { isObject, Json, optNum } from './json.js';
import { formatDuration, formatTimestamp, IDagModel, parseDag } from './model.js';
import { runColor } from './runsText.js';
import { RunDocView, stateChip } from './runview.js';

export const DASHBOARD_MIME_TYPE = 'application/vnd.codomyrmex.dashboard+json';

type Send = (event: Json) => void;

export const TABS: readonly [string, string][] = [
  ['runs', 'Runs'],
  ['workflows', 'Workflows'],
  ['resources', 'Resources'],
  ['sessions', 'Sessions']
];

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function text(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : String(value);
}

/** The dashboard document, or null when it is not one this reader knows. */
export function parseDashboard(doc: unknown): Json | null {
  if (!isObject(doc) || doc.version !== 1 || (doc.kind !== 'dashboard' && doc.kind !== 'resources')) {
    return null;
  }
  return doc;
}

/** `1/2 GPU (50%)` and the bar style of one resource. */
export function gaugeText(r: Json): { text: string; fraction: number; tone: string } {
  const capacity = optNum(r.capacity) ?? 0;
  const allocated = optNum(r.allocated) ?? 0;
  const fraction = capacity > 0 ? Math.min(1, allocated / capacity) : 0;
  const unit = text(r.unit);
  const parts = [`${allocated}/${capacity}${unit ? ` ${unit}` : ''} (${Math.round(fraction * 100)}%)`];
  const waiting = optNum(r.waiting) ?? 0;
  if (waiting > 0) {
    parts.push(`${waiting} waiting`);
  }
  if (text(r.holders)) {
    parts.push(`held by ${text(r.holders)}`);
  }
  const tone = fraction < 0.7 ? 'ok' : fraction < 0.9 ? 'busy' : 'full';
  return { text: parts.join(' · '), fraction, tone };
}

/** A run (or session) status in its colour. */
function statusChip(status: string): HTMLSpanElement {
  return stateChip(status, runColor);
}

/** A table of rows, one cell per column; `onRow` finishes each row's element (selection, clicks). */
function table(
  columns: string[],
  rows: Json[],
  cell: (row: Json, col: string) => Node | string,
  onRow?: (row: Json, tr: HTMLTableRowElement) => void
): HTMLTableElement {
  const t = el('table', 'cdm-steps cdm-board-table');
  const head = t.createTHead().insertRow();
  for (const c of columns) {
    head.appendChild(el('th', `cdm-col-${c}`, c));
  }
  const body = t.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of columns) {
      const td = el('td', `cdm-col-${c}`);
      const value = cell(row, c);
      td.append(typeof value === 'string' ? document.createTextNode(value) : value);
      tr.appendChild(td);
    }
    onRow?.(row, tr);
  }
  if (rows.length === 0) {
    const td = el('td', 'cdm-empty', 'none');
    td.colSpan = columns.length;
    body.insertRow().appendChild(td);
  }
  return t;
}

/** Draws one dashboard document into a host element. */
export class DashboardDocView {
  /** `send` lets clicks reach the kernel (see `setActions`). */
  constructor(host: HTMLElement, doc: Json, send: Send | null = null) {
    this.node = el('div', 'cdm-board');
    host.appendChild(this.node);
    this._doc = doc;
    this._send = send;
    this._tab = text(doc.tab) || 'runs';
    this._render();
  }

  readonly node: HTMLDivElement;

  /** The tab shown. */
  get tab(): string {
    return this._tab;
  }

  /** Show a new document. */
  update(doc: Json): void {
    this._doc = doc;
    this._render();
  }

  /** Let clicks reach the kernel (null: saved output, nothing to ask); redraws only when that changes. */
  setActions(send: Send | null): void {
    const redraw = (send === null) !== (this._send === null);
    this._send = send;
    if (redraw) {
      this._render();
    }
  }

  /** Show a tab. */
  showTab(tab: string): void {
    this._tab = tab;
    this._render();
  }

  dispose(): void {
    this._dropRunView();
    this.node.remove();
  }

  private _render(): void {
    const doc = this._doc;
    const n = this.node;
    n.textContent = '';
    n.dataset.kind = text(doc.kind);
    n.classList.toggle('cdm-board-live', this._send !== null);
    if (doc.kind === 'resources') {
      this._dropRunView();
      n.appendChild(this._gauges());
      return;
    }
    n.appendChild(this._header());
    const tabs = el('div', 'cdm-tabs');
    tabs.setAttribute('role', 'tablist');
    for (const [key, label] of TABS) {
      const count = list(doc[key]).length;
      const b = el('button', 'cdm-tab', `${label} ${count}`);
      b.type = 'button';
      b.dataset.tab = key;
      b.setAttribute('role', 'tab');
      b.setAttribute('aria-selected', String(key === this._tab));
      b.addEventListener('click', () => this.showTab(key));
      tabs.appendChild(b);
    }
    n.appendChild(tabs);
    const body = el('div', 'cdm-tab-body');
    body.dataset.tab = this._tab;
    n.appendChild(body);
    if (this._tab === 'runs') {
      body.appendChild(this._runs());
      this._showDoc(body, isObject(doc.selected) ? doc.selected.doc : null);
    } else if (this._tab === 'workflows') {
      body.appendChild(this._workflows());
      this._showDoc(body, isObject(doc.workflow) ? doc.workflow.doc : null);
    } else if (this._tab === 'resources') {
      this._dropRunView();
      body.appendChild(this._gauges());
    } else {
      this._dropRunView();
      body.appendChild(this._sessions());
    }
  }

  private _header(): HTMLElement {
    const h = el('div', 'cdm-run-header');
    h.appendChild(el('span', 'cdm-run-title', text(this._doc.title) || 'codomyrmex'));
    const updated = text(this._doc.updated);
    if (updated) {
      h.appendChild(el('span', 'cdm-run-meta', `as of ${formatTimestamp(updated)}`));
    }
    h.appendChild(el('span', 'cdm-spacer'));
    if (this._send !== null) {
      const b = el('button', 'cdm-button', 'Refresh');
      b.type = 'button';
      b.title = 'Read everything again';
      b.addEventListener('click', () => this._send?.({ event: 'refresh' }));
      h.appendChild(b);
    }
    return h;
  }

  private _runs(): HTMLElement {
    const selected = isObject(this._doc.selected) ? text(this._doc.selected.run_id) : '';
    const rows = list(this._doc.runs);
    const onRow = (row: Json, tr: HTMLTableRowElement): void => {
      const id = text(row.run_id);
      tr.dataset.id = id;
      tr.classList.toggle('cdm-selected', id === selected);
      tr.addEventListener('click', () => this._open('select_run', { run_id: id }, id === selected));
    };
    const t = table(['run', 'workflow', 'status', 'started', 'duration', 'steps', 'error'], rows, (r, c) => {
      switch (c) {
        case 'run':
          return text(r.run_id).slice(0, 8);
        case 'status':
          return statusChip(text(r.status));
        case 'started':
          return r.started ? formatTimestamp(text(r.started)) : '';
        case 'duration':
          return optNum(r.duration) === null ? '' : formatDuration(optNum(r.duration));
        case 'steps':
          return isObject(r.counts)
            ? Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(', ')
            : '';
        default:
          return text(r[c]);
      }
    }, onRow);
    return this._wrap(t, this._send === null && rows.length > 0 && !selected ? 'Runs open on click while the kernel runs.' : '');
  }

  private _workflows(): HTMLElement {
    const selected = isObject(this._doc.workflow) ? text(this._doc.workflow.name) : '';
    const rows = list(this._doc.workflows);
    const onRow = (row: Json, tr: HTMLTableRowElement): void => {
      const name = text(row.name);
      tr.classList.toggle('cdm-selected', name === selected);
      tr.addEventListener('click', () => this._open('select_workflow', { name }, name === selected));
    };
    const t = table(['workflow', 'steps', 'version', 'runs', 'last status', 'typical duration'], rows, (r, c) => {
      switch (c) {
        case 'workflow':
          return text(r.name);
        case 'last status':
          return r.last_status ? statusChip(text(r.last_status)) : '';
        case 'typical duration':
          return optNum(r.estimated_duration) ? formatDuration(optNum(r.estimated_duration)) : '';
        default:
          return text(r[c]);
      }
    }, onRow);
    return this._wrap(t);
  }

  private _gauges(): HTMLElement {
    const box = el('div', 'cdm-gauges');
    const rows = list(this._doc.resources);
    if (rows.length === 0) {
      box.appendChild(el('div', 'cdm-empty', 'No resource is defined.'));
      return box;
    }
    for (const r of rows) {
      const g = gaugeText(r);
      const row = el('div', 'cdm-gauge');
      row.dataset.id = text(r.id);
      row.dataset.tone = g.tone;
      const name = text(r.name);
      const id = text(r.id);
      row.appendChild(el('span', 'cdm-gauge-label', name && name !== id ? `${name} (${id})` : id));
      const track = el('span', 'cdm-gauge-track');
      const fill = el('span', 'cdm-gauge-fill');
      fill.style.width = `${(g.fraction * 100).toFixed(1)}%`;
      track.appendChild(fill);
      row.append(track, el('span', 'cdm-gauge-text', g.text));
      box.appendChild(row);
    }
    return box;
  }

  private _sessions(): HTMLElement {
    const t = table(['session', 'name', 'status', 'created', 'workflows'], list(this._doc.sessions), (r, c) => {
      switch (c) {
        case 'session':
          return text(r.session_id).slice(0, 8);
        case 'status':
          return statusChip(text(r.status));
        case 'created':
          return r.created_at ? formatTimestamp(text(r.created_at)) : '';
        default:
          return text(r[c]);
      }
    });
    return this._wrap(t);
  }

  private _wrap(t: HTMLElement, note = ''): HTMLElement {
    const w = el('div', 'cdm-table-wrap');
    w.appendChild(t);
    if (note) {
      w.appendChild(el('div', 'cdm-more', note));
    }
    return w;
  }

  private _open(event: string, args: Json, alreadyOpen: boolean): void {
    if (this._send !== null) {
      this._send({ event, ...(alreadyOpen ? { close: true } : {}), ...args });
    }
  }

  /** Show a run (or workflow) document under the table; the same component is reused. */
  private _showDoc(body: HTMLElement, raw: unknown): void {
    const parsed = raw === null || raw === undefined ? null : parseDag(raw);
    if (parsed === null || !parsed.ok) {
      this._dropRunView();
      return;
    }
    const model: IDagModel = parsed.model;
    const slot = el('div', 'cdm-board-run');
    body.appendChild(slot);
    if (this._runView === null) {
      this._runView = new RunDocView(slot, model);
      this._follower = new LiveFollower(this._runView);
    } else {
      slot.appendChild(this._runView.node);
      this._runView.update(model);
    }
    this._follower?.follow(model.live?.modelId ?? null);
  }

  private _dropRunView(): void {
    this._follower?.stop();
    this._follower = null;
    this._runView?.dispose();
    this._runView = null;
  }

  private _doc: Json;
  private _tab: string;
  private _send: Send | null;
  private _runView: RunDocView | null = null;
  private _follower: LiveFollower | null = null;
}

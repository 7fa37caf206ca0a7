/**
 * The run view: one component that draws a run document, live or saved.
 *
 * Header (workflow, status, run id, duration, parameters, Cancel while a
 * live run can be cancelled), the graph canvas, a legend of the states
 * present, the details of the selected step (its result preview), the step
 * table, the timeline and a card per failed step (error, where, traceback).
 * A workflow definition shows the header, the graph and the legend.
 *
 * The MIME renderer (saved outputs), the custom widget view (live runs) and
 * the dashboard all mount this component; `update()` takes a new document
 * and redraws in place, so a live output turns into the saved one without
 * moving.
 *
 * Uses the DOM only (no JupyterLab imports). Every text is set as text.
 */

import { DagCanvas } from './canvas.js';
import { el } from './dom.js';
import {
  detailRows,
  formatDuration,
  formatTimestamp,
  IDagModel,
  IDagNode,
  IResultSummary,
  legendEntries,
  stateColor
} from './model.js';
import { failures, progress, tableRows, timeline, usesCache } from './timeline.js';
import { ZOOM_STEP } from './viewport.js';

let views = 0;

/** A small coloured square for a state. */
export function swatch(color: string): HTMLSpanElement {
  const s = el('span', 'cdm-swatch');
  s.style.background = color;
  return s;
}

/** A state (or run status) name in its colour (with a swatch); `color` gives the colour of a name. */
export function stateChip(state: string, color: (state: string) => string): HTMLSpanElement {
  const chip = el('span', 'cdm-state');
  chip.dataset.state = state;
  chip.append(swatch(color(state)), document.createTextNode(state));
  return chip;
}

function shortId(runId: string): string {
  return runId.length > 8 ? runId.slice(0, 8) : runId;
}

function paramText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Options of a run view. */
export interface IRunViewOptions {
  /** Called when the user asks to cancel the (live) run. */
  onCancel?: () => void;
}

/** Draws one run document into a host element. */
export class RunDocView {
  constructor(host: HTMLElement, model: IDagModel, options: IRunViewOptions = {}) {
    views += 1;
    this._idPrefix = `cdm-run-${views}`;
    this._model = model;
    this._onCancel = options.onCancel ?? null;
    this.node = el('div', 'cdm-run');
    this._header = el('div', 'cdm-run-header');
    this._legend = el('div', 'cdm-legend');
    this._details = el('div', 'cdm-details');
    this._details.hidden = true;
    this._details.setAttribute('aria-live', 'polite');
    this._sections = el('div', 'cdm-run-sections');
    this.node.appendChild(this._header);
    host.appendChild(this.node);
    this._canvas = new DagCanvas(this.node, model, this._idPrefix, n => this.select(n === null ? null : n.id));
    this.node.append(this._legend, this._details, this._sections);
    this._render();
  }

  readonly node: HTMLDivElement;

  /** The document shown. */
  get model(): IDagModel {
    return this._model;
  }

  /** The selected step's id, if any. */
  get selected(): string | null {
    return this._selected;
  }

  /** The graph canvas (zoom, fit). */
  get canvas(): DagCanvas {
    return this._canvas;
  }

  /** Show a new document of this run (or of another: then the graph is redrawn). */
  update(model: IDagModel): void {
    this._model = model;
    this._canvas.update(model);
    if (this._selected !== null && !model.nodes.some(n => n.id === this._selected)) {
      this._selected = null;
    }
    this._render();
  }

  /** Offer Cancel while the run is live (null: no Cancel button). */
  setCancel(onCancel: (() => void) | null): void {
    // the header changes only when Cancel comes or goes, or a "Cancelling…" button turns back
    const redraw = this._cancelling || (onCancel === null) !== (this._onCancel === null);
    this._onCancel = onCancel;
    this._cancelling = false;
    if (redraw) {
      this._renderHeader();
    }
  }

  /** Select a step (its details appear under the graph); null hides the details. */
  select(id: string | null): void {
    this._selected = this._selected === id ? null : id;
    this._canvas.highlight(this._selected);
    this._renderDetails();
    this._sections.querySelectorAll('tr.cdm-selected').forEach(r => r.classList.remove('cdm-selected'));
    if (this._selected !== null) {
      this._sections.querySelector(`tr[data-id="${CSS.escape(this._selected)}"]`)?.classList.add('cdm-selected');
    }
  }

  dispose(): void {
    this._canvas.dispose();
    this.node.remove();
  }

  // -- rendering -----------------------------------------------------------------------
  private _render(): void {
    const m = this._model;
    this.node.dataset.kind = m.kind;
    this.node.dataset.status = m.status ?? '';
    this._renderHeader();
    this._renderLegend();
    this._renderDetails();
    this._sections.textContent = '';
    if (m.warnings.length > 0 || m.truncated) {
      this._sections.appendChild(this._notes());
    }
    if (m.kind === 'run' && m.nodes.length > 0) {
      this._sections.append(this._table(), this._timeline(), ...this._failures());
    }
    if (this._selected !== null) {
      this._sections.querySelector(`tr[data-id="${CSS.escape(this._selected)}"]`)?.classList.add('cdm-selected');
    }
  }

  private _renderHeader(): void {
    const m = this._model;
    const h = this._header;
    h.textContent = '';
    h.appendChild(el('span', 'cdm-run-title', m.workflow || 'workflow'));
    if (m.status !== null) {
      const status = el('span', 'cdm-run-status', m.status);
      status.dataset.status = m.status;
      h.appendChild(status);
    }
    const cancel = this._cancelButton();
    if (cancel !== null) {
      h.appendChild(cancel);
    }
    const meta: string[] = [];
    if (m.kind === 'run' && m.runId !== null) {
      meta.push(`run ${shortId(m.runId)}`);
    }
    meta.push(`${m.totalNodes} step${m.totalNodes === 1 ? '' : 's'}`);
    if (m.kind === 'run') {
      const { done, total } = progress(m);
      if (done < total && m.status !== null && ['pending', 'running'].includes(m.status)) {
        meta.push(`${done}/${total} done`);
      }
      if (m.duration !== null) {
        meta.push(formatDuration(m.duration));
      }
      if (m.started !== null) {
        meta.push(`started ${formatTimestamp(m.started).replace(/\.\d+/, '')}`);
      }
    }
    h.appendChild(el('span', 'cdm-run-meta', meta.join(' · ')));
    if (m.dashboard !== null) {
      const a = el('a', 'cdm-run-dashboard', 'Dask dashboard') as HTMLAnchorElement;
      a.href = m.dashboard;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.title = `the Dask dashboard of the cluster this run used: ${m.dashboard}`;
      h.appendChild(a);
    }
    const params = Object.entries(m.parameters);
    if (params.length > 0) {
      const p = el('span', 'cdm-run-params', params.map(([k, v]) => `${k}=${paramText(v)}`).join(', '));
      p.title = 'run parameters';
      h.appendChild(p);
    }
  }

  /** Cancel, while a live run can be cancelled (gone once it has ended). */
  private _cancelButton(): HTMLButtonElement | null {
    const status = this._model.status;
    if (this._onCancel === null || (status !== 'pending' && status !== 'running')) {
      return null;
    }
    const b = el('button', 'cdm-button cdm-cancel', this._cancelling ? 'Cancelling…' : 'Cancel');
    b.type = 'button';
    b.disabled = this._cancelling;
    b.title = 'Cancel the run';
    b.addEventListener('click', () => {
      this._cancelling = true;
      b.disabled = true;
      b.textContent = 'Cancelling…';
      this._onCancel?.();
    });
    return b;
  }

  private _toolbar(): HTMLElement {
    const bar = el('span', 'cdm-toolbar');
    const buttons: [string, string, () => void][] = [
      ['−', 'Zoom out', () => this._canvas.zoom(1 / ZOOM_STEP)],
      ['+', 'Zoom in', () => this._canvas.zoom(ZOOM_STEP)],
      ['Fit', 'Show the whole graph', () => this._canvas.fit(true)]
    ];
    for (const [label, tip, action] of buttons) {
      const b = el('button', 'cdm-button', label);
      b.type = 'button';
      b.title = tip;
      b.setAttribute('aria-label', tip);
      b.dataset.action = tip.toLowerCase().replace(/\s+/g, '-');
      b.addEventListener('click', action);
      bar.appendChild(b);
    }
    return bar;
  }

  /** The states present, and the zoom buttons at the right end of the same row. */
  private _renderLegend(): void {
    const legend = this._legend;
    legend.textContent = '';
    for (const entry of legendEntries(this._model)) {
      const item = el('span', 'cdm-legend-item');
      item.dataset.state = entry.state;
      item.append(swatch(entry.color), document.createTextNode(`${entry.state} ${entry.count}`));
      legend.appendChild(item);
    }
    legend.append(el('span', 'cdm-spacer'), this._toolbar());
  }

  private _notes(): HTMLElement {
    const m = this._model;
    const lines = [...m.warnings];
    if (m.truncated || m.totalNodes > m.nodes.length) {
      lines.unshift(`Large workflow: ${m.nodes.length} of ${m.totalNodes} steps drawn; counts cover all.`);
    }
    return el('div', 'cdm-dag-notes', lines.join(' · '));
  }

  private _renderDetails(): void {
    const panel = this._details;
    const node = this._selected === null ? undefined : this._model.nodes.find(n => n.id === this._selected);
    panel.textContent = '';
    if (node === undefined) {
      panel.hidden = true;
      delete panel.dataset.id;
      return;
    }
    panel.hidden = false;
    panel.dataset.id = node.id;
    const title = el('div', 'cdm-details-title');
    title.append(swatch(stateColor(this._model.states, node.state)), document.createTextNode(node.label));
    const close = el('button', 'cdm-button cdm-details-close', '×');
    close.type = 'button';
    close.title = 'Close';
    close.setAttribute('aria-label', 'Close the details');
    close.addEventListener('click', () => this.select(null));
    title.appendChild(close);
    panel.appendChild(title);
    const list = el('div', 'cdm-details-list');
    for (const row of detailRows(node)) {
      if (row.key === 'result') {
        continue;
      }
      const line = el('div', 'cdm-detail-row');
      line.dataset.key = row.key;
      const value = el('span', `cdm-detail-value cdm-detail-${row.key}`, row.value);
      if (row.key === 'status') {
        value.dataset.state = node.state;
      }
      line.append(el('span', 'cdm-detail-label', row.label), value);
      list.appendChild(line);
    }
    panel.appendChild(list);
    if (node.result !== null) {
      panel.appendChild(resultPreview(node.result));
    }
  }

  private _section(title: string, key: string, body: HTMLElement, note = ''): HTMLElement {
    const details = el('details', 'cdm-section');
    details.dataset.section = key;
    details.open = this._closed.has(key) === false;
    const summary = el('summary', 'cdm-section-title', title);
    if (note) {
      summary.appendChild(el('span', 'cdm-section-note', note));
    }
    details.addEventListener('toggle', () => {
      if (details.open) {
        this._closed.delete(key);
      } else {
        this._closed.add(key);
      }
    });
    details.append(summary, body);
    return details;
  }

  private _table(): HTMLElement {
    const m = this._model;
    const { nodes, hidden } = tableRows(m);
    const cache = usesCache(m);
    const columns = ['step', 'state', 'attempts', 'duration', 'started', 'result', ...(cache ? ['cache'] : []), 'error'];
    const table = el('table', 'cdm-steps');
    const head = table.createTHead().insertRow();
    for (const name of columns) {
      head.appendChild(el('th', `cdm-col-${name}`, name));
    }
    const body = table.createTBody();
    for (const n of nodes) {
      const tr = body.insertRow();
      tr.dataset.id = n.id;
      tr.dataset.state = n.state;
      tr.appendChild(el('td', 'cdm-col-step', n.label));
      const state = el('td', 'cdm-col-state');
      state.appendChild(stateChip(n.state, name => stateColor(m.states, name)));
      tr.appendChild(state);
      tr.appendChild(el('td', 'cdm-col-attempts', n.attempts === null ? '' : String(n.attempts)));
      tr.appendChild(el('td', 'cdm-col-duration', n.duration === null ? '' : formatDuration(n.duration)));
      tr.appendChild(el('td', 'cdm-col-started', n.offset === null ? '' : `+${formatDuration(n.offset)}`));
      const result = el('td', 'cdm-col-result', n.result?.text ?? '');
      result.title = n.result?.text ?? '';
      tr.appendChild(result);
      if (cache) {
        tr.appendChild(el('td', 'cdm-col-cache', n.cache ?? ''));
      }
      tr.appendChild(el('td', 'cdm-col-error', n.error ?? n.reason ?? ''));
      tr.addEventListener('click', () => this.select(n.id));
    }
    if (hidden > 0) {
      const tr = body.insertRow();
      const td = el('td', 'cdm-more', `… ${hidden} more steps`);
      td.colSpan = columns.length;
      tr.appendChild(td);
    }
    const wrap = el('div', 'cdm-table-wrap');
    wrap.appendChild(table);
    return this._section('Steps', 'steps', wrap);
  }

  private _timeline(): HTMLElement {
    const m = this._model;
    const t = timeline(m, undefined, Date.now());
    const box = el('div', 'cdm-timeline');
    if (t.bars.length === 0) {
      box.appendChild(el('div', 'cdm-empty', 'No step has started yet.'));
      return this._section('Timeline', 'timeline', box);
    }
    for (const bar of t.bars) {
      const row = el('div', 'cdm-tl-row');
      row.dataset.id = bar.node.id;
      row.dataset.state = bar.node.state;
      row.appendChild(el('span', 'cdm-tl-label', bar.node.label));
      const track = el('span', 'cdm-tl-track');
      // A cached step took no time: a diamond where it was taken, not a bar.
      const b = el('span', bar.cached ? 'cdm-tl-mark' : `cdm-tl-bar${bar.open ? ' cdm-tl-open' : ''}`);
      b.style.left = `${(bar.left * 100).toFixed(3)}%`;
      if (!bar.cached) {
        b.style.width = `${(bar.width * 100).toFixed(3)}%`;
      }
      b.style.background = stateColor(m.states, bar.node.state);
      b.title = bar.cached
        ? `${bar.node.label}: cached (${bar.node.cache ?? 'from the cache'})`
        : `${bar.node.label}: ${bar.node.state}, ${formatDuration(bar.node.duration)}`;
      track.appendChild(b);
      row.appendChild(track);
      const time = bar.cached || bar.node.duration === null ? bar.node.state : formatDuration(bar.node.duration);
      row.appendChild(el('span', 'cdm-tl-time', time));
      row.addEventListener('click', () => this.select(bar.node.id));
      box.appendChild(row);
    }
    const axis = el('div', 'cdm-tl-row cdm-tl-axis');
    axis.appendChild(el('span', 'cdm-tl-label'));
    const scale = el('span', 'cdm-tl-track');
    for (const tick of t.ticks) {
      const mark = el('span', 'cdm-tl-tick', formatDuration(tick));
      mark.style.left = `${((tick / t.span) * 100).toFixed(3)}%`;
      scale.appendChild(mark);
    }
    axis.append(scale, el('span', 'cdm-tl-time'));
    box.appendChild(axis);
    if (t.hidden > 0) {
      box.appendChild(el('div', 'cdm-more', `… ${t.hidden} more steps`));
    }
    return this._section('Timeline', 'timeline', box, formatDuration(t.span));
  }

  private _failures(): HTMLElement[] {
    const { nodes, hidden } = failures(this._model);
    const cards = nodes.map(n => failureCard(this._model, n, () => this.select(n.id)));
    if (hidden > 0) {
      cards.push(el('div', 'cdm-more', `… ${hidden} more failed steps`));
    }
    return cards;
  }

  private readonly _idPrefix: string;
  private readonly _header: HTMLDivElement;
  private readonly _legend: HTMLDivElement;
  private readonly _details: HTMLDivElement;
  private readonly _sections: HTMLDivElement;
  private readonly _canvas: DagCanvas;
  private readonly _closed = new Set<string>();
  private _model: IDagModel;
  private _onCancel: (() => void) | null;
  private _cancelling = false;
  private _selected: string | null = null;
}

/** A failed step's card: its error, where it happened (cell and line) and its traceback. */
export function failureCard(model: IDagModel, n: IDagNode, onSelect: () => void): HTMLElement {
  const card = el('div', 'cdm-failure');
  card.dataset.id = n.id;
  card.style.borderLeftColor = stateColor(model.states, 'failed');
  const title = el('div', 'cdm-failure-title');
  const name = el('button', 'cdm-failure-step', n.label);
  name.type = 'button';
  name.title = 'Show this step in the graph';
  name.addEventListener('click', onSelect);
  const attempts = n.attempts !== null && n.attempts > 1 ? ` after ${n.attempts} attempts` : '';
  const took = n.duration !== null ? ` · ${formatDuration(n.duration)}` : '';
  title.append(name, document.createTextNode(` failed${attempts}${took}`));
  card.appendChild(title);
  card.appendChild(el('div', 'cdm-failure-error', n.error ?? 'failed'));
  if (n.location !== null) {
    const where = el('div', 'cdm-failure-where', `${n.location.label}`);
    if (n.location.code) {
      where.append(document.createTextNode(': '), el('code', '', n.location.code));
    }
    card.appendChild(where);
  }
  if (n.traceback !== null) {
    const tb = el('details', 'cdm-failure-traceback');
    tb.open = true;
    tb.append(el('summary', '', 'Traceback'), el('pre', '', n.traceback.replace(/\n$/, '')));
    card.appendChild(tb);
  }
  return card;
}

/** A result preview: a table head, an image thumbnail, the shape and dtype, or a short repr. */
export function resultPreview(result: IResultSummary): HTMLElement {
  const box = el('div', 'cdm-result');
  const head = el('div', 'cdm-result-head');
  head.append(el('span', 'cdm-result-type', result.type), el('span', 'cdm-result-text', result.text));
  box.appendChild(head);
  if (result.image !== null) {
    const img = el('img', 'cdm-result-image');
    img.src = `data:image/png;base64,${result.image}`;
    img.alt = result.text;
    box.appendChild(img);
  }
  if (result.columns !== null && result.rows !== null) {
    const table = el('table', 'cdm-result-table');
    const hr = table.createTHead().insertRow();
    for (const c of result.columns) {
      hr.appendChild(el('th', '', c));
    }
    const body = table.createTBody();
    for (const row of result.rows) {
      const tr = body.insertRow();
      row.forEach((cell, i) => tr.appendChild(el(i === 0 ? 'th' : 'td', '', cell)));
    }
    box.appendChild(table);
  }
  return box;
}

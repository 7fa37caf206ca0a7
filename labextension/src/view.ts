/**
 * The interactive DAG view: header with zoom buttons, the SVG canvas (pan by
 * drag, zoom by wheel once the canvas has focus or with Ctrl/Cmd held), a
 * details panel for the hovered or clicked step, and a legend.
 *
 * The SVG is inserted once; interactions only change the viewport transform
 * and a few classes, so graphs of thousands of nodes stay responsive.
 * Uses the DOM only (no JupyterLab imports).
 */

import { detailRows, IDagModel, IDagNode, legendEntries, stateColor, summaryLine } from './model.js';
import { buildSvg } from './svg.js';
import {
  canvasHeight,
  fitTransform,
  IViewTransform,
  MIN_INITIAL_SCALE,
  panBy,
  transformAttr,
  wheelFactor,
  ZOOM_STEP,
  zoomAt
} from './viewport.js';

const DRAG_THRESHOLD = 4;
const HINT = 'Hover or click a step to see its details.';

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** Renders one DAG model into a host element; call `dispose()` before reuse. */
export class DagView {
  constructor(host: HTMLElement, model: IDagModel, idPrefix: string) {
    this._host = host;
    this._model = model;
    const drawing = buildSvg(model, idPrefix);
    this._size = { width: drawing.width, height: drawing.height };

    host.appendChild(this._header());
    const body = el('div', 'cdm-dag-body');
    this._canvas = el('div', 'cdm-canvas');
    this._canvas.tabIndex = 0;
    this._canvas.title = 'Drag to pan. Click the graph, then use the wheel (or Ctrl+wheel) to zoom.';
    const height = `${canvasHeight(drawing.height)}px`;
    this._canvas.style.height = height;
    this._canvas.innerHTML = drawing.markup;
    this._viewport = this._canvas.querySelector('g.cdm-viewport') as SVGGElement;
    this._details = el('div', 'cdm-details');
    this._details.setAttribute('aria-live', 'polite');
    this._details.style.height = height;
    body.append(this._canvas, this._details);
    host.append(body, this._legend());
    if (model.warnings.length > 0 || model.truncated) {
      host.appendChild(this._notes());
    }
    this._showDetails(null);
    this._listen();
    this.fit(MIN_INITIAL_SCALE);
  }

  /** The current viewport transform. */
  get transform(): IViewTransform {
    return { ...this._t };
  }

  /** The selected (clicked) step, if any. */
  get selected(): IDagNode | null {
    return this._selected;
  }

  /**
   * Fit the drawing into the canvas. Below `minScale` the drawing is shown at
   * that scale from its top-left corner.
   */
  fit(minScale?: number): void {
    const w = this._canvas.clientWidth || this._host.clientWidth || 800;
    const h = this._canvas.clientHeight || canvasHeight(this._size.height);
    this._apply(fitTransform(this._size.width, this._size.height, w, h, 1, minScale), true);
    this._userMoved = false;
  }

  /** Refit after a resize unless the user has panned or zoomed. */
  refit(): void {
    if (!this._userMoved) {
      this.fit(MIN_INITIAL_SCALE);
    }
  }

  /** Zoom by a factor around the canvas centre. */
  zoom(factor: number): void {
    const w = this._canvas.clientWidth / 2;
    const h = this._canvas.clientHeight / 2;
    this._apply(zoomAt(this._t, factor, w, h));
    this._userMoved = true;
  }

  /** Select a step by id (as a click does); null clears the selection. */
  select(id: string | null): void {
    const node = id === null ? null : this._model.nodes.find(n => n.id === id) ?? null;
    this._setSelected(node);
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._frame !== 0) {
      cancelAnimationFrame(this._frame);
    }
    for (const off of this._listeners) {
      off();
    }
    this._listeners = [];
    this._host.textContent = '';
  }

  private _header(): HTMLElement {
    const header = el('div', 'cdm-dag-header');
    const title = el('span', 'cdm-dag-title', summaryLine(this._model));
    title.title = summaryLine(this._model);
    const toolbar = el('div', 'cdm-toolbar');
    const buttons: [string, string, () => void][] = [
      ['+', 'Zoom in', () => this.zoom(ZOOM_STEP)],
      ['−', 'Zoom out', () => this.zoom(1 / ZOOM_STEP)],
      ['Fit', 'Fit the whole graph', () => this.fit()],
      ['1:1', 'Actual size', () => this._actualSize()]
    ];
    for (const [label, tip, action] of buttons) {
      const b = el('button', 'cdm-button', label);
      b.type = 'button';
      b.title = tip;
      b.setAttribute('aria-label', tip);
      b.dataset.action = tip.toLowerCase().replace(/\s+/g, '-');
      this._on(b, 'click', () => action());
      toolbar.appendChild(b);
    }
    header.append(title, toolbar);
    return header;
  }

  private _legend(): HTMLElement {
    const legend = el('div', 'cdm-legend');
    for (const entry of legendEntries(this._model)) {
      const item = el('span', 'cdm-legend-item');
      item.dataset.state = entry.state;
      const swatch = el('span', 'cdm-swatch');
      swatch.style.background = entry.color;
      item.append(swatch, document.createTextNode(`${entry.state} ${entry.count}`));
      legend.appendChild(item);
    }
    return legend;
  }

  private _notes(): HTMLElement {
    const notes = el('div', 'cdm-dag-notes');
    const m = this._model;
    const lines = [...m.warnings];
    if (m.truncated || m.totalNodes > m.nodes.length) {
      lines.unshift(`Large workflow: ${m.nodes.length} of ${m.totalNodes} steps drawn; counts cover all.`);
    }
    notes.textContent = lines.join(' · ');
    return notes;
  }

  private _listen(): void {
    const c = this._canvas;
    this._on(c, 'pointerdown', e => this._onPointerDown(e as PointerEvent));
    this._on(c, 'pointermove', e => this._onPointerMove(e as PointerEvent));
    this._on(c, 'pointerup', e => this._onPointerUp(e as PointerEvent));
    this._on(c, 'pointercancel', e => this._onPointerUp(e as PointerEvent));
    this._on(c, 'click', e => this._onClick(e as MouseEvent));
    this._on(c, 'mouseover', e => this._onHover(e as MouseEvent));
    this._on(c, 'mouseleave', () => this._showDetails(this._selected));
    this._on(c, 'wheel', e => this._onWheel(e as WheelEvent), { passive: false });
    this._on(c, 'keydown', e => this._onKey(e as KeyboardEvent));
    if (typeof ResizeObserver !== 'undefined') {
      const ro = new ResizeObserver(() => this.refit());
      ro.observe(c);
      this._listeners.push(() => ro.disconnect());
    }
  }

  private _on(
    target: EventTarget,
    type: string,
    fn: (e: Event) => void,
    options?: AddEventListenerOptions
  ): void {
    target.addEventListener(type, fn, options);
    this._listeners.push(() => target.removeEventListener(type, fn, options));
  }

  private _nodeAt(target: EventTarget | null): IDagNode | null {
    const g = target instanceof Element ? target.closest('g.cdm-node') : null;
    const index = g ? Number(g.getAttribute('data-index')) : NaN;
    return Number.isInteger(index) ? this._model.nodes[index] ?? null : null;
  }

  private _onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) {
      return;
    }
    this._canvas.focus({ preventScroll: true });
    this._drag = { id: e.pointerId, x: e.clientX, y: e.clientY, moved: false, t: this._t };
  }

  private _onPointerMove(e: PointerEvent): void {
    const d = this._drag;
    if (d === null || d.id !== e.pointerId) {
      return;
    }
    const dx = e.clientX - d.x;
    const dy = e.clientY - d.y;
    if (!d.moved && Math.hypot(dx, dy) < DRAG_THRESHOLD) {
      return;
    }
    if (!d.moved) {
      d.moved = true;
      this._canvas.setPointerCapture(e.pointerId);
      this._canvas.classList.add('cdm-panning');
    }
    this._userMoved = true;
    this._apply(panBy(d.t, dx, dy));
  }

  private _onPointerUp(e: PointerEvent): void {
    const d = this._drag;
    if (d === null || d.id !== e.pointerId) {
      return;
    }
    this._drag = null;
    this._suppressClick = d.moved;
    if (d.moved && this._canvas.hasPointerCapture(e.pointerId)) {
      this._canvas.releasePointerCapture(e.pointerId);
    }
    this._canvas.classList.remove('cdm-panning');
  }

  private _onClick(e: MouseEvent): void {
    if (this._suppressClick) {
      this._suppressClick = false;
      return;
    }
    const node = this._nodeAt(e.target);
    this._setSelected(node !== null && node === this._selected ? null : node);
  }

  private _onHover(e: MouseEvent): void {
    if (this._drag?.moved) {
      return;
    }
    const node = this._nodeAt(e.target);
    this._showDetails(node ?? this._selected);
  }

  private _onWheel(e: WheelEvent): void {
    const focused = this._canvas.contains(document.activeElement);
    if (!focused && !e.ctrlKey && !e.metaKey) {
      return;
    }
    e.preventDefault();
    const rect = this._canvas.getBoundingClientRect();
    this._userMoved = true;
    this._apply(zoomAt(this._t, wheelFactor(e.deltaY, e.deltaMode), e.clientX - rect.left, e.clientY - rect.top));
  }

  private _onKey(e: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      '+': () => this.zoom(ZOOM_STEP),
      '=': () => this.zoom(ZOOM_STEP),
      '-': () => this.zoom(1 / ZOOM_STEP),
      '0': () => this.fit(),
      Escape: () => this._setSelected(null)
    };
    const action = actions[e.key];
    if (action !== undefined && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      e.stopPropagation();
      action();
    }
  }

  private _actualSize(): void {
    this._apply({ x: 0, y: 0, k: 1 }, true);
    this._userMoved = true;
  }

  /** Set the transform: at once, or on the next frame (coalescing pointer events). */
  private _apply(t: IViewTransform, immediate = false): void {
    this._t = t;
    if (immediate) {
      this._viewport.setAttribute('transform', transformAttr(t));
    } else if (this._frame === 0) {
      this._frame = requestAnimationFrame(() => {
        this._frame = 0;
        this._viewport.setAttribute('transform', transformAttr(this._t));
      });
    }
  }

  private _setSelected(node: IDagNode | null): void {
    const root = this._viewport;
    root.querySelectorAll('.cdm-selected').forEach(n => n.classList.remove('cdm-selected'));
    this._selected = node;
    if (node !== null) {
      root.querySelector(`g.cdm-node[data-index="${node.index}"]`)?.classList.add('cdm-selected');
      root.querySelectorAll('path.cdm-edge').forEach(p => {
        const id = node.id;
        if (p.getAttribute('data-source') === id || p.getAttribute('data-target') === id) {
          p.classList.add('cdm-selected');
        }
      });
    }
    this._showDetails(node);
  }

  private _showDetails(node: IDagNode | null): void {
    const panel = this._details;
    panel.textContent = '';
    panel.classList.toggle('cdm-details-empty', node === null);
    if (node === null) {
      delete panel.dataset.id;
      panel.appendChild(el('div', 'cdm-details-hint', HINT));
      return;
    }
    panel.dataset.id = node.id;
    const title = el('div', 'cdm-details-title', node.label);
    const swatch = el('span', 'cdm-swatch');
    swatch.style.background = stateColor(this._model.states, node.state);
    title.prepend(swatch);
    panel.appendChild(title);
    if (node.label !== node.id) {
      panel.appendChild(el('div', 'cdm-details-id', node.id));
    }
    const list = el('div', 'cdm-details-list');
    for (const row of detailRows(node)) {
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
  }

  private readonly _host: HTMLElement;
  private readonly _model: IDagModel;
  private readonly _canvas: HTMLDivElement;
  private readonly _viewport: SVGGElement;
  private readonly _details: HTMLDivElement;
  private readonly _size: { width: number; height: number };
  private _t: IViewTransform = { x: 0, y: 0, k: 1 };
  private _frame = 0;
  private _drag: { id: number; x: number; y: number; moved: boolean; t: IViewTransform } | null = null;
  private _suppressClick = false;
  private _userMoved = false;
  private _selected: IDagNode | null = null;
  private _listeners: (() => void)[] = [];
  private _disposed = false;
}

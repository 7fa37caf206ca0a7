/**
 * The graph canvas of a run view: the SVG drawing, pan (drag), zoom (wheel
 * once the canvas has focus, or with Ctrl/Cmd; buttons; + - 0 keys) and node
 * selection by click.
 *
 * The drawing is shown at natural size from the left, shrunk to the width
 * it gets (never below half size: past that it pans), and the canvas is as
 * tall as the drawing at that scale (at most MAX_HEIGHT): the height fits the
 * graph. A new document of the same graph only redraws the nodes whose state
 * changed, so a live run keeps the user's zoom and selection.
 *
 * Uses the DOM only (no JupyterLab imports).
 */

import { IDagModel, IDagNode } from './model.js';
import { buildSvg, dotAttributes, geometryFor, GEOMETRY_COMPACT, nodeInner } from './svg.js';
import { IViewTransform, panBy, transformAttr, wheelFactor, ZOOM_STEP, zoomAt } from './viewport.js';

const DRAG_THRESHOLD = 4;
/** Smallest scale the first view shrinks a wide graph to; the Fit button goes further. */
export const MIN_FIT_SCALE = 0.5;
export const MAX_HEIGHT = 480;
export const MIN_HEIGHT = 56;

/** Scale and canvas height for a drawing shown in a canvas `viewWidth` pixels wide. */
export function fitWidth(width: number, height: number, viewWidth: number): { k: number; height: number } {
  const k = viewWidth > 0 && width > viewWidth ? Math.max(MIN_FIT_SCALE, viewWidth / width) : 1;
  return { k, height: Math.round(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, height * k))) };
}

/** Same nodes (ids, in order) and same edges: the drawing can be updated in place. */
export function sameGraph(a: IDagModel, b: IDagModel): boolean {
  if (a.nodes.length !== b.nodes.length || a.edges.length !== b.edges.length) {
    return false;
  }
  for (let i = 0; i < a.nodes.length; i++) {
    if (a.nodes[i].id !== b.nodes[i].id || a.nodes[i].x !== b.nodes[i].x || a.nodes[i].y !== b.nodes[i].y) {
      return false;
    }
  }
  return a.edges.every((e, i) => e.source === b.edges[i].source && e.target === b.edges[i].target);
}

function nodeKey(n: IDagNode): string {
  return `${n.state}|${n.duration}|${n.attempts}|${n.label}|${n.cache}`;
}

/** The canvas; `onSelect` hears node clicks (null: click on the background). */
export class DagCanvas {
  constructor(
    host: HTMLElement,
    model: IDagModel,
    private readonly _idPrefix: string,
    private readonly _onSelect: (node: IDagNode | null) => void
  ) {
    this.node = document.createElement('div');
    this.node.className = 'cdm-canvas';
    this.node.tabIndex = 0;
    this.node.title = 'Click a step for its details. Drag to pan; click the graph, then use the wheel to zoom.';
    host.appendChild(this.node);
    this._model = model;
    this._draw();
    this._listen();
  }

  readonly node: HTMLDivElement;

  /** The current viewport transform. */
  get transform(): IViewTransform {
    return { ...this._t };
  }

  /** Drawing size in pixels at scale 1. */
  get size(): { width: number; height: number } {
    return { ...this._size };
  }

  /** Show a new document: nodes redrawn in place when the graph is the same. */
  update(model: IDagModel): void {
    const old = this._model;
    this._model = model;
    if (!sameGraph(old, model)) {
      this._draw();
      return;
    }
    const geo = geometryFor(model);
    const compact = geo === GEOMETRY_COMPACT;
    for (const n of model.nodes) {
      if (nodeKey(n) !== nodeKey(old.nodes[n.index])) {
        const g = this._group(n.index);
        if (g === null) {
          continue;
        }
        g.setAttribute('data-state', n.state);
        if (compact) {
          g.removeAttribute('stroke');
          g.removeAttribute('stroke-width');
          for (const [, name, value] of dotAttributes(n, model).matchAll(/([\w-]+)="([^"]*)"/g)) {
            g.setAttribute(name, value);
          }
          g.firstElementChild?.replaceChildren(`${n.label}: ${n.state}`);
        } else {
          g.innerHTML = nodeInner(n, model, geo);
        }
      }
    }
  }

  /**
   * Size the canvas to the drawing and show it from the left, shrunk to the
   * width (not below MIN_FIT_SCALE); `whole` shrinks further until all of it shows.
   */
  fit(whole = false): void {
    const { width, height } = this._size;
    const w = this.node.clientWidth || this.node.parentElement?.clientWidth || 800;
    const fitted = fitWidth(width, height, w);
    const k = whole ? Math.min(1, w / width, fitted.height / height) : fitted.k;
    this.node.style.height = `${fitted.height}px`;
    this._apply({ x: 0, y: Math.max(0, (fitted.height - height * k) / 2), k }, true);
    this._userMoved = false;
  }

  /** Refit after a resize unless the user has panned or zoomed. */
  refit(): void {
    if (!this._userMoved) {
      this.fit();
    }
  }

  /** Zoom by a factor around the canvas centre. */
  zoom(factor: number): void {
    this._apply(zoomAt(this._t, factor, this.node.clientWidth / 2, this.node.clientHeight / 2));
    this._userMoved = true;
  }

  /** Mark a node (and its edges) selected; null clears. */
  highlight(id: string | null): void {
    const root = this.node;
    root.querySelectorAll('.cdm-selected').forEach(n => n.classList.remove('cdm-selected'));
    const node = id === null ? undefined : this._model.nodes.find(n => n.id === id);
    if (node === undefined) {
      return;
    }
    this._group(node.index)?.classList.add('cdm-selected');
    root.querySelectorAll('path.cdm-edge').forEach(p => {
      if (p.getAttribute('data-source') === node.id || p.getAttribute('data-target') === node.id) {
        p.classList.add('cdm-selected');
      }
    });
  }

  dispose(): void {
    if (this._frame !== 0) {
      cancelAnimationFrame(this._frame);
    }
    for (const off of this._listeners) {
      off();
    }
    this._listeners = [];
    this.node.remove();
  }

  private _draw(): void {
    const drawing = buildSvg(this._model, this._idPrefix);
    this._size = { width: drawing.width, height: drawing.height };
    this.node.innerHTML = drawing.markup;
    this._viewport = this.node.querySelector('g.cdm-viewport') as SVGGElement;
    this._groups = new Map();
    this.node.querySelectorAll('.cdm-node').forEach(g => {
      this._groups.set(Number(g.getAttribute('data-index')), g as SVGGElement);
    });
    this.fit();
  }

  private _group(index: number): SVGGElement | null {
    return this._groups.get(index) ?? null;
  }

  private _listen(): void {
    const c = this.node;
    this._on(c, 'pointerdown', e => this._onPointerDown(e as PointerEvent));
    this._on(c, 'pointermove', e => this._onPointerMove(e as PointerEvent));
    this._on(c, 'pointerup', e => this._onPointerUp(e as PointerEvent));
    this._on(c, 'pointercancel', e => this._onPointerUp(e as PointerEvent));
    this._on(c, 'click', e => this._onClick(e as MouseEvent));
    this._on(c, 'wheel', e => this._onWheel(e as WheelEvent), { passive: false });
    this._on(c, 'keydown', e => this._onKey(e as KeyboardEvent));
    if (typeof ResizeObserver !== 'undefined') {
      let width = 0;
      const ro = new ResizeObserver(() => {
        if (c.clientWidth !== width) {
          width = c.clientWidth;
          this.refit();
        }
      });
      ro.observe(c);
      this._listeners.push(() => ro.disconnect());
    }
  }

  private _on(target: EventTarget, type: string, fn: (e: Event) => void, options?: AddEventListenerOptions): void {
    target.addEventListener(type, fn, options);
    this._listeners.push(() => target.removeEventListener(type, fn, options));
  }

  private _nodeAt(target: EventTarget | null): IDagNode | null {
    const g = target instanceof Element ? target.closest('.cdm-node') : null;
    const index = g ? Number(g.getAttribute('data-index')) : NaN;
    return Number.isInteger(index) ? this._model.nodes[index] ?? null : null;
  }

  private _onPointerDown(e: PointerEvent): void {
    if (e.button !== 0) {
      return;
    }
    this.node.focus({ preventScroll: true });
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
      this.node.setPointerCapture(e.pointerId);
      this.node.classList.add('cdm-panning');
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
    if (d.moved && this.node.hasPointerCapture(e.pointerId)) {
      this.node.releasePointerCapture(e.pointerId);
    }
    this.node.classList.remove('cdm-panning');
  }

  private _onClick(e: MouseEvent): void {
    if (this._suppressClick) {
      this._suppressClick = false;
      return;
    }
    this._onSelect(this._nodeAt(e.target));
  }

  private _onWheel(e: WheelEvent): void {
    const focused = this.node.contains(document.activeElement);
    if (!focused && !e.ctrlKey && !e.metaKey) {
      return;
    }
    e.preventDefault();
    const rect = this.node.getBoundingClientRect();
    this._userMoved = true;
    this._apply(zoomAt(this._t, wheelFactor(e.deltaY, e.deltaMode), e.clientX - rect.left, e.clientY - rect.top));
  }

  private _onKey(e: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      '+': () => this.zoom(ZOOM_STEP),
      '=': () => this.zoom(ZOOM_STEP),
      '-': () => this.zoom(1 / ZOOM_STEP),
      '0': () => this.fit(true),
      Escape: () => this._onSelect(null)
    };
    const action = actions[e.key];
    if (action !== undefined && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      e.stopPropagation();
      action();
    }
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

  private _model: IDagModel;
  private _viewport!: SVGGElement;
  private _groups = new Map<number, SVGGElement>();
  private _size = { width: 0, height: 0 };
  private _t: IViewTransform = { x: 0, y: 0, k: 1 };
  private _frame = 0;
  private _drag: { id: number; x: number; y: number; moved: boolean; t: IViewTransform } | null = null;
  private _suppressClick = false;
  private _userMoved = false;
  private _listeners: (() => void)[] = [];
}

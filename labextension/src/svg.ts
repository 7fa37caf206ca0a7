/**
 * SVG markup for a DAG model, built as one string in a single pass over the
 * nodes and edges (no per-frame layout: positions come from the document).
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { formatDuration, IDagModel, IDagNode, stateColor } from './model.js';

/** Pixel geometry of the drawing. */
export interface IGeometry {
  nodeWidth: number;
  nodeHeight: number;
  /** Pixels per layout unit on x and y. */
  stepX: number;
  stepY: number;
  padding: number;
  /** Longest label drawn in a node before it is cut with an ellipsis. */
  maxLabelChars: number;
}

/**
 * Geometry for left-to-right layers (x = layer, y = row). The Python twin
 * (`display/svg.py`) draws with the same numbers, so a saved notebook looks
 * the same in JupyterLab and in nbconvert HTML.
 */
export const GEOMETRY_LR: Readonly<IGeometry> = {
  nodeWidth: 150,
  nodeHeight: 40,
  stepX: 190,
  stepY: 52,
  padding: 12,
  maxLabelChars: 20
};

/** Geometry for top-to-bottom layers (x = row, y = layer). */
export const GEOMETRY_TB: Readonly<IGeometry> = { ...GEOMETRY_LR, stepX: 170, stepY: 80 };

/** Above this many nodes steps are dots (tooltip only) and edges one straight-line path, as in the twin. */
export const COMPACT_ABOVE = 300;

/** Geometry of the compact drawing (the twin's `compact` mode). */
export const GEOMETRY_COMPACT: Readonly<IGeometry> = {
  nodeWidth: 8,
  nodeHeight: 8,
  stepX: 44,
  stepY: 12,
  padding: 12,
  maxLabelChars: 0
};

/** Whether a model is drawn in the compact mode. */
export function isCompact(model: IDagModel): boolean {
  return model.nodes.length > COMPACT_ABOVE;
}

/** The SVG markup and its size in pixels. */
export interface ISvgDrawing {
  markup: string;
  width: number;
  height: number;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
};

/** Escape text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, c => ESCAPES[c]);
}

/** Cut a label to `max` characters, ending with an ellipsis when cut. */
export function truncateLabel(label: string, max: number): string {
  const chars = Array.from(label);
  return chars.length <= max ? label : chars.slice(0, Math.max(max - 1, 1)).join('') + '…';
}

/** Dark or light text, whichever reads better on the given fill. */
export function textColorFor(fill: string): string {
  const rgb = parseHex(fill);
  if (rgb === null) {
    return '#ffffff';
  }
  const [r, g, b] = rgb.map(c => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.4 ? '#1f2328' : '#ffffff';
}

function parseHex(color: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
  if (m === null) {
    const short = /^#([0-9a-f]{3})[0-9a-f]$/i.exec(color.trim());
    return short ? parseHex('#' + short[1]) : null;
  }
  const hex = m[1].length === 3 ? m[1].replace(/./g, c => c + c) : m[1];
  return [0, 2, 4].map(i => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

/** The geometry matching a model's direction. */
export function geometryFor(model: IDagModel): IGeometry {
  if (isCompact(model)) {
    return GEOMETRY_COMPACT;
  }
  return model.direction === 'TB' ? GEOMETRY_TB : GEOMETRY_LR;
}

/** Top-left pixel position of every node, indexed like `model.nodes`. */
export function nodePositions(model: IDagModel, geo: IGeometry): Float64Array {
  const out = new Float64Array(model.nodes.length * 2);
  const { minX, minY } = model.bounds;
  for (const n of model.nodes) {
    out[n.index * 2] = round(geo.padding + (n.x - minX) * geo.stepX);
    out[n.index * 2 + 1] = round(geo.padding + (n.y - minY) * geo.stepY);
  }
  return out;
}

/** Drawing size in pixels. */
export function drawingSize(model: IDagModel, geo: IGeometry): { width: number; height: number } {
  const b = model.bounds;
  return {
    width: round(2 * geo.padding + (b.maxX - b.minX) * geo.stepX + geo.nodeWidth),
    height: round(2 * geo.padding + (b.maxY - b.minY) * geo.stepY + geo.nodeHeight)
  };
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Path data of an edge between two node boxes (top-left corners given). */
export function edgePath(
  sx: number,
  sy: number,
  tx: number,
  ty: number,
  geo: IGeometry,
  vertical: boolean
): string {
  const w = geo.nodeWidth;
  const h = geo.nodeHeight;
  if (vertical) {
    const [x1, y1, x2, y2] = [sx + w / 2, sy + h, tx + w / 2, ty - 2];
    const d = Math.max(Math.abs(y2 - y1) / 2, 24);
    return `M${round(x1)},${round(y1)}C${round(x1)},${round(y1 + d)} ${round(x2)},${round(y2 - d)} ${round(x2)},${round(y2)}`;
  }
  const [x1, y1, x2, y2] = [sx + w, sy + h / 2, tx - 2, ty + h / 2];
  const d = Math.max(Math.abs(x2 - x1) / 2, 24);
  return `M${round(x1)},${round(y1)}C${round(x1 + d)},${round(y1)} ${round(x2 - d)},${round(y2)} ${round(x2)},${round(y2)}`;
}

/**
 * The second line of a node box: its duration, else its state. A cached step
 * says "cached": it took no time, and the lookup's few microseconds say nothing.
 */
export function nodeDetail(n: IDagNode): string {
  if (n.state === 'cached') {
    return 'cached';
  }
  if (n.duration !== null) {
    return formatDuration(n.duration);
  }
  return n.state === 'pending' ? '' : n.state;
}

/** The inner markup of a node box (everything but its `<g>`): redrawn when its state changes. */
export function nodeInner(n: IDagNode, model: IDagModel, geo: IGeometry): string {
  const fill = stateColor(model.states, n.state);
  const ink = textColorFor(fill);
  const label = escapeXml(truncateLabel(n.label, geo.maxLabelChars));
  const name = n.label === n.id ? `${n.id}: ${n.state}` : `${n.label} (${n.id}): ${n.state}`;
  const title = escapeXml(n.cache === null ? name : `${name}\ncache: ${n.cache}`);
  const detail = nodeDetail(n);
  const retry =
    n.attempts !== null && n.attempts > 1
      ? `<text class="cdm-node-attempts" x="${geo.nodeWidth - 8}" y="31" fill="${ink}">×${n.attempts}</text>`
      : '';
  const marker =
    n.state === 'failed'
      ? `<g class="cdm-node-error" transform="translate(${geo.nodeWidth - 2},2)">` +
        `<circle r="7" fill="#ffffff" stroke="${escapeXml(fill)}" stroke-width="2"/>` +
        `<text y="4" fill="${escapeXml(fill)}">!</text></g>`
      : '';
  return (
    `<title>${title}</title>` +
    `<rect width="${geo.nodeWidth}" height="${geo.nodeHeight}" rx="5" ry="5" fill="${escapeXml(fill)}"/>` +
    `<text class="cdm-node-label" x="10" y="17" fill="${ink}">${label}</text>` +
    `<text class="cdm-node-detail" x="10" y="31" fill="${ink}">${escapeXml(detail)}</text>` +
    retry +
    marker
  );
}

/** A compact node: a dot in the state's colour (ringed when failed), its name in the tooltip. */
export function dotAttributes(n: IDagNode, model: IDagModel): string {
  const fill = escapeXml(stateColor(model.states, n.state));
  const ring = n.state === 'failed' ? ' stroke="#1f2328" stroke-width="1.5"' : '';
  return `fill="${fill}"${ring}`;
}

function nodeMarkup(n: IDagNode, x: number, y: number, model: IDagModel, geo: IGeometry): string {
  if (geo === GEOMETRY_COMPACT) {
    const r = geo.nodeWidth / 2;
    return (
      `<circle class="cdm-node cdm-dot" data-id="${escapeXml(n.id)}" data-state="${escapeXml(n.state)}" ` +
      `data-index="${n.index}" cx="${round(x + r)}" cy="${round(y + r)}" r="${r}" ${dotAttributes(n, model)}>` +
      `<title>${escapeXml(`${n.label}: ${n.state}`)}</title></circle>`
    );
  }
  return (
    `<g class="cdm-node" data-id="${escapeXml(n.id)}" data-state="${escapeXml(n.state)}" ` +
    `data-index="${n.index}" transform="translate(${x},${y})">${nodeInner(n, model, geo)}</g>`
  );
}

/**
 * Build the whole SVG in one pass.
 *
 * @param model - the validated document
 * @param idPrefix - unique per drawing in the page (marker ids are global)
 */
export function buildSvg(model: IDagModel, idPrefix: string): ISvgDrawing {
  const geo = geometryFor(model);
  const pos = nodePositions(model, geo);
  const { width, height } = drawingSize(model, geo);
  const vertical = model.direction === 'TB';
  const marker = `${idPrefix}-arrow`;
  const compact = geo === GEOMETRY_COMPACT;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="cdm-svg" role="img" ` +
      `aria-label="${escapeXml(`Workflow graph ${model.workflow}`)}" width="100%" height="100%">`,
    `<defs><marker id="${marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" ` +
      `markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">` +
      `<path class="cdm-arrowhead" d="M0,0L10,5L0,10z"/></marker></defs>`,
    `<g class="cdm-viewport" data-width="${width}" data-height="${height}">`,
    '<g class="cdm-edges">'
  ];
  if (compact) {
    // One path for every edge: thousands of elements (and arrow markers) would cost seconds.
    const r = geo.nodeWidth / 2;
    const d = model.edges
      .map(e => {
        const s = e.source * 2;
        const t = e.target * 2;
        return `M${round(pos[s] + r)},${round(pos[s + 1] + r)}L${round(pos[t] + r)},${round(pos[t + 1] + r)}`;
      })
      .join('');
    parts.push(`<path class="cdm-edge cdm-edges-compact" d="${d}"/>`);
  }
  for (const e of compact ? [] : model.edges) {
    const s = model.nodes[e.source];
    const t = model.nodes[e.target];
    const d = edgePath(pos[s.index * 2], pos[s.index * 2 + 1], pos[t.index * 2], pos[t.index * 2 + 1], geo, vertical);
    parts.push(
      `<path class="cdm-edge" data-source="${escapeXml(s.id)}" data-target="${escapeXml(t.id)}" ` +
        `d="${d}" marker-end="url(#${marker})"/>`
    );
  }
  parts.push('</g><g class="cdm-nodes">');
  for (const n of model.nodes) {
    parts.push(nodeMarkup(n, pos[n.index * 2], pos[n.index * 2 + 1], model, geo));
  }
  parts.push('</g></g></svg>');
  return { markup: parts.join(''), width, height };
}

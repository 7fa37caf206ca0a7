/**
 * The DAG document model: parse and validate `application/vnd.codomyrmex.dag+json`
 * (see docs/dag-mime-schema.md) into a typed `IDagModel`.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { isObject, Json, optNum } from './json.js';

/** The MIME type this extension renders. */
export const MIME_TYPE = 'application/vnd.codomyrmex.dag+json';

/** Document versions this reader understands. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];

/** Built-in state colours, used when the document's `states` lacks one. */
export const DEFAULT_STATE_COLORS: Readonly<Record<string, string>> = {
  pending: '#d0d7de',
  ready: '#9ecbff',
  running: '#0969da',
  retrying: '#bf8700',
  succeeded: '#1a7f37',
  failed: '#cf222e',
  skipped: '#8c959f',
  cancelled: '#6e7781',
  cached: '#8250df'
};

/** Fill for a state that neither the document nor the built-ins know. */
export const UNKNOWN_STATE_COLOR = '#afb8c1';

/** Layout direction: layers left to right, or top to bottom. */
export type Direction = 'LR' | 'TB';

/** A preview of a step's result (see docs/dag-mime-schema.md, "Result summaries"). */
export interface IResultSummary {
  type: string;
  text: string;
  length: number | null;
  shape: number[] | null;
  dtype: string | null;
  /** A table head: column names (the first is the index) and rows of cell texts. */
  columns: string[] | null;
  rows: string[][] | null;
  /** A PNG thumbnail, base64. */
  image: string | null;
}

/** The innermost user frame of a failed step's traceback. */
export interface ILocation {
  label: string;
  code: string | null;
}

/** One step of the graph. */
export interface IDagNode {
  /** Position in `IDagModel.nodes`. */
  index: number;
  id: string;
  label: string;
  module: string | null;
  action: string | null;
  state: string;
  layer: number;
  /** Layout position in layout units (1 unit = one layer / one row). */
  x: number;
  y: number;
  duration: number | null;
  attempts: number | null;
  started: string | null;
  ended: string | null;
  error: string | null;
  /** Seconds from the run's start to the step's start. */
  offset: number | null;
  /** Why the step was skipped or cancelled. */
  reason: string | null;
  traceback: string | null;
  location: ILocation | null;
  result: IResultSummary | null;
  /** The step cache's answer: "hit", the miss reason, or null when not cached (minor 2). */
  cache: string | null;
}

/** A live widget behind the output: its model id, and whether the run can be cancelled. */
export interface ILiveRef {
  modelId: string;
  cancellable: boolean;
}

/** A dependency: `target` depends on `source` (indexes into `nodes`). */
export interface IDagEdge {
  source: number;
  target: number;
}

/** Extent of the node positions, in layout units. */
export interface IBounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** A validated DAG document. */
export interface IDagModel {
  version: number;
  versionMinor: number;
  kind: string;
  workflow: string;
  runId: string | null;
  status: string | null;
  direction: Direction;
  nodes: IDagNode[];
  edges: IDagEdge[];
  /** Every state colour: the document's, completed by the built-ins. */
  states: Record<string, string>;
  /** Nodes per state for the whole workflow (the document's, or counted). */
  counts: Record<string, number>;
  truncated: boolean;
  totalNodes: number;
  /** The run's parameters as the document shows them (values are JSON scalars or short texts). */
  parameters: Record<string, unknown>;
  started: string | null;
  ended: string | null;
  duration: number | null;
  errors: string[];
  /** The Dask dashboard of the cluster the run ran on (an http(s) URL), or null. */
  dashboard: string | null;
  live: ILiveRef | null;
  bounds: IBounds;
  /** True when positions were missing and the fallback layout placed the nodes. */
  layoutComputed: boolean;
  /** Non-fatal problems found while reading (dropped edges, duplicate ids). */
  warnings: string[];
}

/** Outcome of `parseDag`: a model, or a message to show instead. */
export type ParseResult =
  | { ok: true; model: IDagModel }
  | { ok: false; message: string };

function str(value: unknown, fallback: string): string {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' ? String(value) : fallback;
}

function optStr(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * Parse and validate a DAG document.
 *
 * Unknown keys are ignored; an unknown `version` or a malformed document
 * yields `{ok: false, message}` with a one-line explanation.
 */
export function parseDag(data: unknown): ParseResult {
  if (!isObject(data)) {
    return { ok: false, message: 'codomyrmex DAG: the document is not a JSON object.' };
  }
  const version = data.version;
  if (typeof version !== 'number' || !SUPPORTED_VERSIONS.includes(version)) {
    return {
      ok: false,
      message:
        `codomyrmex DAG: document version ${JSON.stringify(version ?? null)} is not supported ` +
        `by this JupyterLab extension (it reads version ${SUPPORTED_VERSIONS.join(', ')}). ` +
        'Upgrade codomyrmex_jupyter to display it.'
    };
  }
  if (!Array.isArray(data.nodes)) {
    return { ok: false, message: 'codomyrmex DAG: the document has no "nodes" list.' };
  }
  return { ok: true, model: buildModel(data, version) };
}

function buildModel(data: Json, version: number): IDagModel {
  const warnings: string[] = [];
  const nodes = readNodes(data.nodes as unknown[], warnings);
  const edges = readEdges(data.edges, nodes, warnings);
  const direction: Direction = data.direction === 'TB' ? 'TB' : 'LR';
  const layoutComputed = nodes.some(n => Number.isNaN(n.x) || Number.isNaN(n.y));
  if (layoutComputed) {
    applyFallbackLayout(nodes, edges, direction);
  }
  return {
    version,
    versionMinor: optNum(data.version_minor) ?? 0,
    kind: str(data.kind, 'workflow'),
    workflow: str(data.workflow, ''),
    runId: optStr(data.run_id),
    status: optStr(data.status),
    direction,
    nodes,
    edges,
    states: mergeStates(data.states),
    counts: readCounts(data.counts, nodes),
    truncated: data.truncated === true,
    totalNodes: Math.max(optNum(data.total_nodes) ?? nodes.length, nodes.length),
    parameters: isObject(data.parameters) ? { ...data.parameters } : {},
    started: optStr(data.started),
    ended: optStr(data.ended),
    duration: optNum(data.duration),
    errors: Array.isArray(data.errors) ? data.errors.filter(e => typeof e === 'string') : [],
    dashboard: readLink(data.dashboard),
    live: readLive(data.live),
    bounds: computeBounds(nodes),
    layoutComputed,
    warnings
  };
}

function readNodes(raw: unknown[], warnings: string[]): IDagNode[] {
  const seen = new Set<string>();
  const nodes: IDagNode[] = [];
  for (const item of raw) {
    if (!isObject(item)) {
      continue;
    }
    const id = str(item.id, '');
    if (id === '' || seen.has(id)) {
      warnings.push(id === '' ? 'a node without an id was skipped' : `duplicate node id "${id}"`);
      continue;
    }
    seen.add(id);
    nodes.push(readNode(item, id, nodes.length));
  }
  return nodes;
}

function readNode(item: Json, id: string, index: number): IDagNode {
  return {
    index,
    id,
    label: str(item.label, id) || id,
    module: optStr(item.module),
    action: optStr(item.action),
    state: str(item.state, 'pending') || 'pending',
    layer: optNum(item.layer) ?? -1,
    x: optNum(item.x) ?? NaN,
    y: optNum(item.y) ?? NaN,
    duration: optNum(item.duration),
    attempts: optNum(item.attempts),
    started: optStr(item.started),
    ended: optStr(item.ended),
    error: optStr(item.error),
    offset: optNum(item.offset),
    reason: optStr(item.reason),
    traceback: optStr(item.traceback),
    location: readLocation(item.location),
    result: readResult(item.result),
    cache: optStr(item.cache)
  };
}

/** The live widget a document names (`live.model_id`), or null. */
export function readLive(raw: unknown): ILiveRef | null {
  if (!isObject(raw) || typeof raw.model_id !== 'string' || raw.model_id === '') {
    return null;
  }
  return { modelId: raw.model_id, cancellable: raw.cancellable === true };
}

function readLocation(raw: unknown): ILocation | null {
  if (!isObject(raw) || typeof raw.label !== 'string') {
    return null;
  }
  return { label: raw.label, code: optStr(raw.code) };
}

function strList(raw: unknown): string[] | null {
  return Array.isArray(raw) ? raw.map(v => str(v, '')) : null;
}

/** A result summary, or null when the document has none (or a malformed one). */
export function readResult(raw: unknown): IResultSummary | null {
  if (!isObject(raw) || typeof raw.text !== 'string') {
    return null;
  }
  const rows = Array.isArray(raw.rows) ? raw.rows.map(r => strList(r) ?? []) : null;
  const image = typeof raw.image === 'string' && /^[A-Za-z0-9+/=]+$/.test(raw.image) ? raw.image : null;
  return {
    type: str(raw.type, ''),
    text: raw.text,
    length: optNum(raw.length),
    shape: Array.isArray(raw.shape) ? raw.shape.filter((n): n is number => typeof n === 'number') : null,
    dtype: optStr(raw.dtype),
    columns: strList(raw.columns),
    rows,
    image
  };
}

function readEdges(raw: unknown, nodes: IDagNode[], warnings: string[]): IDagEdge[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  const byId = new Map<string, number>();
  nodes.forEach(n => byId.set(n.id, n.index));
  const edges: IDagEdge[] = [];
  let dropped = 0;
  for (const pair of raw) {
    const s = Array.isArray(pair) ? byId.get(str(pair[0], '')) : undefined;
    const t = Array.isArray(pair) ? byId.get(str(pair[1], '')) : undefined;
    if (s === undefined || t === undefined) {
      dropped += 1;
      continue;
    }
    edges.push({ source: s, target: t });
  }
  if (dropped > 0) {
    warnings.push(`${dropped} edge(s) name unknown nodes and were skipped`);
  }
  return edges;
}

/** The document's state colours completed by the built-in ones. */
export function mergeStates(raw: unknown): Record<string, string> {
  const states: Record<string, string> = { ...DEFAULT_STATE_COLORS };
  if (isObject(raw)) {
    for (const [state, color] of Object.entries(raw)) {
      if (typeof color === 'string' && isSafeColor(color)) {
        states[state] = color;
      }
    }
  }
  return states;
}

/**
 * Whether a colour string is safe to put in an SVG attribute: hex, rgb()/hsl()
 * or a plain colour name. Anything else falls back to the built-in colour.
 */
export function isSafeColor(color: string): boolean {
  return /^(#[0-9a-fA-F]{3,8}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\)|[a-zA-Z]{3,30})$/.test(color.trim());
}

function readCounts(raw: unknown, nodes: IDagNode[]): Record<string, number> {
  const counts: Record<string, number> = {};
  if (isObject(raw)) {
    for (const [state, n] of Object.entries(raw)) {
      if (typeof n === 'number' && Number.isFinite(n)) {
        counts[state] = n;
      }
    }
    return counts;
  }
  for (const node of nodes) {
    counts[node.state] = (counts[node.state] ?? 0) + 1;
  }
  return counts;
}

/** The fill colour of a state. */
export function stateColor(states: Record<string, string>, state: string): string {
  return states[state] ?? DEFAULT_STATE_COLORS[state] ?? UNKNOWN_STATE_COLOR;
}

/**
 * Longest-path layering: a node's layer is one more than the deepest of its
 * dependencies (0 for nodes with none). Linear in nodes + edges (Kahn's
 * algorithm); nodes caught in a cycle get one layer past the deepest
 * placed node so that a malformed document still draws.
 */
export function computeLayers(nodeCount: number, edges: readonly IDagEdge[]): number[] {
  const layers = new Array<number>(nodeCount).fill(0);
  const indegree = new Array<number>(nodeCount).fill(0);
  const out: number[][] = Array.from({ length: nodeCount }, () => []);
  for (const e of edges) {
    if (e.source !== e.target) {
      out[e.source].push(e.target);
      indegree[e.target] += 1;
    }
  }
  const queue: number[] = [];
  indegree.forEach((d, i) => d === 0 && queue.push(i));
  let placed = 0;
  let deepest = 0;
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head];
    placed += 1;
    deepest = Math.max(deepest, layers[u]);
    for (const v of out[u]) {
      layers[v] = Math.max(layers[v], layers[u] + 1);
      if (--indegree[v] === 0) {
        queue.push(v);
      }
    }
  }
  if (placed < nodeCount) {
    indegree.forEach((d, i) => {
      if (d > 0) {
        layers[i] = deepest + 1;
      }
    });
  }
  return layers;
}

/**
 * Place every node when the document lacks positions: layers from the
 * document when given (else longest path), rows in document order within a
 * layer. LR puts layers on x, TB on y.
 */
export function applyFallbackLayout(
  nodes: IDagNode[],
  edges: readonly IDagEdge[],
  direction: Direction
): void {
  const missingLayer = nodes.some(n => n.layer < 0);
  const layers = missingLayer ? computeLayers(nodes.length, edges) : null;
  const rows = new Map<number, number>();
  for (const node of nodes) {
    const layer = layers ? layers[node.index] : node.layer;
    const row = rows.get(layer) ?? 0;
    rows.set(layer, row + 1);
    node.layer = layer;
    node.x = direction === 'LR' ? layer : row;
    node.y = direction === 'LR' ? row : layer;
  }
}

/** Extent of the node positions (all zero for an empty graph). */
export function computeBounds(nodes: readonly IDagNode[]): IBounds {
  if (nodes.length === 0) {
    return { minX: 0, minY: 0, maxX: 0, maxY: 0 };
  }
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.x);
    minY = Math.min(minY, n.y);
    maxX = Math.max(maxX, n.x);
    maxY = Math.max(maxY, n.y);
  }
  return { minX, minY, maxX, maxY };
}

/** One legend entry. */
export interface ILegendEntry {
  state: string;
  color: string;
  count: number;
}

/**
 * Legend entries: the states that occur (by `counts` or in the nodes), in the
 * order of the colour table, then unknown states alphabetically.
 */
export function legendEntries(model: IDagModel): ILegendEntry[] {
  const present = new Map<string, number>(Object.entries(model.counts));
  for (const node of model.nodes) {
    if (!present.has(node.state)) {
      present.set(node.state, 0);
    }
  }
  const known = Object.keys(model.states).filter(s => present.has(s));
  const unknown = [...present.keys()].filter(s => !(s in model.states)).sort();
  return [...known, ...unknown]
    .filter(state => (present.get(state) ?? 0) > 0 || model.nodes.some(n => n.state === state))
    .map(state => ({
      state,
      color: stateColor(model.states, state),
      count: present.get(state) ?? 0
    }));
}

/** Round half up to `digits` decimals (the Python twin rounds the same way). */
function fixed(value: number, digits: number): string {
  const scale = Math.pow(10, digits);
  return (Math.floor(value * scale + 0.5) / scale).toFixed(digits);
}

/**
 * Format seconds for people: 0.2 ms, 12 ms, 1.25 s, 12.3 s, 2 min 05 s, 1 h 02 min.
 * The Python twin (`display/svg.py: format_duration`) writes the same strings.
 */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) {
    return '–';
  }
  if (seconds < 0.00995) {
    return `${fixed(seconds * 1000, 1)} ms`;
  }
  if (seconds < 0.9995) {
    return `${fixed(seconds * 1000, 0)} ms`;
  }
  if (seconds < 9.995) {
    return `${fixed(seconds, 2)} s`;
  }
  if (seconds < 59.95) {
    return `${fixed(seconds, 1)} s`;
  }
  const total = Math.round(seconds);
  const minutes = Math.floor(total / 60);
  if (minutes < 60) {
    return `${minutes} min ${String(total % 60).padStart(2, '0')} s`;
  }
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** One row of the details panel. */
export interface IDetailRow {
  key: string;
  label: string;
  value: string;
}

/**
 * An ISO 8601 timestamp for people: "2026-11-25 23:50:01.123 UTC". Anything
 * that does not look like one is returned unchanged.
 */
export function formatTimestamp(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(iso.trim());
  if (m === null) {
    return iso;
  }
  const fraction = m[3] ? m[3].slice(0, 4) : '';
  const zone = m[4] === undefined ? '' : m[4] === 'Z' || /^[+-]00:?00$/.test(m[4]) ? ' UTC' : ` ${m[4]}`;
  return `${m[1]} ${m[2]}${fraction}${zone}`;
}

/** The details panel rows for one step: status and error first. */
export function detailRows(node: IDagNode): IDetailRow[] {
  const rows: IDetailRow[] = [{ key: 'status', label: 'Status', value: node.state }];
  if (node.error !== null) {
    rows.push({ key: 'error', label: 'Error', value: node.error });
  }
  if (node.cache !== null) {
    rows.push({ key: 'cache', label: 'Cache', value: node.cache });
  }
  if (node.reason !== null) {
    rows.push({ key: 'reason', label: 'Reason', value: node.reason });
  }
  rows.push(
    { key: 'duration', label: 'Duration', value: formatDuration(node.duration) },
    { key: 'attempts', label: 'Attempts', value: node.attempts === null ? '–' : String(node.attempts) }
  );
  if (node.module !== null || node.action !== null) {
    rows.push({
      key: 'action',
      label: 'Action',
      value: `${node.module ?? '?'}.${node.action ?? '?'}`
    });
  }
  if (node.started !== null) {
    rows.push({ key: 'started', label: 'Started', value: formatTimestamp(node.started) });
  }
  if (node.ended !== null) {
    rows.push({ key: 'ended', label: 'Ended', value: formatTimestamp(node.ended) });
  }
  if (node.location !== null) {
    rows.push({ key: 'location', label: 'Where', value: node.location.label });
  }
  if (node.result !== null) {
    rows.push({ key: 'result', label: 'Result', value: node.result.text });
  }
  return rows;
}

/** One-line header: "etl · run 2f6c… · failed · 6 steps". */
export function summaryLine(model: IDagModel): string {
  const parts = [model.workflow || 'workflow'];
  if (model.kind === 'run' && model.runId) {
    parts.push(`run ${model.runId.length > 12 ? model.runId.slice(0, 12) + '…' : model.runId}`);
  }
  if (model.status) {
    parts.push(model.status);
  }
  parts.push(`${model.totalNodes} step${model.totalNodes === 1 ? '' : 's'}`);
  if (model.truncated || model.totalNodes > model.nodes.length) {
    parts.push(`showing the first ${model.nodes.length}`);
  }
  return parts.join(' · ');
}

/** A link the document may carry: only http(s) URLs are shown (never javascript: or data:). */
export function readLink(value: unknown): string | null {
  return typeof value === 'string' && /^https?:\/\//.test(value) ? value : null;
}

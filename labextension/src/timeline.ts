/**
 * What the run view lists under the graph: the step table's rows, the
 * timeline's bars and ticks, the failed steps. Positions are fractions of the
 * run's span, so the drawing fills whatever width it gets; the Python twin
 * (`display/twin.py`) computes the same numbers.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { IDagModel, IDagNode } from './model.js';

/** Rows of the step table and of the timeline beyond which the rest is summarised. */
export const MAX_ROWS = 100;
/** Failure cards shown; further failures are counted. */
export const MAX_FAILURES = 20;

/** True when a step asked the step cache: the step table then has a cache column. */
export function usesCache(model: IDagModel): boolean {
  return model.nodes.some(n => n.cache !== null);
}

/** Nodes listed, and how many were left out. */
export interface IRows {
  nodes: IDagNode[];
  hidden: number;
}

/**
 * The step table's nodes: document order (topological), at most `max`; past
 * the limit the failed steps are kept, since they matter most.
 */
export function tableRows(model: IDagModel, max = MAX_ROWS): IRows {
  const nodes = model.nodes;
  if (nodes.length <= max) {
    return { nodes: [...nodes], hidden: 0 };
  }
  const shown = nodes.slice(0, max);
  const failed = nodes.slice(max).filter(n => n.state === 'failed').slice(0, max);
  return { nodes: [...shown, ...failed], hidden: nodes.length - shown.length - failed.length };
}

/** One bar of the timeline. */
export interface IBar {
  node: IDagNode;
  /** Left edge and width as fractions (0..1) of the span. */
  left: number;
  width: number;
  /** Still going: drawn to the end of the span. */
  open: boolean;
  /** Taken from the step cache: no time spent, drawn as a mark at `left` (width 0). */
  cached: boolean;
}

/** The timeline: bars in start order, the span they share (seconds), ticks. */
export interface ITimeline {
  bars: IBar[];
  span: number;
  hidden: number;
  ticks: number[];
}

/**
 * Span of a run: its duration; while it runs, the time since it started
 * (`now`, epoch milliseconds) or the latest step end seen, whichever is later.
 */
export function runSpan(model: IDagModel, now: number | null = null): number {
  let span = model.duration ?? 0;
  const running = model.status === 'running' || model.status === 'pending';
  if (running && now !== null && model.started !== null && model.duration === null) {
    const since = (now - Date.parse(model.started)) / 1000;
    if (Number.isFinite(since)) {
      span = Math.max(span, since);
    }
  }
  for (const n of model.nodes) {
    if (n.offset !== null) {
      span = Math.max(span, n.offset + (n.duration ?? 0));
    }
  }
  return span > 0 ? span : 0.001;
}

/** Tick positions (seconds): 0 and round steps, at most `count` + 1 of them. */
export function ticks(span: number, count = 5): number[] {
  if (!(span > 0)) {
    return [0];
  }
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(f => f * power).find(s => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = 0; t <= span * 1.0001; t += step) {
    out.push(Math.round(t / step) * step);
  }
  return out;
}

/**
 * The timeline of the steps that started, in start order (document order on
 * ties); `now` (epoch milliseconds) stretches a running run's span to the present.
 */
export function timeline(model: IDagModel, max = MAX_ROWS, now: number | null = null): ITimeline {
  const started = model.nodes.filter(n => n.offset !== null);
  started.sort((a, b) => (a.offset as number) - (b.offset as number) || a.index - b.index);
  const span = runSpan(model, now);
  const bars = started.slice(0, max).map(node => {
    const left = Math.min(1, Math.max(0, (node.offset as number) / span));
    if (node.state === 'cached') {
      return { node, left, width: 0, open: false, cached: true };
    }
    const open = node.duration === null;
    const end = open ? span : (node.offset as number) + (node.duration as number);
    return { node, left, width: Math.max(0, Math.min(1, end / span) - left), open, cached: false };
  });
  return { bars, span, hidden: started.length - bars.length, ticks: ticks(span) };
}

/** The failed steps, in the order they failed. */
export function failures(model: IDagModel, max = MAX_FAILURES): IRows {
  const failed = model.nodes.filter(n => n.state === 'failed');
  const end = (n: IDagNode): number => (n.offset ?? 0) + (n.duration ?? 0);
  failed.sort((a, b) => end(a) - end(b) || a.index - b.index);
  return { nodes: failed.slice(0, max), hidden: Math.max(0, failed.length - max) };
}

/** Steps finished (in a final state) and the total. */
export function progress(model: IDagModel): { done: number; total: number } {
  const final = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'cached']);
  let done = 0;
  for (const [state, n] of Object.entries(model.counts)) {
    if (final.has(state)) {
      done += n;
    }
  }
  return { done, total: model.totalNodes };
}

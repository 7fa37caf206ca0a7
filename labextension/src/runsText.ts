/**
 * The Runs panel's data: the REST answers of the server extension
 * (`<base_url>codomyrmex/api/...`, see docs/runs-panel.md), checked and
 * formatted for people, and the polling rhythm.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { isObject, optNum } from './json.js';
import { DEFAULT_STATE_COLORS, formatDuration } from './model.js';

/** The API's path under the server's base URL. */
export const RUNS_API = 'codomyrmex/api';

/** Run statuses, as the store records them. */
export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One run of the list. */
export interface IRunRow {
  run_id: string;
  workflow: string;
  version: number | null;
  status: string;
  start: number | null;
  end: number | null;
  duration: number | null;
  error: string | null;
  errors: string[];
  counts: Record<string, number> | null;
  host: string | null;
  pid: number | null;
  notebook: string | null;
  kernel: string | null;
  cancel_requested: boolean;
}

/** One page of the list. */
export interface IRunsPage {
  runs: IRunRow[];
  total: number;
  active: number;
  limit: number;
  offset: number;
  storePath: string;
}

/** One run with its run document (`GET runs/<id>`). */
export interface IRunDetail {
  run: IRunRow & { parameters: Record<string, unknown> };
  document: Record<string, unknown> | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A run row from the API, or null when it is not one. */
export function parseRunRow(raw: unknown): IRunRow | null {
  if (!isObject(raw) || typeof raw.run_id !== 'string' || typeof raw.workflow !== 'string') {
    return null;
  }
  const counts = isObject(raw.counts)
    ? Object.fromEntries(Object.entries(raw.counts).filter(([, v]) => typeof v === 'number')) as Record<string, number>
    : null;
  return {
    run_id: raw.run_id,
    workflow: raw.workflow,
    version: optNum(raw.version),
    status: str(raw.status) ?? 'pending',
    start: optNum(raw.start),
    end: optNum(raw.end),
    duration: optNum(raw.duration),
    error: str(raw.error),
    errors: Array.isArray(raw.errors) ? raw.errors.filter((e): e is string => typeof e === 'string') : [],
    counts,
    host: str(raw.host),
    pid: optNum(raw.pid),
    notebook: str(raw.notebook),
    kernel: str(raw.kernel),
    cancel_requested: raw.cancel_requested === true
  };
}

/** A page of runs from the API; throws with a plain message when the answer is not one. */
export function parseRunsPage(raw: unknown): IRunsPage {
  if (!isObject(raw) || !Array.isArray(raw.runs)) {
    throw new Error('the server sent something that is not a list of runs');
  }
  const store = isObject(raw.store) ? raw.store : {};
  return {
    runs: raw.runs.map(parseRunRow).filter((r): r is IRunRow => r !== null),
    total: optNum(raw.total) ?? 0,
    active: optNum(raw.active) ?? 0,
    limit: optNum(raw.limit) ?? 0,
    offset: optNum(raw.offset) ?? 0,
    storePath: str(store.path) ?? ''
  };
}

/** One run and its document from the API; throws when the answer is not one. */
export function parseRunDetail(raw: unknown): IRunDetail {
  const run = isObject(raw) ? parseRunRow(raw.run) : null;
  if (!isObject(raw) || run === null) {
    throw new Error('the server sent something that is not a run');
  }
  const params = isObject(raw.run) && isObject(raw.run.parameters) ? raw.run.parameters : {};
  return { run: { ...run, parameters: params }, document: isObject(raw.document) ? raw.document : null };
}

/** The colour of a run status (a finished run takes its steps' "succeeded" green). */
export function runColor(status: string): string {
  const key = status === 'completed' ? 'succeeded' : status;
  return DEFAULT_STATE_COLORS[key] ?? DEFAULT_STATE_COLORS.pending;
}

/** Seconds the run took, or has taken so far while it runs (`now` in epoch seconds). */
export function runSeconds(run: IRunRow, now: number): number | null {
  if (run.duration !== null) {
    return run.duration;
  }
  if (run.status === 'running' && run.start !== null) {
    return Math.max(0, now - run.start);
  }
  return null;
}

/** "12 s", "2 min 5 s"...; "–" when unknown. */
export function formatRunDuration(run: IRunRow, now: number): string {
  return formatDuration(runSeconds(run, now));
}

/** How long ago a run started: "just now", "40 s ago", "5 min ago", "3 h ago", else the date. */
export function formatAge(start: number | null, now: number): string {
  if (start === null) {
    return '–';
  }
  const ago = Math.max(0, now - start);
  if (ago < 5) {
    return 'just now';
  }
  if (ago < 60) {
    return `${Math.floor(ago)} s ago`;
  }
  if (ago < 3600) {
    return `${Math.floor(ago / 60)} min ago`;
  }
  if (ago < 86400) {
    return `${Math.floor(ago / 3600)} h ago`;
  }
  return new Date(start * 1000).toISOString().slice(0, 10);
}

/** Where a run came from, short: the notebook's file name, else host:pid. */
export function originLabel(run: IRunRow): string {
  if (run.notebook) {
    const parts = run.notebook.split('/');
    return parts[parts.length - 1] || run.notebook;
  }
  if (run.host !== null || run.pid !== null) {
    return `${run.host ?? '?'}:${run.pid ?? '?'}`;
  }
  return '–';
}

/** Where a run came from, in full (the tooltip). */
export function originTitle(run: IRunRow): string {
  const lines = [];
  if (run.notebook) {
    lines.push(`notebook: ${run.notebook}`);
  }
  if (run.kernel) {
    lines.push(`kernel: ${run.kernel}`);
  }
  lines.push(`process: ${run.host ?? '?'} pid ${run.pid ?? '?'}`);
  return lines.join('\n');
}

/** "3/6 steps"-style progress from the counts (failed and cached steps named), or '' without counts. */
export function countsLabel(counts: Record<string, number> | null): string {
  if (!counts) {
    return '';
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = (counts.succeeded ?? 0) + (counts.cached ?? 0);
  const failed = counts.failed ?? 0;
  const cached = counts.cached ?? 0;
  const parts = [`${done}/${total} steps`];
  if (failed > 0) {
    parts.push(`${failed} failed`);
  }
  if (cached > 0) {
    parts.push(`${cached} cached`);
  }
  return parts.join(', ');
}

/** Polling: every second while runs are active; idle, twice as long each time up to `IDLE_MAX_MS`. */
export const ACTIVE_POLL_MS = 1000;
export const IDLE_MAX_MS = 10000;

export function nextPollDelay(previousMs: number, active: boolean): number {
  if (active) {
    return ACTIVE_POLL_MS;
  }
  return Math.min(IDLE_MAX_MS, Math.max(2 * ACTIVE_POLL_MS, previousMs * 2));
}

/** The two runs to compare, the one that started first as A (so the comparison reads "what changed since"). */
export function olderFirst(a: string, b: string, runs: IRunRow[]): [string, string] {
  const start = (id: string): number => runs.find(r => r.run_id === id)?.start ?? Infinity;
  return start(b) < start(a) ? [b, a] : [a, b];
}

/** "+1.20 s" / "-350 ms" for a duration change. */
export function formatDelta(delta: number | null): string {
  if (delta === null) {
    return '';
  }
  const sign = delta >= 0 ? '+' : '-';
  return `${sign}${formatDuration(Math.abs(delta))}`;
}

/**
 * The diff of two runs as the Runs API serves it (`GET runs/<a>/diff/<b>`,
 * the JSON of `RunDiff.to_dict()`, see docs/runs-panel.md), checked and
 * put into words for the comparison view.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { isObject, optNum } from './json.js';
import { formatDuration } from './model.js';
import { formatDelta } from './runsText.js';

/** A value in run a and in run b. */
export interface IPair<T> {
  a: T | null;
  b: T | null;
}

/** A named value that differs (`null`: unset in that run). */
export interface INamedChange {
  name: string;
  a: string | null;
  b: string | null;
}

/** One of the two runs. */
export interface IDiffRun {
  run_id: string;
  workflow: string;
  version: number | null;
  status: string;
  start: number | null;
  duration: number | null;
}

export const STEP_CHANGES = ['added', 'removed', 'changed', 'same'] as const;
export type StepChange = (typeof STEP_CHANGES)[number];

/** How one step differs. */
export interface IStepDiff {
  step: string;
  change: StepChange;
  state: IPair<string>;
  state_changed: boolean;
  duration: IPair<number>;
  dependencies: IPair<string[]> | null;
  code_changed: boolean;
  code_diff: string | null;
  parameters: INamedChange[];
  result: string | null;
}

/** The whole diff. */
export interface IRunDiff {
  a: IDiffRun;
  b: IDiffRun;
  identical: boolean;
  parameters: INamedChange[];
  environment: INamedChange[];
  steps: IStepDiff[];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const strings = (v: unknown): string[] | null =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : null;

function pair<T>(raw: unknown, read: (v: unknown) => T | null): IPair<T> {
  return isObject(raw) ? { a: read(raw.a), b: read(raw.b) } : { a: null, b: null };
}

function changes(raw: unknown): INamedChange[] {
  return (Array.isArray(raw) ? raw : [])
    .filter(isObject)
    .filter(c => typeof c.name === 'string')
    .map(c => ({ name: c.name as string, a: str(c.a), b: str(c.b) }));
}

function side(raw: unknown): IDiffRun | null {
  if (!isObject(raw) || typeof raw.run_id !== 'string') {
    return null;
  }
  return {
    run_id: raw.run_id,
    workflow: str(raw.workflow) ?? '',
    version: optNum(raw.version),
    status: str(raw.status) ?? 'pending',
    start: optNum(raw.start),
    duration: optNum(raw.duration)
  };
}

function step(raw: Record<string, unknown>): IStepDiff {
  const change = STEP_CHANGES.find(c => c === raw.change) ?? 'changed';
  return {
    step: raw.step as string,
    change,
    state: pair(raw.state, str),
    state_changed: raw.state_changed === true,
    duration: pair(raw.duration, optNum),
    dependencies: isObject(raw.dependencies) ? pair(raw.dependencies, strings) : null,
    code_changed: raw.code_changed === true,
    code_diff: str(raw.code_diff),
    parameters: changes(raw.parameters),
    result: str(raw.result)
  };
}

/** A run diff from the API; throws with a plain message when the answer is not one. */
export function parseRunDiff(raw: unknown): IRunDiff {
  const a = isObject(raw) ? side(raw.a) : null;
  const b = isObject(raw) ? side(raw.b) : null;
  if (!isObject(raw) || a === null || b === null || !Array.isArray(raw.steps)) {
    throw new Error('the server sent something that is not a run diff');
  }
  return {
    a,
    b,
    identical: raw.identical === true,
    parameters: changes(raw.parameters),
    environment: changes(raw.environment),
    steps: raw.steps.filter(isObject).filter(s => typeof s.step === 'string').map(step)
  };
}

/** One line: how many steps were added, removed, changed; or that only times differ. */
export function diffSummary(diff: IRunDiff): string {
  if (diff.identical) {
    return 'Nothing differs but times.';
  }
  const count = (c: StepChange): number => diff.steps.filter(s => s.change === c).length;
  const parts = [
    count('added') ? `${count('added')} added` : '',
    count('removed') ? `${count('removed')} removed` : '',
    count('changed') ? `${count('changed')} changed` : '',
    count('same') ? `${count('same')} unchanged` : ''
  ].filter(Boolean);
  const steps = diff.steps.length === 1 ? 'step' : 'steps';
  const extra = [
    diff.parameters.length ? 'run parameters' : '',
    diff.environment.length ? 'environment' : ''
  ].filter(Boolean);
  const tail = extra.length ? `; ${extra.join(' and ')} changed` : '';
  return `${diff.steps.length} ${steps}: ${parts.join(', ') || 'none'}${tail}.`;
}

/** A value shown in a change: "(unset)" where a run has none. */
export function shown(value: string | null): string {
  return value ?? '(unset)';
}

/** "A → B" of a state, "–" for a run without the step. */
export function stateChange(s: IStepDiff): string {
  return `${s.state.a ?? '–'} → ${s.state.b ?? '–'}`;
}

/** "300 ms → 400 ms (+100 ms)"; the change only when both ran and it shows at this precision. */
export function durationChange(s: IStepDiff): string {
  const { a, b } = s.duration;
  const shows = a !== null && b !== null && formatDuration(Math.abs(b - a)) !== formatDuration(0);
  const delta = shows ? ` (${formatDelta(b - a)})` : '';
  return `${formatDuration(a)} → ${formatDuration(b)}${delta}`;
}

/** What differs in a step, one short line each (the code diff itself is drawn apart). */
export function stepNotes(s: IStepDiff): string[] {
  if (s.change === 'added') {
    return ['only in B'];
  }
  if (s.change === 'removed') {
    return ['only in A'];
  }
  const notes: string[] = [];
  if (s.state_changed) {
    notes.push(`state ${stateChange(s)}`);
  }
  if (s.dependencies !== null) {
    const list = (d: string[] | null): string => `[${(d ?? []).join(', ')}]`;
    notes.push(`rewired: depends on ${list(s.dependencies.a)} → ${list(s.dependencies.b)}`);
  }
  for (const p of s.parameters) {
    notes.push(`parameter ${p.name}: ${shown(p.a)} → ${shown(p.b)}`);
  }
  if (s.result) {
    notes.push(`result ${s.result.replace(' -> ', ' → ')}`);
  }
  if (s.code_changed) {
    notes.push(s.code_diff ? 'code changed' : 'code changed (source not stored)');
  }
  return notes;
}

/** One line of a unified diff and what it is. */
export interface IDiffLine {
  kind: 'file' | 'hunk' | 'add' | 'del' | 'same';
  text: string;
}

/** The lines of a unified diff, each with its kind (for colouring); "---"/"+++" are file lines only before the first hunk. */
export function diffLines(diff: string): IDiffLine[] {
  let header = true;
  return diff.replace(/\n$/, '').split('\n').map((text): IDiffLine => {
    if (text.startsWith('@@')) {
      header = false;
      return { kind: 'hunk', text };
    }
    if (header && (text.startsWith('+++') || text.startsWith('---'))) {
      return { kind: 'file', text };
    }
    if (text.startsWith('+')) {
      return { kind: 'add', text };
    }
    if (text.startsWith('-')) {
      return { kind: 'del', text };
    }
    return { kind: 'same', text };
  });
}

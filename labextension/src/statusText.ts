/**
 * The `codomyrmex.status` comm protocol on the frontend: parse the kernel's
 * messages and turn them into the status-bar text.
 *
 * Kernel to frontend: `{running, failed, completed, cancelled, runs: [{run_id,
 * workflow, status, cached}, ...]}` (at most 5 recent runs, most recent first;
 * `cached` counts the steps a run took from the step cache).
 * Frontend to kernel: `{request: 'status'}`.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

/** Comm target name shared with `codomyrmex_jupyter.display.status_comm`. */
export const STATUS_COMM_TARGET = 'codomyrmex.status';

/** What the frontend sends to ask for the current status. */
export const STATUS_REQUEST: Readonly<{ request: string }> = { request: 'status' };

/** One recent run. */
export interface IRunSummary {
  runId: string;
  workflow: string;
  status: string;
  /** Steps taken from the step cache (0 while running or when none). */
  cached: number;
}

/** A kernel's codomyrmex activity. */
export interface IStatusMessage {
  running: number;
  failed: number;
  completed: number;
  cancelled: number;
  runs: IRunSummary[];
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/**
 * Read a kernel message. Returns null for anything that is not a status
 * message (for example a frontend's own `{request: 'status'}`).
 */
export function parseStatusMessage(data: unknown): IStatusMessage | null {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return null;
  }
  const d = data as Record<string, unknown>;
  const keys = ['running', 'failed', 'completed', 'cancelled'];
  if (!keys.some(k => typeof d[k] === 'number')) {
    return null;
  }
  const runs: IRunSummary[] = [];
  if (Array.isArray(d.runs)) {
    for (const r of d.runs) {
      if (typeof r === 'object' && r !== null) {
        const run = r as Record<string, unknown>;
        runs.push({
          runId: String(run.run_id ?? ''),
          workflow: String(run.workflow ?? ''),
          status: String(run.status ?? ''),
          cached: count(run.cached)
        });
      }
    }
  }
  return {
    running: count(d.running),
    failed: count(d.failed),
    completed: count(d.completed),
    cancelled: count(d.cancelled),
    runs
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The status-bar text: "codomyrmex: 2 running, 1 failed" while runs are
 * active, "codomyrmex: idle, 5 runs" (plus failures) otherwise.
 */
export function formatStatus(msg: IStatusMessage): string {
  const total = msg.running + msg.failed + msg.completed + msg.cancelled;
  const parts: string[] = [];
  if (msg.running > 0) {
    parts.push(`${msg.running} running`);
  } else {
    parts.push('idle', plural(total, 'run'));
  }
  if (msg.failed > 0) {
    parts.push(`${msg.failed} failed`);
  }
  return `codomyrmex: ${parts.join(', ')}`;
}

/** The tooltip: every count and the recent runs, one per line. */
export function formatTooltip(msg: IStatusMessage): string {
  const lines = [
    `codomyrmex runs in this kernel: ${msg.running} running, ${msg.completed} completed, ` +
      `${msg.failed} failed, ${msg.cancelled} cancelled`
  ];
  if (msg.runs.length > 0) {
    lines.push('Recent runs:');
    for (const r of msg.runs) {
      const id = r.runId.length > 12 ? r.runId.slice(0, 12) + '…' : r.runId;
      const cached = r.cached > 0 ? `, ${r.cached} cached` : '';
      lines.push(`  ${r.workflow || '?'} (${id}): ${r.status}${cached}`);
    }
  }
  return lines.join('\n');
}

/** A CSS modifier for the item: "running", "failed" or "idle". */
export function statusTone(msg: IStatusMessage): 'running' | 'failed' | 'idle' {
  if (msg.running > 0) {
    return 'running';
  }
  return msg.failed > 0 ? 'failed' : 'idle';
}

/**
 * One run in a tab (JupyterLab's main area; Notebook 7's right panel): a
 * header (workflow, status, where it ran, when, how long; Cancel while it
 * runs) and the run document drawn by the notebook's own renderer. While
 * the run is running the view reloads it every second.
 */

import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';

import { el } from './dom.js';
import { createRunRenderer, renderRunDocument } from './renderRun.js';
import { RunsClient } from './runsClient.js';
import { ACTIVE_POLL_MS, formatRunDuration, IRunDetail, originTitle, runColor } from './runsText.js';

/** Where the run ran: its notebook and kernel (the renderer below says the rest). */
export function runOrigin(detail: IRunDetail): HTMLElement {
  const { run } = detail;
  const parts = [
    run.notebook ? `from ${run.notebook}` : `from ${run.host ?? '?'} pid ${run.pid ?? '?'}`,
    run.kernel ? `kernel ${run.kernel.slice(0, 8)}` : ''
  ];
  const meta = el('div', 'cdm-runtab-meta', parts.filter(Boolean).join(' · '));
  meta.title = originTitle(run);
  return meta;
}

/** A run's name line and origin (the comparison view's headers). */
export function runHeader(detail: IRunDetail, now: number): HTMLElement {
  const { run } = detail;
  const head = el('div', 'cdm-runtab-head');
  const dot = el('span', 'cdm-runs-dot');
  dot.style.background = runColor(run.status);
  const status = el('span', 'cdm-runtab-status', `${run.status} · ${formatRunDuration(run, now)}`);
  status.style.color = runColor(run.status);
  const line = el('div', 'cdm-runtab-line');
  line.append(dot, el('span', 'cdm-runtab-title', run.workflow), status);
  head.append(line, runOrigin(detail));
  return head;
}

export class RunTab extends Panel {
  constructor(runId: string, client: RunsClient, rendermime: IRenderMimeRegistry) {
    super();
    this.addClass('cdm-runtab-view');
    this.runId = runId;
    this.title.label = `Run ${runId.slice(0, 8)}`;
    this.title.closable = true;
    this._client = client;
    this._rendermime = rendermime;
    this._headWidget.addClass('cdm-runtab-header');
    this._bodyWidget.addClass('cdm-runtab-body');
    this.addWidget(this._headWidget);
    this.addWidget(this._bodyWidget);
    void this.reload();
  }

  readonly runId: string;

  /** Load the run again and redraw it. */
  async reload(): Promise<void> {
    this._stop();
    let detail: IRunDetail;
    try {
      detail = await this._client.run(this.runId);
    } catch (reason) {
      this._head.replaceChildren(el('div', 'cdm-runs-message cdm-runs-error', `Cannot load run ${this.runId}: ${String(reason instanceof Error ? reason.message : reason)}`));
      return;
    }
    if (this.isDisposed) {
      return;
    }
    this.title.label = `${detail.run.workflow} ${this.runId.slice(0, 8)}`;
    this.title.caption = `${detail.run.workflow} run ${this.runId} (${detail.run.status})`;
    this._head.replaceChildren(runOrigin(detail));
    if (detail.run.status === 'running') {
      this._head.appendChild(this._cancelButton(detail));
    }
    await this._draw(detail);
    if (detail.run.status === 'running' || detail.run.status === 'pending') {
      this._timer = window.setTimeout(() => void this.reload(), ACTIVE_POLL_MS);
    }
  }

  dispose(): void {
    this._stop();
    this._renderer?.dispose();
    super.dispose();
  }

  private async _draw(detail: IRunDetail): Promise<void> {
    if (detail.document === null) {
      this._body.replaceChildren(el('div', 'cdm-runs-message', 'This run has no steps recorded.'));
      return;
    }
    if (this._renderer === null) {
      this._renderer = createRunRenderer(this._rendermime);
      if (this._renderer === null) {
        this._body.replaceChildren(el('div', 'cdm-runs-message cdm-runs-error', 'No renderer for run documents is installed.'));
        return;
      }
      this._body.replaceChildren();
      this._bodyWidget.dispose();
      this._renderer.addClass('cdm-runtab-body');
      this.addWidget(this._renderer);
    }
    await renderRunDocument(this._renderer, detail.document);
  }

  private _cancelButton(detail: IRunDetail): HTMLElement {
    const button = el('button', 'cdm-runtab-cancel jp-mod-styled jp-mod-warn', detail.run.cancel_requested ? 'Cancelling…' : 'Cancel run');
    button.disabled = detail.run.cancel_requested;
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Cancelling…';
      void this._client.cancel(this.runId).then(
        () => this.reload(),
        (reason: unknown) => {
          button.textContent = `Cannot cancel: ${reason instanceof Error ? reason.message : String(reason)}`;
        }
      );
    });
    return button;
  }

  private _stop(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private readonly _client: RunsClient;
  private readonly _rendermime: IRenderMimeRegistry;
  private readonly _headWidget = new Widget();
  private readonly _bodyWidget = new Widget();
  private readonly _head = this._headWidget.node;
  private readonly _body = this._bodyWidget.node;
  private _renderer: IRenderMime.IRenderer | null = null;
  private _timer: number | null = null;
}

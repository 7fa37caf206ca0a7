/**
 * The Runs panel (widget id `codomyrmex-runs`): every run of every kernel
 * that shares the store, newest first, read from the server extension.
 *
 * Live while runs are active: it polls every second while any run is
 * running, and idle it backs off to one look every ten seconds; hidden (the
 * sidebar closed, or the browser tab in the background) it does not poll at
 * all. `wake()` looks at once (a kernel of this page got busy, a cancel was
 * asked). Nothing here runs code: it lists, opens, compares and asks for a
 * cancel.
 */

import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { el } from './dom.js';
import { RunsClient } from './runsClient.js';
import {
  countsLabel,
  formatAge,
  formatRunDuration,
  IRunRow,
  IRunsPage,
  nextPollDelay,
  olderFirst,
  originLabel,
  originTitle,
  RUN_STATUSES,
  runColor
} from './runsText.js';

export const RUNS_PANEL_ID = 'codomyrmex-runs';
const PAGE = 100;

/** What the panel asks of the application. */
export interface IRunsPanelActions {
  open(runId: string): void;
  compare(a: string, b: string): void;
}

export class RunsPanel extends Widget {
  constructor(client: RunsClient, actions: IRunsPanelActions) {
    super();
    this.id = RUNS_PANEL_ID;
    this.addClass('cdm-runs');
    this.title.caption = 'Workflow runs';
    this._client = client;
    this._actions = actions;
    this.node.append(this._toolbar(), this._message, this._list, this._footer);
    this._list.className = 'cdm-runs-list';
    this._list.setAttribute('role', 'list');
    this._message.className = 'cdm-runs-message';
    this._footer.className = 'cdm-runs-footer';
    document.addEventListener('visibilitychange', this._onVisibility);
  }

  dispose(): void {
    this._stop();
    document.removeEventListener('visibilitychange', this._onVisibility);
    super.dispose();
  }

  /** Look now and poll quickly again (something may have started). */
  wake(): void {
    this._delay = 0;
    if (this.isVisible && !document.hidden) {
      this._schedule(0);
    }
  }

  /** The runs shown (for tests and the application). */
  get page(): IRunsPage | null {
    return this._page;
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.wake();
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this._stop();
  }

  private _onVisibility = (): void => {
    if (document.hidden) {
      this._stop();
    } else {
      this.wake();
    }
  };

  private _toolbar(): HTMLElement {
    const bar = el('div', 'cdm-runs-toolbar');
    const title = el('span', 'cdm-runs-title', 'Runs');
    this._filter = el('select', 'cdm-runs-filter');
    this._filter.title = 'Show runs of one status';
    for (const value of ['', ...RUN_STATUSES]) {
      const option = el('option', '', value || 'all');
      option.value = value;
      this._filter.appendChild(option);
    }
    this._filter.addEventListener('change', () => {
      this._limit = PAGE;
      this.wake();
    });
    this._compare = el('button', 'cdm-runs-compare jp-mod-styled', 'Compare');
    this._compare.title = 'Select two runs to compare them side by side';
    this._compare.disabled = true;
    this._compare.addEventListener('click', () => {
      const [a, b] = [...this._selected];
      if (a && b) {
        this._actions.compare(...olderFirst(a, b, this._page?.runs ?? []));
      }
    });
    const refresh = el('button', 'cdm-runs-refresh jp-mod-styled', '↻');
    refresh.title = 'Refresh now';
    refresh.setAttribute('aria-label', 'Refresh');
    refresh.addEventListener('click', () => this.wake());
    bar.append(title, this._filter, this._compare, refresh);
    return bar;
  }

  private _schedule(ms: number): void {
    this._stop();
    this._timer = window.setTimeout(() => void this._tick(), ms);
  }

  private _stop(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private async _tick(): Promise<void> {
    this._timer = null;
    if (this._busy) {
      return;
    }
    this._busy = true;
    let active = false;
    try {
      const page = await this._client.runs({ status: this._filter.value, limit: this._limit });
      this._page = page;
      this._error = null;
      active = page.active > 0;
    } catch (reason) {
      this._error = reason instanceof Error ? reason.message : String(reason);
    } finally {
      this._busy = false;
    }
    this._render();
    this._delay = nextPollDelay(this._delay, active);
    if (this.isVisible && !document.hidden && !this.isDisposed) {
      this._schedule(this._delay);
    }
  }

  private _render(): void {
    const page = this._page;
    const now = Date.now() / 1000;
    this._message.textContent = '';
    this._message.classList.toggle('cdm-runs-error', this._error !== null);
    if (this._error !== null) {
      this._message.textContent = `Cannot read the runs: ${this._error}`;
    } else if (page && page.runs.length === 0) {
      this._message.textContent = this._filter.value
        ? `No ${this._filter.value} runs.`
        : 'No runs yet. Run a workflow in a notebook (%%workflow NAME --run) and it shows up here.';
    }
    const shown = new Set(page?.runs.map(r => r.run_id) ?? []);
    for (const id of [...this._selected]) {
      if (!shown.has(id)) {
        this._selected.delete(id);
      }
    }
    this._list.replaceChildren(...(page?.runs ?? []).map(run => this._item(run, now)));
    this._compare.disabled = this._selected.size !== 2;
    this._footer.replaceChildren();
    if (page) {
      const label = `${page.total} run${page.total === 1 ? '' : 's'}${page.active ? `, ${page.active} running` : ''}`;
      this._footer.appendChild(el('span', 'cdm-runs-count', label));
      this._footer.title = page.storePath ? `store: ${page.storePath}` : '';
      if (page.total > page.runs.length) {
        const more = el('button', 'cdm-runs-more jp-mod-styled', 'Show more');
        more.addEventListener('click', () => {
          this._limit += PAGE;
          this.wake();
        });
        this._footer.appendChild(more);
      }
    }
  }

  private _item(run: IRunRow, now: number): HTMLElement {
    const item = el('div', 'cdm-runs-item');
    item.setAttribute('role', 'listitem');
    item.dataset.runId = run.run_id;
    item.dataset.status = run.status;
    const started = run.start !== null ? `started ${new Date(run.start * 1000).toLocaleString()}` : 'not started';
    item.title = `${run.workflow} ${run.run_id}\n${run.status}, ${started}\n${originTitle(run)}`;
    const pick = el('input', 'cdm-runs-select');
    pick.type = 'checkbox';
    pick.checked = this._selected.has(run.run_id);
    pick.title = 'Select to compare (two runs)';
    pick.addEventListener('click', event => event.stopPropagation());
    pick.addEventListener('change', () => this._toggle(run.run_id, pick.checked));
    const dot = el('span', 'cdm-runs-dot');
    dot.style.background = runColor(run.status);
    dot.setAttribute('aria-label', run.status);

    const main = el('div', 'cdm-runs-main');
    const line = el('div', 'cdm-runs-line');
    line.append(
      el('span', 'cdm-runs-workflow', run.workflow),
      el('span', 'cdm-runs-status', run.cancel_requested && run.status === 'running' ? 'cancelling…' : run.status)
    );
    const when = el('div', 'cdm-runs-meta', `${formatAge(run.start, now)} · ${formatRunDuration(run, now)}`);
    const where = el(
      'div',
      'cdm-runs-meta cdm-runs-origin',
      [originLabel(run), countsLabel(run.counts)].filter(Boolean).join(' · ')
    );
    main.append(line, when, where);
    if (run.error) {
      main.appendChild(el('div', 'cdm-runs-errorline', run.error));
    }
    item.append(pick, dot, main);
    if (run.status === 'running') {
      const cancel = el('button', 'cdm-runs-cancel jp-mod-styled', 'Cancel');
      cancel.title = "Ask the run's kernel to cancel it";
      cancel.disabled = run.cancel_requested;
      cancel.addEventListener('click', event => {
        event.stopPropagation();
        cancel.disabled = true;
        void this._client
          .cancel(run.run_id)
          .catch((reason: unknown) => {
            this._error = reason instanceof Error ? reason.message : String(reason);
            this._render();
          })
          .then(() => this.wake());
      });
      item.appendChild(cancel);
    }
    item.addEventListener('click', () => this._actions.open(run.run_id));
    return item;
  }

  private _toggle(runId: string, on: boolean): void {
    if (on) {
      this._selected.add(runId);
      // Two at most: the oldest pick makes room for the new one.
      while (this._selected.size > 2) {
        this._selected.delete(this._selected.values().next().value as string);
      }
    } else {
      this._selected.delete(runId);
    }
    this._list.querySelectorAll<HTMLInputElement>('input.cdm-runs-select').forEach(box => {
      const id = box.closest<HTMLElement>('.cdm-runs-item')?.dataset.runId ?? '';
      box.checked = this._selected.has(id);
    });
    this._compare.disabled = this._selected.size !== 2;
  }

  private readonly _client: RunsClient;
  private readonly _actions: IRunsPanelActions;
  private readonly _list = document.createElement('div');
  private readonly _message = document.createElement('div');
  private readonly _footer = document.createElement('div');
  private _filter!: HTMLSelectElement;
  private _compare!: HTMLButtonElement;
  private _selected = new Set<string>();
  private _page: IRunsPage | null = null;
  private _error: string | null = null;
  private _timer: number | null = null;
  private _delay = 0;
  private _busy = false;
  private _limit = PAGE;
}

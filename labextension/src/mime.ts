/**
 * The IRenderMime extension: run documents (`application/vnd.codomyrmex.dag+json`)
 * and dashboards (`application/vnd.codomyrmex.dashboard+json`).
 *
 * Works on saved outputs with no kernel: everything drawn comes from the
 * document in the output's MIME bundle. While the document names a live
 * widget (`live.model_id`) and that widget exists, its custom view drives
 * the component drawn here (see `follow.ts`): a live output and its saved
 * form are the same element. An updated output (the kernel's final
 * document) is drawn into the same component, so nothing moves.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { DASHBOARD_MIME_TYPE, DashboardDocView, parseDashboard } from './dashboard.js';
import { LiveFollower } from './follow.js';
import { MIME_TYPE, parseDag } from './model.js';
import { el, RunDocView } from './runview.js';

/** Outputs normally hold the JSON object; tolerate a JSON string too. */
function readData(value: unknown): unknown {
  if (typeof value !== 'string') {
    return value;
  }
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function liveId(doc: unknown): string | null {
  const live = (doc as { live?: { model_id?: unknown } } | null)?.live;
  return typeof live?.model_id === 'string' && live.model_id !== '' ? live.model_id : null;
}

/** Renders one run document; its node is the output area's output element. */
export class DagRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('cdm-dag');
    this.addClass('cdm-host');
  }

  /** The component drawn (null before the first document, or for an unreadable one). */
  get view(): RunDocView | null {
    return this._view;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = readData(model.data[this._mimeType]);
    const parsed = parseDag(data);
    if (!parsed.ok) {
      this._clear();
      this.node.appendChild(el('div', 'cdm-dag-message', parsed.message));
      return Promise.resolve();
    }
    if (this._view === null) {
      this.node.textContent = '';
      this._view = new RunDocView(this.node, parsed.model);
      this._follower = new LiveFollower(this._view);
    } else {
      this._view.update(parsed.model);
    }
    this._follower?.follow(liveId(data));
    return Promise.resolve();
  }

  dispose(): void {
    this._clear();
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._view?.canvas.refit();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._view?.canvas.refit();
  }

  private _clear(): void {
    this._follower?.stop();
    this._follower = null;
    this._view?.dispose();
    this._view = null;
    this.node.textContent = '';
  }

  private readonly _mimeType: string;
  private _view: RunDocView | null = null;
  private _follower: LiveFollower | null = null;
}

/** Renders one dashboard (or resource gauges) document. */
export class DashboardRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('cdm-dashboard');
    this.addClass('cdm-host');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const data = readData(model.data[this._mimeType]);
    const doc = parseDashboard(data);
    if (doc === null) {
      this._clear();
      this.node.appendChild(
        el('div', 'cdm-dag-message', 'codomyrmex: this dashboard document is not one this extension can read; upgrade codomyrmex_jupyter.')
      );
      return Promise.resolve();
    }
    if (this._view === null) {
      this.node.textContent = '';
      this._view = new DashboardDocView(this.node, doc);
      this._follower = new LiveFollower(this._view);
    } else {
      this._view.update(doc);
    }
    this._follower?.follow(liveId(doc));
    return Promise.resolve();
  }

  dispose(): void {
    this._clear();
    super.dispose();
  }

  private _clear(): void {
    this._follower?.stop();
    this._follower = null;
    this._view?.dispose();
    this._view = null;
    this.node.textContent = '';
  }

  private readonly _mimeType: string;
  private _view: DashboardDocView | null = null;
  private _follower: LiveFollower | null = null;
}

/** The renderer factories: safe, because every string is escaped or set as text. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new DagRenderer(options)
};

export const dashboardFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [DASHBOARD_MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new DashboardRenderer(options)
};

const extensions: IRenderMime.IExtension[] = [
  {
    id: 'codomyrmex-jupyter:dag-renderer',
    description: 'Run and workflow views for application/vnd.codomyrmex.dag+json outputs.',
    rendererFactory,
    rank: 0,
    dataType: 'json'
  },
  {
    id: 'codomyrmex-jupyter:dashboard-renderer',
    description: 'Dashboards and resource gauges for application/vnd.codomyrmex.dashboard+json outputs.',
    rendererFactory: dashboardFactory,
    rank: 0,
    dataType: 'json'
  }
];

export default extensions;

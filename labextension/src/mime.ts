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
import { el } from './dom.js';
import { LiveFollower } from './follow.js';
import { Json } from './json.js';
import { IDagModel, MIME_TYPE, parseDag, readLive } from './model.js';
import { RunDocView } from './runview.js';

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

/** A document read: its model, or a message to show instead. */
type Read<M> = { ok: true; model: M } | { ok: false; message: string };

/** What a renderer draws: a component with update(). */
interface IComponent<M> {
  update(model: M): void;
  dispose(): void;
}

/**
 * Renders one document; its node is the output area's output element. The
 * first document creates the component, later ones update it in place.
 */
abstract class DocRenderer<M, C extends IComponent<M>> extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions, className: string) {
    super();
    this._mimeType = options.mimeType;
    this.addClass(className);
    this.addClass('cdm-host');
  }

  /** The component drawn (null before the first document, or for an unreadable one). */
  get view(): C | null {
    return this._view;
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const read = this.read(readData(model.data[this._mimeType]));
    if (!read.ok) {
      this._clear();
      this.node.appendChild(el('div', 'cdm-dag-message', read.message));
      return Promise.resolve();
    }
    if (this._view === null) {
      this.node.textContent = '';
      this._view = this.makeView(read.model);
      this._follower = new LiveFollower(this._view);
    } else {
      this._view.update(read.model);
    }
    this._follower?.follow(this.liveId(read.model));
    return Promise.resolve();
  }

  dispose(): void {
    this._clear();
    super.dispose();
  }

  /** The document in the output, or why it cannot be shown. */
  protected abstract read(data: unknown): Read<M>;
  /** The component for a first document, drawn into `this.node`. */
  protected abstract makeView(model: M): C;
  /** The live widget the document names (null: none). */
  protected abstract liveId(model: M): string | null;

  private _clear(): void {
    this._follower?.stop();
    this._follower = null;
    this._view?.dispose();
    this._view = null;
    this.node.textContent = '';
  }

  private readonly _mimeType: string;
  private _view: C | null = null;
  private _follower: LiveFollower | null = null;
}

/** Renders one run document. */
export class DagRenderer extends DocRenderer<IDagModel, RunDocView> {
  constructor(options: IRenderMime.IRendererOptions) {
    super(options, 'cdm-dag');
  }

  protected read(data: unknown): Read<IDagModel> {
    return parseDag(data);
  }

  protected makeView(model: IDagModel): RunDocView {
    return new RunDocView(this.node, model);
  }

  protected liveId(model: IDagModel): string | null {
    return model.live?.modelId ?? null;
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.view?.canvas.refit();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.view?.canvas.refit();
  }
}

/** Renders one dashboard (or resource gauges) document. */
export class DashboardRenderer extends DocRenderer<Json, DashboardDocView> {
  constructor(options: IRenderMime.IRendererOptions) {
    super(options, 'cdm-dashboard');
  }

  protected read(data: unknown): Read<Json> {
    const doc = parseDashboard(data);
    return doc === null
      ? {
          ok: false,
          message: 'codomyrmex: this dashboard document is not one this extension can read; upgrade codomyrmex_jupyter.'
        }
      : { ok: true, model: doc };
  }

  protected makeView(doc: Json): DashboardDocView {
    return new DashboardDocView(this.node, doc);
  }

  protected liveId(doc: Json): string | null {
    return readLive(doc.live)?.modelId ?? null;
  }
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

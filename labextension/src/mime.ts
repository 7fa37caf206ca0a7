/**
 * The IRenderMime extension for `application/vnd.codomyrmex.dag+json`.
 *
 * Works on saved outputs with no kernel: everything it draws comes from the
 * document in the output's MIME bundle.
 */

import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { MIME_TYPE, parseDag } from './model.js';
import { DagView } from './view.js';

let drawings = 0;

/** Renders one DAG document; its node is the output area's output element. */
export class DagRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this.addClass('cdm-dag');
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._view?.dispose();
    this._view = null;
    this.node.textContent = '';
    const parsed = parseDag(readData(model.data[this._mimeType]));
    if (!parsed.ok) {
      const message = document.createElement('div');
      message.className = 'cdm-dag-message';
      message.textContent = parsed.message;
      this.node.appendChild(message);
      return Promise.resolve();
    }
    drawings += 1;
    this._view = new DagView(this.node, parsed.model, `cdm-dag-${drawings}`);
    return Promise.resolve();
  }

  dispose(): void {
    this._view?.dispose();
    this._view = null;
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this._view?.refit();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._view?.refit();
  }

  private readonly _mimeType: string;
  private _view: DagView | null = null;
}

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

/** The renderer factory: safe, because every string is escaped or set as text. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME_TYPE],
  defaultRank: 0,
  createRenderer: options => new DagRenderer(options)
};

const extension: IRenderMime.IExtension = {
  id: 'codomyrmex-jupyter:dag-renderer',
  description: 'Interactive DAG view for application/vnd.codomyrmex.dag+json outputs.',
  rendererFactory,
  rank: 0,
  dataType: 'json'
};

export default extension;

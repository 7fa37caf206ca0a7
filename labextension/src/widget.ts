/**
 * The custom ipywidgets (widget module `codomyrmex-jupyter`): live run views
 * and dashboards.
 *
 * A model holds its document (`doc`, synced from the kernel) and applies
 * the kernel's patches (`{"patch": {"run": {...}, "nodes": [[i, node], ...]}}`)
 * sent as custom messages while a run goes on, so a refresh costs the kernel
 * the changed steps only. On creation it asks the kernel for the whole
 * document (`{"event": "sync"}`), which a page reloaded mid-run needs.
 *
 * A view draws the document with the same component as the saved output.
 * Given `cdmAdopt` (a component already on the page, see `follow.ts`), it
 * drives that component instead of drawing its own: the live output and
 * the saved output are then one element.
 */

import { DOMWidgetModel, DOMWidgetView, ExportMap, WidgetModel, WidgetView } from '@jupyter-widgets/base';

import { DashboardDocView, parseDashboard } from './dashboard.js';
import { isObject, Json } from './json.js';
import { registerLive, unregisterLive } from './live.js';
import { applyPatch } from './patch.js';
import { IDagModel, parseDag } from './model.js';
import { RunDocView } from './runview.js';

export const MODULE_NAME = 'codomyrmex-jupyter';
export const MODULE_VERSION = '0.1.0';

/** A model holding one document; `cdm:doc` fires when it changes. */
class DocModel extends DOMWidgetModel {
  defaults(): Json {
    return {
      ...super.defaults(),
      _model_module: MODULE_NAME,
      _model_module_version: MODULE_VERSION,
      _view_module: MODULE_NAME,
      _view_module_version: MODULE_VERSION,
      doc: {}
    };
  }

  initialize(attributes: Json, options: Parameters<WidgetModel['initialize']>[1]): void {
    super.initialize(attributes, options);
    this.doc = (this.get('doc') as Json) ?? {};
    this.on('change:doc', () => this._set(this.get('doc') as Json));
    this.on('msg:custom', (content: Json) => this._onMessage(content));
    this.on('destroy', () => unregisterLive(this.model_id));
    this.on('comm_live_update', () => {
      if (!this.comm_live) {
        unregisterLive(this.model_id);
      }
    });
    registerLive(this);
    if (this.comm_live) {
      this.send({ event: 'sync' });
    }
  }

  /** The current document (set in initialize, which Backbone calls from the constructor). */
  doc!: Json;

  private _set(doc: Json): void {
    this.doc = doc ?? {};
    this.trigger('cdm:doc', this.doc);
  }

  private _onMessage(content: Json): void {
    if (isObject(content.doc)) {
      this._set(content.doc);
    } else if (isObject(content.patch)) {
      this._set(applyPatch(this.doc, content.patch));
    }
  }
}

/** Model of a run (or workflow) view: `doc` is a run document. */
export class RunDocModel extends DocModel {
  defaults(): Json {
    return { ...super.defaults(), _model_name: 'RunDocModel', _view_name: 'RunDocWidgetView' };
  }
}

/** Model of a dashboard or resource gauges: `doc` is a dashboard document. */
export class DashboardModel extends DocModel {
  defaults(): Json {
    return { ...super.defaults(), _model_name: 'DashboardModel', _view_name: 'DashboardWidgetView' };
  }
}

/** What a view drives: a component with update(). */
interface IComponent<M> {
  update(model: M): void;
  dispose(): void;
}

/**
 * A view of a document model: each document is drawn once, by creating the
 * component (wired from the start) or by updating it (then wiring it, which
 * redraws nothing unless what it offers changes).
 */
abstract class DocView<M, C extends IComponent<M>> extends DOMWidgetView {
  render(): void {
    this.el.classList.add('cdm-host');
    const adopt = (this.options as Json | undefined)?.cdmAdopt as C | undefined;
    this._adopted = adopt !== undefined;
    this._component = adopt ?? null;
    this.listenTo(this.model, 'cdm:doc', () => this._refresh());
    this._refresh();
  }

  remove(): void {
    this.stopListening(this.model);
    this.unwire(this._component);
    if (!this._adopted) {
      this._component?.dispose();
    }
    this._component = null;
    return super.remove();
  }

  protected abstract readDoc(doc: Json): M | null;
  /** A new component showing `model`, already wired as `wire` would wire it for `doc`. */
  protected abstract makeComponent(model: M, doc: Json): C;
  protected abstract wire(component: C, doc: Json): void;
  protected abstract unwire(component: C | null): void;

  private _refresh(): void {
    const doc = (this.model as DocModel).doc;
    const parsed = this.readDoc(doc);
    if (parsed === null) {
      return;
    }
    if (this._component === null) {
      this._component = this.makeComponent(parsed, doc);
    } else {
      this._component.update(parsed);
      this.wire(this._component, doc);
    }
  }

  private _component: C | null = null;
  private _adopted = false;
}

/** The custom view of a live run: the run view component, fed by the model, with Cancel. */
export class RunDocWidgetView extends DocView<IDagModel, RunDocView> {
  protected readDoc(doc: Json): IDagModel | null {
    const parsed = parseDag(doc);
    return parsed.ok ? parsed.model : null;
  }

  protected makeComponent(model: IDagModel, doc: Json): RunDocView {
    return new RunDocView(this.el, model, { onCancel: this._cancel(doc) ?? undefined });
  }

  protected wire(component: RunDocView, doc: Json): void {
    component.setCancel(this._cancel(doc));
  }

  protected unwire(component: RunDocView | null): void {
    component?.setCancel(null);
  }

  /** Cancel, while the kernel says the run can be cancelled. */
  private _cancel(doc: Json): (() => void) | null {
    const live = isObject(doc.live) && doc.live.cancellable === true;
    return live ? () => this.send({ event: 'cancel' }) : null;
  }
}

/** The custom view of a dashboard: runs, workflows, resources, sessions. */
export class DashboardWidgetView extends DocView<Json, DashboardDocView> {
  protected readDoc(doc: Json): Json | null {
    return parseDashboard(doc);
  }

  protected makeComponent(doc: Json): DashboardDocView {
    return new DashboardDocView(this.el, doc, this._send);
  }

  protected wire(component: DashboardDocView): void {
    component.setActions(this._send);
  }

  protected unwire(component: DashboardDocView | null): void {
    component?.setActions(null);
  }

  private readonly _send = (event: Json): void => this.send(event);
}

/** The widget module's exports, for IJupyterWidgetRegistry. */
export const widgetExports: ExportMap = {
  RunDocModel,
  RunDocWidgetView: RunDocWidgetView as unknown as typeof WidgetView,
  DashboardModel,
  DashboardWidgetView: DashboardWidgetView as unknown as typeof WidgetView
};

/**
 * Follow the live widget behind an output (see `live.ts`): once its model
 * exists, a view of it is created that adopts the component already drawn,
 * so live updates and Cancel reach the very element the saved output uses.
 */

import { ILiveView, whenLive } from './live.js';

/** Drives `component` from the live model of a given id while it exists. */
export class LiveFollower {
  constructor(private readonly _component: unknown) {}

  /** The model id followed (null: none). */
  get modelId(): string | null {
    return this._id;
  }

  /** Whether a live view drives the component now. */
  get attached(): boolean {
    return this._view !== null;
  }

  /** Follow the model `modelId` (null: stop following). */
  follow(modelId: string | null): void {
    if (modelId === this._id) {
      return;
    }
    this.stop();
    this._id = modelId;
    if (modelId === null) {
      return;
    }
    const generation = ++this._generation;
    this._stopWaiting = whenLive(modelId, model => {
      this._stopWaiting = null;
      void model.widget_manager
        .create_view(model as never, { cdmAdopt: this._component })
        .then(view => {
          if (generation !== this._generation) {
            view.remove();
          } else {
            this._view = view;
          }
        })
        .catch(err => console.warn('codomyrmex-jupyter: cannot follow a live widget', err));
    });
  }

  /** Stop following (the component keeps what it shows). */
  stop(): void {
    this._generation += 1;
    this._stopWaiting?.();
    this._stopWaiting = null;
    this._view?.remove();
    this._view = null;
    this._id = null;
  }

  private _id: string | null = null;
  private _view: ILiveView | null = null;
  private _stopWaiting: (() => void) | null = null;
  private _generation = 0;
}

/**
 * Live widget models by id, so that an output can follow the widget behind it.
 *
 * A live output carries `"live": {"model_id": ...}` in its document. The
 * widget model registers itself here when the widget manager creates it
 * (a comm from the kernel); the output's renderer waits for that id, then
 * lets the widget's own view drive the component it already shows. Without
 * a kernel the id never comes and the output stays the saved document.
 *
 * No widget imports here: the MIME renderer loads without ipywidgets.
 */

/** What a renderer needs of a live widget model. */
export interface ILiveModel {
  readonly model_id: string;
  readonly widget_manager: {
    create_view(model: never, options?: Record<string, unknown>): Promise<ILiveView>;
  };
}

/** What a renderer needs of the view it creates. */
export interface ILiveView {
  remove(): void;
}

const models = new Map<string, ILiveModel>();
const waiting = new Map<string, Set<(model: ILiveModel) => void>>();

/** A widget model is alive. */
export function registerLive(model: ILiveModel): void {
  models.set(model.model_id, model);
  const callbacks = waiting.get(model.model_id);
  waiting.delete(model.model_id);
  callbacks?.forEach(cb => cb(model));
}

/** A widget model is gone (closed by the kernel, or the kernel died). */
export function unregisterLive(modelId: string): void {
  models.delete(modelId);
}

/** The live model of that id, if it exists now. */
export function liveModel(modelId: string): ILiveModel | null {
  return models.get(modelId) ?? null;
}

/**
 * Call `cb` with the model once it exists (now, if it does); returns a
 * function that stops waiting.
 */
export function whenLive(modelId: string, cb: (model: ILiveModel) => void): () => void {
  const now = models.get(modelId);
  if (now !== undefined) {
    cb(now);
    return () => undefined;
  }
  let set = waiting.get(modelId);
  if (set === undefined) {
    set = new Set();
    waiting.set(modelId, set);
  }
  set.add(cb);
  return () => {
    const s = waiting.get(modelId);
    s?.delete(cb);
    if (s !== undefined && s.size === 0) {
      waiting.delete(modelId);
    }
  };
}

/** How many callbacks wait (tests). */
export function waitingCount(): number {
  let n = 0;
  waiting.forEach(s => (n += s.size));
  return n;
}

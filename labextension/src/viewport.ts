/**
 * Pan and zoom arithmetic for the DAG view: a transform `translate(x, y) scale(k)`
 * applied to the drawing's viewport group.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

/** Screen = drawing * k + (x, y). */
export interface IViewTransform {
  x: number;
  y: number;
  k: number;
}

export const MIN_SCALE = 0.02;
export const MAX_SCALE = 4;
/** Zoom step of the buttons and keys. */
export const ZOOM_STEP = 1.25;
/** The first view of a large graph is never smaller than this (the Fit button goes further). */
export const MIN_INITIAL_SCALE = 0.35;

export const IDENTITY: Readonly<IViewTransform> = { x: 0, y: 0, k: 1 };

/** Clamp a scale into [MIN_SCALE, MAX_SCALE]. */
export function clampScale(k: number): number {
  return Math.min(MAX_SCALE, Math.max(MIN_SCALE, k));
}

/** Zoom by `factor` keeping the screen point (px, py) fixed. */
export function zoomAt(t: IViewTransform, factor: number, px: number, py: number): IViewTransform {
  const k = clampScale(t.k * factor);
  const f = k / t.k;
  return { k, x: px - (px - t.x) * f, y: py - (py - t.y) * f };
}

/** Move by a screen offset. */
export function panBy(t: IViewTransform, dx: number, dy: number): IViewTransform {
  return { k: t.k, x: t.x + dx, y: t.y + dy };
}

/**
 * The transform that fits a drawing into a view, centred, never enlarged past
 * `maxScale`. When the fitting scale is under `minScale`, the drawing is shown
 * at `minScale` from its top-left corner instead.
 */
export function fitTransform(
  width: number,
  height: number,
  viewWidth: number,
  viewHeight: number,
  maxScale = 1,
  minScale = MIN_SCALE
): IViewTransform {
  if (width <= 0 || height <= 0 || viewWidth <= 0 || viewHeight <= 0) {
    return { ...IDENTITY };
  }
  const fit = Math.min(viewWidth / width, viewHeight / height, maxScale);
  if (fit < minScale) {
    return { x: 0, y: 0, k: clampScale(minScale) };
  }
  const k = clampScale(fit);
  return { k, x: (viewWidth - width * k) / 2, y: (viewHeight - height * k) / 2 };
}

/** Zoom factor for a wheel event (`deltaMode` 0 = pixels, 1 = lines, 2 = pages). */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const pixels = deltaMode === 1 ? deltaY * 16 : deltaMode === 2 ? deltaY * 400 : deltaY;
  return Math.exp(-Math.max(-300, Math.min(300, pixels)) * 0.0015);
}

/** SVG `transform` attribute value. */
export function transformAttr(t: IViewTransform): string {
  const r = (v: number): number => Math.round(v * 1000) / 1000;
  return `translate(${r(t.x)},${r(t.y)}) scale(${r(t.k)})`;
}

/** Height in pixels of the canvas that shows a drawing of the given height. */
export function canvasHeight(drawingHeight: number, min = 200, max = 460): number {
  return Math.round(Math.min(max, Math.max(min, drawingHeight)));
}

/**
 * Guards for reading JSON documents and API answers.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Whether a value is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, or null. */
export function optNum(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

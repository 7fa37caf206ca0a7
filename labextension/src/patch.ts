/**
 * Live updates of a run document: the kernel sends the changed steps only,
 * as `{"run": {...top-level keys...}, "nodes": [[index, node], ...]}`.
 *
 * Pure module: no DOM and no JupyterLab imports, so `node --test` runs it.
 */

import { isObject, Json } from './json.js';

/** The document with a patch applied (a new top-level object; nodes replaced by index). */
export function applyPatch(doc: Json, patch: Json): Json {
  const out: Json = { ...doc };
  if (isObject(patch.run)) {
    Object.assign(out, patch.run);
  }
  if (Array.isArray(patch.nodes) && Array.isArray(doc.nodes)) {
    const nodes = [...doc.nodes];
    for (const item of patch.nodes) {
      if (Array.isArray(item) && typeof item[0] === 'number' && item[0] >= 0 && item[0] < nodes.length) {
        nodes[item[0]] = item[1];
      }
    }
    out.nodes = nodes;
  }
  return out;
}

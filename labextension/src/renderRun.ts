/**
 * Draw a run document with the renderer the application has for our MIME
 * type: the same one a notebook output uses (mime.ts), looked up in the
 * rendermime registry rather than imported, so the Runs panel always draws
 * what the notebook draws.
 */

import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { MIME_TYPE } from './model.js';

/** A renderer for run documents, or null when none is registered. */
export function createRunRenderer(rendermime: IRenderMimeRegistry): IRenderMime.IRenderer | null {
  const mimeType = rendermime.preferredMimeType({ [MIME_TYPE]: {} }, 'any');
  return mimeType === MIME_TYPE ? rendermime.createRenderer(MIME_TYPE) : null;
}

/** Render ``document`` into ``renderer`` (a saved output's bundle: the document and a text line). */
export function renderRunDocument(renderer: IRenderMime.IRenderer, document: Record<string, unknown>): Promise<void> {
  const text = `${String(document.workflow ?? 'run')} ${String(document.status ?? '')}`;
  const model = new MimeModel({ data: { [MIME_TYPE]: document as never, 'text/plain': text }, trusted: true });
  return renderer.renderModel(model);
}

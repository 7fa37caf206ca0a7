/**
 * codomyrmex-jupyter: JupyterLab plugins. The DAG renderer is the mime
 * extension in mime.ts (package.json `jupyterlab.mimeExtension`).
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';

import { activateStatusItem } from './status.js';

/** Status-bar item with the current notebook kernel's codomyrmex activity. */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'codomyrmex-jupyter:status',
  description: "Shows the current notebook kernel's codomyrmex workflow runs in the status bar.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar],
  activate: (_app: JupyterFrontEnd, tracker: INotebookTracker, statusBar: IStatusBar | null) =>
    activateStatusItem(tracker, statusBar)
};

const plugins: JupyterFrontEndPlugin<void>[] = [statusPlugin];

export default plugins;

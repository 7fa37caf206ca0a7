/**
 * codomyrmex-jupyter: JupyterLab plugins. The output renderers are the mime
 * extension in mime.ts (package.json `jupyterlab.mimeExtension`).
 */

import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IStatusBar } from '@jupyterlab/statusbar';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';

import { activateStatusItem } from './status.js';
import { MODULE_NAME, MODULE_VERSION, widgetExports } from './widget.js';

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

/** The custom widgets (live run views, dashboards) of the `codomyrmex-jupyter` widget module. */
const widgetPlugin: JupyterFrontEndPlugin<void> = {
  id: 'codomyrmex-jupyter:widgets',
  description: 'Registers the live run view and dashboard widgets with the Jupyter widget manager.',
  autoStart: true,
  optional: [IJupyterWidgetRegistry],
  activate: (_app: JupyterFrontEnd, registry: IJupyterWidgetRegistry | null) => {
    if (registry === null) {
      console.warn('codomyrmex-jupyter: no Jupyter widget manager; live views show their saved form');
      return;
    }
    registry.registerWidget({ name: MODULE_NAME, version: MODULE_VERSION, exports: widgetExports });
  }
};

const plugins: JupyterFrontEndPlugin<void>[] = [statusPlugin, widgetPlugin];

export default plugins;

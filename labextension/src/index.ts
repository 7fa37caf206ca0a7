/**
 * codomyrmex-jupyter: JupyterLab plugins. The output renderers are the mime
 * extension in mime.ts (package.json `jupyterlab.mimeExtension`).
 */

import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IStatusBar } from '@jupyterlab/statusbar';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';

import { activateRuns, COMMANDS } from './runsPlugin.js';
import { activateStatusItem } from './status.js';
import { MODULE_NAME, MODULE_VERSION, widgetExports } from './widget.js';

/** Status-bar item with the current notebook kernel's codomyrmex activity. */
const statusPlugin: JupyterFrontEndPlugin<void> = {
  id: 'codomyrmex-jupyter:status',
  description: "Shows the current notebook kernel's codomyrmex workflow runs in the status bar.",
  autoStart: true,
  requires: [INotebookTracker],
  optional: [IStatusBar],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, statusBar: IStatusBar | null) =>
    activateStatusItem(tracker, statusBar, () => {
      if (app.commands.hasCommand(COMMANDS.openPanel)) {
        void app.commands.execute(COMMANDS.openPanel);
      }
    })
};

/** The Runs panel: every run of every kernel, from the server extension. */
const runsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'codomyrmex-jupyter:runs',
  description: 'The Runs panel: every workflow run recorded in the store, live, with run views and comparisons.',
  autoStart: true,
  requires: [IRenderMimeRegistry],
  optional: [ILabShell, INotebookTracker, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    labShell: ILabShell | null,
    tracker: INotebookTracker | null,
    palette: ICommandPalette | null
  ) => {
    activateRuns(app, rendermime, labShell, tracker, palette);
  }
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

const plugins: JupyterFrontEndPlugin<void>[] = [statusPlugin, runsPlugin, widgetPlugin];

export default plugins;

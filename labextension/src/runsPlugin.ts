/**
 * The Runs panel plugin: the panel in the left sidebar (JupyterLab) or the
 * left side panel (Notebook 7), and the commands that open it, open one run
 * and compare two. A run opens in a main-area tab in JupyterLab; Notebook 7
 * keeps one document in its main area, so there it opens in the right panel.
 */

import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget } from '@jupyterlab/apputils';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { CompareView } from './compareView.js';
import { RunsClient } from './runsClient.js';
import { RUNS_PANEL_ID, RunsPanel } from './runsPanel.js';
import { RunTab } from './runTab.js';

export const COMMANDS = {
  openPanel: 'codomyrmex:open-runs',
  openRun: 'codomyrmex:open-run',
  compare: 'codomyrmex:compare-runs'
} as const;

const DETAILS_ID = 'codomyrmex-run-details';

/** A small DAG: three nodes, two edges (the sidebar tab's icon). */
export const runsIcon = new LabIcon({
  name: 'codomyrmex-jupyter:runs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">' +
    '<g class="jp-icon3" fill="#616161"><circle cx="3" cy="8" r="2.2"/><circle cx="13" cy="3.5" r="2.2"/>' +
    '<circle cx="13" cy="12.5" r="2.2"/></g><g class="jp-icon3" stroke="#616161" stroke-width="1.3" fill="none">' +
    '<path d="M5 7.2 11 4.2M5 8.8l6 3"/></g></svg>'
});

/** Put a view in the main area (Lab) or the right panel (Notebook 7), reusing an open one. */
function show(app: JupyterFrontEnd, labShell: ILabShell | null, id: string, make: () => Widget): void {
  if (labShell !== null) {
    const open = Array.from(app.shell.widgets('main')).find(w => w.id === id);
    if (open) {
      app.shell.activateById(id);
      return;
    }
    const content = make();
    const tab = new MainAreaWidget({ content });
    tab.id = id;
    tab.title.label = content.title.label;
    tab.title.icon = runsIcon;
    content.title.changed.connect(() => {
      tab.title.label = content.title.label;
      tab.title.caption = content.title.caption;
    });
    app.shell.add(tab, 'main');
    app.shell.activateById(id);
    return;
  }
  let details = Array.from(app.shell.widgets('right' as never)).find(w => w.id === DETAILS_ID) as Panel | undefined;
  if (!details) {
    details = new Panel();
    details.id = DETAILS_ID;
    details.addClass('cdm-runtab-details');
    details.title.caption = 'Workflow run';
    details.title.icon = runsIcon;
    app.shell.add(details, 'right', { rank: 900 });
  }
  details.widgets.slice().forEach(w => w.dispose());
  details.addWidget(make());
  app.shell.activateById(DETAILS_ID);
}

export function activateRuns(
  app: JupyterFrontEnd,
  rendermime: IRenderMimeRegistry,
  labShell: ILabShell | null,
  tracker: INotebookTracker | null,
  palette: ICommandPalette | null
): RunsPanel {
  const client = new RunsClient(app.serviceManager.serverSettings);
  const panel = new RunsPanel(client, {
    open: runId => void app.commands.execute(COMMANDS.openRun, { runId }),
    compare: (a, b) => void app.commands.execute(COMMANDS.compare, { a, b })
  });
  panel.title.icon = runsIcon;
  app.shell.add(panel, 'left', { rank: 650 });

  app.commands.addCommand(COMMANDS.openPanel, {
    label: 'Show Workflow Runs',
    caption: 'Open the Runs panel: every workflow run of every kernel',
    execute: () => {
      app.shell.activateById(RUNS_PANEL_ID);
      panel.wake();
    }
  });
  app.commands.addCommand(COMMANDS.openRun, {
    label: 'Open Workflow Run',
    execute: args => {
      const runId = String(args.runId ?? '');
      if (runId) {
        show(app, labShell, `codomyrmex-run-${runId}`, () => new RunTab(runId, client, rendermime));
      }
    }
  });
  app.commands.addCommand(COMMANDS.compare, {
    label: 'Compare Two Workflow Runs',
    execute: args => {
      const a = String(args.a ?? '');
      const b = String(args.b ?? '');
      if (a && b) {
        show(app, labShell, `codomyrmex-compare-${a}-${b}`, () => new CompareView(a, b, client, rendermime));
      }
    }
  });
  palette?.addItem({ command: COMMANDS.openPanel, category: 'codomyrmex' });

  // A kernel of this page that gets busy or idle may have started or ended a run: look now.
  tracker?.widgetAdded.connect((_, nb) => {
    nb.sessionContext.statusChanged.connect((__, status) => {
      if (status === 'busy' || status === 'idle') {
        panel.wake();
      }
    });
  });
  return panel;
}

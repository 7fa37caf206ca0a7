/**
 * Status-bar item showing the codomyrmex activity of the current notebook's
 * kernel ("codomyrmex: 2 running, 1 failed"), fed live by the kernel through
 * the `codomyrmex.status` comm. Hidden while the kernel has no codomyrmex
 * status publisher.
 *
 * Two ways to connect, because either side may come first:
 * - the kernel opens a comm (`start_status_comm`): the target registered on
 *   every notebook kernel receives it;
 * - the frontend opens one (`{request: 'status'}`) when a kernel connects and
 *   after each execute reply while it has none, so a page reload reconnects.
 *   It first asks the kernel (`comm_info`) whether a publisher exists, so
 *   kernels without codomyrmex see no stray comm_open.
 */

import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';
import { IStatusBar } from '@jupyterlab/statusbar';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  formatStatus,
  formatTooltip,
  IStatusMessage,
  parseStatusMessage,
  STATUS_COMM_TARGET,
  STATUS_REQUEST,
  statusTone
} from './statusText.js';

type Connection = Kernel.IKernelConnection;

/** Latest status per kernel connection, and which one is current. */
export class StatusModel {
  /** Emitted whenever the shown status or its visibility may have changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The current notebook kernel's status, or null when it has none. */
  get current(): IStatusMessage | null {
    return this._kernel ? this._status.get(this._kernel) ?? null : null;
  }

  /** Whether the item should be shown. */
  get active(): boolean {
    return this.current !== null;
  }

  /** The item's text (empty when inactive). */
  get text(): string {
    const msg = this.current;
    return msg ? formatStatus(msg) : '';
  }

  setCurrent(kernel: Connection | null): void {
    if (kernel !== this._kernel) {
      this._kernel = kernel;
      this._changed.emit();
    }
  }

  update(kernel: Connection, msg: IStatusMessage): void {
    this._status.set(kernel, msg);
    if (kernel === this._kernel) {
      this._changed.emit();
    }
  }

  clear(kernel: Connection): void {
    if (this._status.delete(kernel) && kernel === this._kernel) {
      this._changed.emit();
    }
  }

  private _kernel: Connection | null = null;
  private _status = new Map<Connection, IStatusMessage>();
  private _changed = new Signal<this, void>(this);
}

/** The status-bar widget (class `cdm-status`); a click calls `onClick` (opens the Runs panel). */
export class StatusView extends Widget {
  constructor(model: StatusModel, onClick?: () => void) {
    super();
    this._model = model;
    this.addClass('cdm-status');
    this.addClass('jp-StatusBar-TextItem');
    if (onClick) {
      this.addClass('cdm-status-clickable');
      this.node.addEventListener('click', onClick);
    }
    model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    this._model.changed.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const msg = this._model.current;
    this.node.textContent = this._model.text;
    this.node.title = msg ? `${formatTooltip(msg)}\nClick to open the Runs panel.` : '';
    if (msg) {
      this.node.dataset.tone = statusTone(msg);
    } else {
      delete this.node.dataset.tone;
    }
  }

  private readonly _model: StatusModel;
}

interface IKernelState {
  comms: Set<Kernel.IComm>;
  probing: boolean;
  off: (() => void)[];
}

/** Connects every notebook kernel to the model through the status comm. */
export class StatusBridge {
  constructor(tracker: INotebookTracker, model: StatusModel) {
    this._tracker = tracker;
    this._model = model;
    tracker.widgetAdded.connect((_, panel) => this._watchPanel(panel));
    tracker.currentChanged.connect(() => this._refreshCurrent());
    tracker.forEach(panel => this._watchPanel(panel));
    this._refreshCurrent();
  }

  private _watchPanel(panel: NotebookPanel): void {
    const ctx = panel.sessionContext;
    const onKernel = (): void => {
      const kernel = ctx.session?.kernel ?? null;
      if (kernel) {
        this._attach(kernel);
      }
      this._refreshCurrent();
    };
    ctx.kernelChanged.connect(onKernel);
    panel.disposed.connect(() => ctx.kernelChanged.disconnect(onKernel));
    onKernel();
  }

  private _refreshCurrent(): void {
    const kernel = this._tracker.currentWidget?.sessionContext.session?.kernel ?? null;
    this._model.setCurrent(kernel && !kernel.isDisposed ? kernel : null);
  }

  private _attach(kernel: Connection): void {
    if (this._kernels.has(kernel) || kernel.isDisposed || !kernel.handleComms) {
      return;
    }
    const state: IKernelState = { comms: new Set(), probing: false, off: [] };
    this._kernels.set(kernel, state);
    kernel.registerCommTarget(STATUS_COMM_TARGET, (comm, msg) => {
      this._adopt(kernel, state, comm);
      this._receive(kernel, msg.content.data);
    });
    const onConnection = (_: Connection, status: Kernel.ConnectionStatus): void => {
      if (status === 'connected') {
        void this._probe(kernel, state);
      } else if (status === 'disconnected') {
        this._reset(kernel, state);
      }
    };
    const onStatus = (_: Connection, status: KernelMessage.Status): void => {
      if (status === 'restarting' || status === 'autorestarting' || status === 'dead') {
        this._reset(kernel, state);
      }
    };
    const onMessage = (_: Connection, args: Kernel.IAnyMessageArgs): void => {
      if (args.direction === 'recv' && args.msg.header.msg_type === 'execute_reply') {
        void this._probe(kernel, state);
      }
    };
    const onDisposed = (): void => this._detach(kernel, state);
    kernel.connectionStatusChanged.connect(onConnection);
    kernel.statusChanged.connect(onStatus);
    kernel.anyMessage.connect(onMessage);
    kernel.disposed.connect(onDisposed);
    state.off.push(
      () => kernel.connectionStatusChanged.disconnect(onConnection),
      () => kernel.statusChanged.disconnect(onStatus),
      () => kernel.anyMessage.disconnect(onMessage),
      () => kernel.disposed.disconnect(onDisposed)
    );
    if (kernel.connectionStatus === 'connected') {
      void this._probe(kernel, state);
    }
  }

  private _detach(kernel: Connection, state: IKernelState): void {
    state.off.forEach(off => off());
    state.comms.clear();
    this._kernels.delete(kernel);
    this._model.clear(kernel);
    this._refreshCurrent();
  }

  /** The kernel went away (restart, death): its comms are gone. */
  private _reset(kernel: Connection, state: IKernelState): void {
    state.comms.clear();
    this._model.clear(kernel);
  }

  private _adopt(kernel: Connection, state: IKernelState, comm: Kernel.IComm): void {
    state.comms.add(comm);
    comm.onMsg = msg => this._receive(kernel, msg.content.data);
    comm.onClose = () => {
      state.comms.delete(comm);
      if (state.comms.size === 0) {
        this._model.clear(kernel);
      }
    };
  }

  private _receive(kernel: Connection, data: unknown): void {
    const msg = parseStatusMessage(data);
    if (msg !== null) {
      this._model.update(kernel, msg);
    }
  }

  /** Open a frontend comm if the kernel has a publisher and none is open yet. */
  private async _probe(kernel: Connection, state: IKernelState): Promise<void> {
    if (state.probing || state.comms.size > 0 || kernel.isDisposed) {
      return;
    }
    state.probing = true;
    try {
      if (!(await hasPublisher(kernel)) || state.comms.size > 0 || kernel.isDisposed) {
        return;
      }
      const comm = kernel.createComm(STATUS_COMM_TARGET);
      this._adopt(kernel, state, comm);
      comm.open({ ...STATUS_REQUEST }).done.catch((reason: unknown) => {
        console.debug('codomyrmex: the status comm did not open', reason);
      });
    } catch (reason) {
      console.debug('codomyrmex: status comm probe failed', reason);
    } finally {
      state.probing = false;
    }
  }

  private readonly _tracker: INotebookTracker;
  private readonly _model: StatusModel;
  private readonly _kernels = new Map<Connection, IKernelState>();
}

/**
 * Whether the kernel has an open `codomyrmex.status` comm (its publisher runs).
 * When the kernel cannot say, assume yes and let the comm open decide.
 */
async function hasPublisher(kernel: Connection): Promise<boolean> {
  try {
    const reply = await kernel.requestCommInfo({ target_name: STATUS_COMM_TARGET });
    const content = reply.content;
    if (content.status !== 'ok') {
      return true;
    }
    return Object.values(content.comms).some(c => c.target_name === STATUS_COMM_TARGET);
  } catch (reason) {
    console.debug('codomyrmex: comm_info request failed', reason);
    return true;
  }
}

/**
 * Activate the status item (used by the plugin in index.ts). Without a
 * status bar (Notebook 7) the same indicator goes into each notebook's
 * toolbar.
 */
export function activateStatusItem(
  tracker: INotebookTracker,
  statusBar: IStatusBar | null,
  onClick?: () => void
): void {
  // The bridge answers the kernel's comm even where there is no status bar
  // (Notebook 7): a comm the frontend does not know is an error in the console.
  const model = new StatusModel();
  new StatusBridge(tracker, model);
  if (statusBar === null) {
    const addToToolbar = (panel: NotebookPanel): void => {
      const view = new StatusView(model, onClick);
      view.addClass('cdm-status-toolbar');
      // Beside the cell type (once the toolbar has its items), so a narrow
      // toolbar does not fold it into its overflow menu first.
      void panel.revealed.then(() => {
        if (!panel.toolbar.insertAfter('cellType', 'codomyrmex-status', view)) {
          panel.toolbar.addItem('codomyrmex-status', view);
        }
      });
    };
    tracker.forEach(addToToolbar);
    tracker.widgetAdded.connect((_, panel) => addToToolbar(panel));
    return;
  }
  const view = new StatusView(model, onClick);
  statusBar.registerStatusItem('codomyrmex-jupyter:status', {
    item: view,
    align: 'left',
    rank: 100,
    isActive: () => model.active,
    activeStateChanged: model.changed
  });
}

/**
 * Calls to the server extension's REST API, through `ServerConnection`, so
 * every request carries the page's token or login cookie and the XSRF
 * header like the rest of Jupyter's own calls.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { IRunDiff, parseRunDiff } from './runDiff.js';
import { IRunDetail, IRunsPage, parseRunDetail, parseRunsPage, RUNS_API } from './runsText.js';

/** Filters and page of a runs request. */
export interface IRunsQuery {
  status?: string;
  workflow?: string;
  limit?: number;
}

export class RunsClient {
  constructor(settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {
    this._settings = settings;
  }

  /** A page of runs, newest first. */
  async runs(query: IRunsQuery = {}): Promise<IRunsPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') {
        params.set(key, String(value));
      }
    }
    const qs = params.toString();
    return parseRunsPage(await this._request(`runs${qs ? `?${qs}` : ''}`));
  }

  /** One run and its run document. */
  async run(runId: string): Promise<IRunDetail> {
    return parseRunDetail(await this._request(`runs/${encodeURIComponent(runId)}`));
  }

  /** How run b differs from run a (steps, code, parameters, states, results, environment). */
  async diff(a: string, b: string): Promise<IRunDiff> {
    return parseRunDiff(await this._request(`runs/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`));
  }

  /** Ask the run's kernel to cancel it. */
  async cancel(runId: string): Promise<void> {
    await this._request(`runs/${encodeURIComponent(runId)}/cancel`, { method: 'POST' });
  }

  private async _request(path: string, init: RequestInit = {}): Promise<unknown> {
    const url = URLExt.join(this._settings.baseUrl, RUNS_API, path);
    const response = await ServerConnection.makeRequest(url, init, this._settings);
    const text = await response.text();
    let body: unknown = null;
    try {
      body = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      body = null;
    }
    if (!response.ok) {
      const message =
        typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string'
          ? (body as { message: string }).message
          : `${response.status} ${response.statusText}`;
      throw new Error(message);
    }
    return body;
  }

  private readonly _settings: ServerConnection.ISettings;
}

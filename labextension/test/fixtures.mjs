// Shared test documents (version 1 of application/vnd.codomyrmex.dag+json).

export const STATES = {
  pending: '#d0d7de',
  ready: '#9ecbff',
  running: '#0969da',
  retrying: '#bf8700',
  succeeded: '#1a7f37',
  failed: '#cf222e',
  skipped: '#8c959f',
  cancelled: '#6e7781',
  cached: '#8250df'
};

function node(id, layer, row, state, extra = {}) {
  return {
    id, label: id, module: 'notebook.etl', action: id, state, layer, x: layer, y: row,
    duration: state === 'succeeded' ? 0.012 : null, attempts: 1, started: null, ended: null,
    error: null, ...extra
  };
}

/** Six steps with mixed states, positions given. */
export function sixNodeDoc() {
  return {
    version: 1,
    kind: 'run',
    workflow: 'etl',
    run_id: '2f6c1d0e9b8a4c3d',
    status: 'failed',
    direction: 'LR',
    nodes: [
      node('load', 0, 0, 'succeeded'),
      node('clean', 1, 0, 'succeeded'),
      node('validate', 1, 1, 'failed', { error: 'ValueError: bad input', attempts: 3, duration: 1.5 }),
      node('train', 2, 0, 'running'),
      node('report', 3, 0, 'skipped'),
      node('archive', 2, 1, 'cached')
    ],
    edges: [
      ['load', 'clean'], ['load', 'validate'], ['clean', 'train'],
      ['validate', 'report'], ['train', 'report'], ['clean', 'archive']
    ],
    states: { ...STATES },
    counts: { succeeded: 2, failed: 1, running: 1, skipped: 1, cached: 1 },
    truncated: false,
    total_nodes: 6,
    future_key: { ignored: true }
  };
}

/** A layered graph of `n` nodes (about 40 per layer), each depending on up to 2 of the layer before. */
export function bigDoc(n = 2000, withPositions = true) {
  const perLayer = 40;
  const nodes = [];
  const edges = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / perLayer);
    const row = i % perLayer;
    const nd = node(`s${i}`, layer, row, ['succeeded', 'failed', 'running', 'pending'][i % 4]);
    if (!withPositions) {
      delete nd.x;
      delete nd.y;
      delete nd.layer;
    }
    nodes.push(nd);
    if (layer > 0) {
      edges.push([`s${i - perLayer}`, `s${i}`]);
      if (row > 0) {
        edges.push([`s${i - perLayer - 1}`, `s${i}`]);
      }
    }
  }
  return { version: 1, kind: 'workflow', workflow: 'big', run_id: null, status: null,
    direction: 'LR', nodes, edges, states: { ...STATES }, counts: {}, truncated: false,
    total_nodes: n };
}

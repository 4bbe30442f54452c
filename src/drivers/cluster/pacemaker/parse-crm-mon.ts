// Turns crm_mon's XML into a ClusterSnapshot. Two dialects: `crm_mon --output-as=xml` (root <pacemaker-result>,
// Pacemaker >= 2.0.3) and the legacy `crm_mon -X` / `--as-xml` (root <crm_mon>). Both carry the same <summary> and
// <nodes> elements; only the new one reports errors in <status code=...>.

import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AppError } from '../../../core/errors.ts';
import type { ClusterNode, ClusterNodeType, ClusterSnapshot, FenceEvent, FenceStatus } from '../../../core/ports/cluster.ts';

/** crm_mon could not be run, or printed nothing we can read: the cluster state is not known. */
export class CrmMonParseError extends AppError {
  readonly code = 'CRM_MON_UNREADABLE';
}

type El = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  // Elements that may repeat must always come back as arrays, even when there is just one.
  isArray: (name) => ['node', 'fence_event', 'error'].includes(name),
  parseAttributeValue: false,
  parseTagValue: false,
});

const isEl = (v: unknown): v is El => typeof v === 'object' && v !== null && !Array.isArray(v);
// An element without attributes or children (<summary/>) comes back as '': still present, just empty.
const child = (el: El, name: string): El | undefined => (isEl(el[name]) ? el[name] : el[name] === '' ? {} : undefined);
const children = (el: El | undefined, name: string): El[] => (el && Array.isArray(el[name]) ? (el[name] as unknown[]).filter(isEl) : []);
const attr = (el: El | undefined, name: string): string | undefined => {
  const v = el?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};
const flag = (el: El, name: string): boolean => attr(el, name) === 'true';

const NODE_TYPES: readonly ClusterNodeType[] = ['member', 'remote', 'guest', 'ping'];

function parseNode(el: El): ClusterNode {
  const name = attr(el, 'name');
  if (!name) throw new CrmMonParseError('a <node> in <nodes> has no name attribute');
  const type = attr(el, 'type') as ClusterNodeType | undefined;
  return {
    name,
    type: type && NODE_TYPES.includes(type) ? type : 'unknown',
    online: flag(el, 'online'),
    unclean: flag(el, 'unclean'),
    pending: flag(el, 'pending'),
    standby: flag(el, 'standby'),
    maintenance: flag(el, 'maintenance'),
    shuttingDown: flag(el, 'shutdown'),
    expectedUp: flag(el, 'expected_up'),
  };
}

function parseFenceEvent(el: El): FenceEvent {
  const s = attr(el, 'status');
  const status: FenceStatus = s === 'success' || s === 'failed' || s === 'pending' ? s : 'unknown';
  return {
    target: attr(el, 'target') ?? '',
    action: attr(el, 'action') ?? '',
    status,
    completed: attr(el, 'completed') ?? null,
    origin: attr(el, 'origin') ?? null,
    delegate: attr(el, 'delegate') ?? null,
  };
}

/**
 * crm_mon lists successful fencing only at --fence-history level 2 or more, and leaves <fence_history> out when it
 * is empty. So an absent element means "no fencing" only if the request asked for successes; otherwise "unknown".
 */
function requestedSuccessfulFencing(request: string | undefined): boolean {
  const m = /--fence-history(?:=(\d))?/.exec(request ?? '');
  return m !== null && Number(m[1] ?? '1') >= 2;
}

/** Parses crm_mon XML output. `takenAt` is when it was produced (the caller's clock). */
export function parseCrmMonXml(xml: string, takenAt: Date): ClusterSnapshot {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new CrmMonParseError(`crm_mon output is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  const doc = parser.parse(xml) as El;
  const root = child(doc, 'pacemaker-result') ?? child(doc, 'crm_mon');
  if (!root) {
    const got = Object.keys(doc).find((k) => !k.startsWith('?')) ?? 'nothing';
    const hint = got === 'cib' ? ' (a CIB from cibadmin --query: render it with CIB_file=FILE crm_mon -1 --output-as=xml)' : '';
    throw new CrmMonParseError(`unexpected crm_mon output: the root element must be <pacemaker-result> or <crm_mon>, got <${got}>${hint}`);
  }
  const status = child(root, 'status');
  const code = attr(status, 'code');
  const errorList = status ? child(status, 'errors')?.error : undefined;
  const errors = Array.isArray(errorList) ? errorList.filter((e): e is string => typeof e === 'string') : [];
  const detail = errors.length ? `: ${errors.join('; ')}` : '';
  if (code !== undefined && code !== '0') {
    throw new CrmMonParseError(`crm_mon reported status ${code} (${attr(status, 'message') ?? 'no message'})${detail}`);
  }
  const summary = child(root, 'summary');
  const nodesEl = child(root, 'nodes');
  if (!summary || !nodesEl) {
    // crm_mon sometimes says OK and lists its errors anyway (e.g. an unreadable CIB_file).
    throw new CrmMonParseError(`crm_mon output has no <summary> or <nodes>: the cluster state is not known${detail}`);
  }
  const dc = child(summary, 'current_dc');
  const options = child(summary, 'cluster_options');
  const fenceEl = root['fence_history'];
  const fenceHistory =
    fenceEl !== undefined
      ? isEl(fenceEl)
        ? children(fenceEl, 'fence_event').map(parseFenceEvent)
        : []
      : requestedSuccessfulFencing(attr(root, 'request'))
        ? [] // crm_mon omits the element when there is nothing to show
        : null;
  const stonith = attr(options, 'stonith-enabled');
  return {
    takenAt,
    // No DC means this partition has not even elected a coordinator: treat it as without quorum.
    quorate: attr(dc, 'present') === 'true' && attr(dc, 'with_quorum') === 'true',
    maintenanceMode: attr(options, 'maintenance-mode') === 'true',
    stonithEnabled: stonith === undefined ? null : stonith === 'true',
    nodes: children(nodesEl, 'node').map(parseNode),
    fenceHistory,
  };
}

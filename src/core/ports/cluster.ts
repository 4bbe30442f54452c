// What the host monitor needs to know about cluster membership, whatever tool provides it (Pacemaker's crm_mon
// now; Consul later). A driver returns one snapshot per call; the host monitor keeps the history and decides.

export type ClusterNodeType = 'member' | 'remote' | 'guest' | 'ping' | 'unknown';

export interface ClusterNode {
  /** The node's name in the cluster (Pacemaker's uname); Masakari uses it as the compute host name. */
  name: string;
  type: ClusterNodeType;
  /** The cluster sees the node up and running its cluster services. */
  online: boolean;
  /** The node failed and must be fenced before anything it ran may run elsewhere. */
  unclean: boolean;
  /** The node is joining (not yet a full member). */
  pending: boolean;
  standby: boolean;
  /** Node-level maintenance: the cluster manager does not manage anything on it. */
  maintenance: boolean;
  /** The node is shutting down its cluster services cleanly. */
  shuttingDown: boolean;
  /** The cluster expects the node to be up (false after a clean shutdown or a completed fencing). */
  expectedUp: boolean;
}

export type FenceStatus = 'success' | 'failed' | 'pending' | 'unknown';

export interface FenceEvent {
  target: string;
  /** reboot, off, on... */
  action: string;
  status: FenceStatus;
  /** The completion time as the cluster printed it; null while pending. */
  completed: string | null;
  origin: string | null;
  delegate: string | null;
}

export interface ClusterSnapshot {
  /** When the driver took the snapshot (the monitor's clock, not the cluster's). */
  takenAt: Date;
  /**
   * Whether the partition this node belongs to has quorum. Without quorum this node may be the isolated one, so
   * nothing it sees about its peers may be acted on (Masakari LP#1878548).
   */
  quorate: boolean;
  /** Cluster-wide maintenance mode: the cluster manager manages nothing, so neither do we. */
  maintenanceMode: boolean;
  stonithEnabled: boolean | null;
  nodes: ClusterNode[];
  /** Fencing history, newest first; null when the source does not provide it (a saved CIB, legacy crm_mon -X). */
  fenceHistory: FenceEvent[] | null;
}

export interface ClusterDriver {
  readonly name: string;
  /** One look at the cluster. Rejects with a clear message when the tool fails or answers nonsense. */
  snapshot(signal?: AbortSignal): Promise<ClusterSnapshot>;
}

import { z } from 'zod';
import { seconds } from '../types.ts';

// Safety around host failures reported by a cluster (docs/pacemaker.md):
//  - pacemaker_evidence: the controller reads Pacemaker's fence history (crm_mon) as evidence that a failed host is
//    fenced, before any fencer of its own (fencing.hosts). Only for a controller that can run crm_mon against the
//    cluster (it runs on a cluster node, or `command` reaches one, e.g. through ssh).
//  - mass_failure: when too many hosts of one segment fail together, that is a partition or a switch failure rather
//    than host failures; evacuating would move half the cloud onto the other half. Red Hat's InstanceHA stops above
//    50%. Host recoveries of that segment then end in `error` ("paused: ..."), to be retried by an operator.

export const clusterSafetySection = z.strictObject({
  pacemaker_evidence: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** argv printing crm_mon XML with the fence history (level 2 or more lists successful fencing). */
      command: z.array(z.string().min(1)).min(1).default(['crm_mon', '-1', '--output-as=xml', '--fence-history=3']),
      /**
       * A successful fencing counts as evidence only if it completed after the failure being recovered (the
       * notification's generated_time), less this tolerance: an earlier fencing belongs to an earlier failure of the
       * same node. The fencing of this failure normally completes BEFORE generated_time: the host monitor reports a
       * node only once Pacemaker fenced it, up to monitoring_interval x monitoring_samples later (60 s by default),
       * and the monitor's clock may differ from the cluster's. So: at least that report delay plus the clock skew.
       */
      failure_time_tolerance_seconds: seconds(120),
      /**
       * A successful fencing counts as evidence only if it completed at most this long ago: an old fencing of the
       * same node says nothing about today's failure. Long enough for the engine's retry of an `error`
       * (process_unfinished_notifications_interval); a retry later than this needs a new fencing or a fencer.
       */
      max_age_seconds: seconds(600),
      timeout_seconds: seconds(30),
    })
    .prefault({}),
  mass_failure: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Pause when MORE than this share of the segment's hosts failed within window_seconds (0.5: 2 of 3, 3 of 4). */
      max_failed_share: z.number().gt(0).max(1).default(0.5),
      /**
       * Never pause for fewer failed hosts than this, whatever their share: the only host of a segment failing is one
       * failed host, not a partition (under `auto` Nova may place its servers anywhere in the cloud). 1 = share only.
       */
      min_failed_hosts: z.number().int().min(1).default(2),
      /** Host failures (COMPUTE_HOST STOPPED notifications) this close to the one being handled count together. */
      window_seconds: seconds(300),
    })
    .prefault({}),
});

/** Keys added to host_failure (schema.ts extends the engine's section with them). */
export const hostReturnKeys = {
  /**
   * When a host that was recovered (on maintenance) reports STARTED again, take it out of maintenance so it takes
   * VMs again. Masakari leaves that to the operator, and so does the default.
   */
  auto_unset_maintenance_on_return: z.boolean().default(false),
};

// Wiring only: picks the drivers the configuration names and adapts them to core's ports.

import { hostname } from 'node:os';
import type { Config } from '../core/config/schema.ts';
import type { Logger } from '../core/log.ts';
import type { ComputeDriver } from '../core/ports/compute.ts';
import type { FenceGate } from '../core/ports/fence.ts';
import type { HostCatalog } from '../core/ports/host-catalog.ts';
import type { PasswordLogin, TokenValidator } from '../core/ports/identity.ts';
import { fencerGate, firstEvidence } from '../core/engine/index.ts';
import { pacemakerEvidenceGate } from '../drivers/cluster/pacemaker/evidence-gate.ts';
import { createNovaDriver } from '../drivers/compute/nova/index.ts';
import { noComputeDriver } from '../drivers/compute/none.ts';
import { createFencer, type ConfiguredFencer } from '../drivers/fence/index.ts';
import { KeystoneTokenValidator } from '../drivers/identity/keystone.ts';
import { KeystonePasswordLogin } from '../drivers/identity/keystone-login.ts';

export interface Backends {
  compute: ComputeDriver;
  hostCatalog: HostCatalog;
  fence?: FenceGate;
  tokenValidator?: TokenValidator;
  /**
   * Ends the drivers' calls in flight (Nova, Keystone) so that workflows waiting on a frozen backend see an error
   * and the engine's stop can finish (and release its claims) within shutdown_timeout. The role stops right after.
   */
  interrupt(): void;
  /** The dashboard's login form (keystone only). */
  passwordLogin?: PasswordLogin;
  /** The fencers of fencing.hosts (also checked for readiness by the protection report), when any is configured. */
  fencer?: ConfiguredFencer;
  close(): Promise<void>;
}

/** `extraCompute` lets a role supply a driver built elsewhere (the all-in-one role's libvirt driver). */
export async function createBackends(config: Config, log: Logger, extraCompute?: ComputeDriver): Promise<Backends> {
  let compute: ComputeDriver = noComputeDriver;
  const closers: (() => Promise<void> | void)[] = [];
  const interrupters: (() => void)[] = [];
  switch (config.controller.compute_driver) {
    case 'nova': {
      const { driver, client } = createNovaDriver(config.openstack, { logger: log.child({ component: 'nova' }) });
      interrupters.push(() => client.close());
      closers.push(() => client.close());
      compute = driver;
      break;
    }
    case 'libvirt': {
      if (extraCompute) {
        compute = extraCompute;
        break;
      }
      // Loaded on demand: koffi and libvirt.so are only needed by controllers that drive libvirt hosts.
      const { createLibvirtComputeDriver } = await import('../drivers/compute/libvirt/index.ts');
      const driver = createLibvirtComputeDriver(config, log);
      driver.start();
      closers.push(() => driver.close());
      compute = driver;
      break;
    }
    case 'none':
      log.warn('controller.compute_driver is none: notifications are accepted but no VM will be recovered');
      break;
  }

  const hosts = Object.keys(config.fencing.hosts);
  const fencer = hosts.length > 0 ? createFencer(config.fencing, { logger: log.child({ component: 'fence' }) }) : undefined;
  const ownFencer = fencer ? fencerGate(fencer) : undefined;
  // The cluster's own fence history first (cluster_safety.pacemaker_evidence), then our fencer (docs/pacemaker.md).
  const clusterGate = pacemakerEvidenceGate(config, log);
  const gates = [clusterGate, ownFencer].filter((g) => g !== undefined);
  const fence = gates.length > 1 ? firstEvidence(gates) : gates[0];
  // The engine itself warns at start when fencing is off or missing (once, in one place).

  let tokenValidator: TokenValidator | undefined;
  let passwordLogin: PasswordLogin | undefined;
  if (config.api.auth_strategy === 'keystone') {
    tokenValidator = new KeystoneTokenValidator(config.api.keystone, log.child({ component: 'keystone' }));
    passwordLogin = new KeystonePasswordLogin(config.api.keystone, log.child({ component: 'dashboard-login' }));
  }

  return {
    compute,
    hostCatalog: { hostExists: (name) => compute.hostExists(name) },
    ...(fence ? { fence } : {}),
    ...(tokenValidator ? { tokenValidator } : {}),
    interrupt: () => {
      for (const i of interrupters) i();
    },
    ...(passwordLogin ? { passwordLogin } : {}),
    ...(fencer ? { fencer } : {}),
    close: async () => {
      for (const c of closers) await c();
    },
  };
}

export function ownerIdOf(config: Config): string {
  return config.controller.owner_id ?? hostname();
}

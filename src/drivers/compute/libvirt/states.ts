// libvirt domain states -> Nova's vm_state / power_state, so the engine's workflows (written against Nova) read a
// libvirt domain the way they read a server. The power_state column is Nova's own libvirt mapping
// (nova/virt/libvirt/driver.py LIBVIRT_POWER_STATE); vm_state is what Nova would show once its periodic sync ran.
//
//   libvirt state   vm_state   task_state     power_state
//   RUNNING         active     -              1 RUNNING
//   BLOCKED         active     -              1 RUNNING   (waiting on I/O: still running)
//   PAUSED          paused     -              3 PAUSED
//   SHUTDOWN        active     powering-off   4 SHUTDOWN  (the guest is shutting down, not off yet)
//   SHUTOFF         stopped    -              4 SHUTDOWN  (also after QEMU was killed: reason CRASHED/FAILED)
//   CRASHED         stopped    -              6 CRASHED   (guest panic kept by on_crash=preserve)
//   PMSUSPENDED     suspended  -              7 SUSPENDED
//   NOSTATE/other   error      -              0 NOSTATE

import { DomainState } from '../../libvirt/constants.ts';
import type { VmState } from '../../../core/ports/compute.ts';

export interface MappedState {
  vmState: VmState;
  taskState: string | null;
  powerState: number;
}

export function mapDomainState(state: number): MappedState {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
      return { vmState: 'active', taskState: null, powerState: 1 };
    case DomainState.PAUSED:
      return { vmState: 'paused', taskState: null, powerState: 3 };
    case DomainState.SHUTDOWN:
      return { vmState: 'active', taskState: 'powering-off', powerState: 4 };
    case DomainState.SHUTOFF:
      return { vmState: 'stopped', taskState: null, powerState: 4 };
    case DomainState.CRASHED:
      return { vmState: 'stopped', taskState: null, powerState: 6 };
    case DomainState.PMSUSPENDED:
      return { vmState: 'suspended', taskState: null, powerState: 7 };
    default:
      return { vmState: 'error', taskState: null, powerState: 0 };
  }
}

/** True when QEMU runs for this state (a second start would fail; a stop has something to stop). */
export function isRunningState(state: number): boolean {
  return state !== DomainState.SHUTOFF && state !== DomainState.CRASHED && state !== DomainState.NOSTATE;
}

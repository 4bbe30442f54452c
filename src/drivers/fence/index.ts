// Fencing drivers: IPMI (ipmitool), Redfish (HTTPS) and any fence-agents program, behind core's Fencer port.
// See docs/fencing.md.

export { createFencer, ConfiguredFencer, createBackend, type FencerDeps } from './registry.ts';
export { BmcFencer } from './bmc-fencer.ts';
export { FenceError, type FenceErrorCode } from './errors.ts';

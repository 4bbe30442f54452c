// Which hypervisor host names exist, for the API's host validation (Masakari asks Nova's os-services whether a
// nova-compute service runs under the name: "Compute service with name X could not be found.").
// core owns this interface; a compute driver (Nova, libvirt) answers it, or the accept-all catalog for labs.

export interface HostCatalog {
  /** True when `name` is a compute host the backend knows. Rejects only when the backend cannot be asked. */
  hostExists(name: string): Promise<boolean>;
}

/** Lab mode: every name is accepted (no compute backend to ask). docs/api.md says so. */
export const acceptAllHostCatalog: HostCatalog = {
  hostExists: async () => true,
};

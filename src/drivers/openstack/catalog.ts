// Endpoint lookup in a Keystone v3 catalog (the "catalog" array of a token): by service type, interface and,
// when given, region. Pure, so its choices are tested without a Keystone.

import { OpenStackError } from './errors.ts';

export interface CatalogEndpoint {
  interface: string;
  url: string;
  region_id?: string | null;
  region?: string | null;
}
export interface CatalogEntry {
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}
export type Catalog = CatalogEntry[];

export interface EndpointFilter {
  interface: 'public' | 'internal' | 'admin';
  region?: string | null;
}

export function findEndpoint(catalog: Catalog, serviceType: string, filter: EndpointFilter): string {
  const services = catalog.filter((s) => s.type === serviceType);
  if (services.length === 0) {
    const types = [...new Set(catalog.map((s) => s.type))].sort().join(', ') || 'none';
    throw new OpenStackError('catalog', `the Keystone catalog has no "${serviceType}" service (it has: ${types})`);
  }
  const matches = services.flatMap((s) =>
    s.endpoints.filter((e) => e.interface === filter.interface && (!filter.region || e.region_id === filter.region || e.region === filter.region)),
  );
  if (matches.length === 0) {
    const have = services.flatMap((s) => s.endpoints.map((e) => `${e.interface}@${e.region_id ?? e.region ?? '-'}`)).join(', ');
    throw new OpenStackError(
      'catalog',
      `no ${filter.interface} "${serviceType}" endpoint${filter.region ? ` in region ${filter.region}` : ''} (the catalog has: ${have || 'none'})`,
    );
  }
  const regions = new Set(matches.map((e) => e.region_id ?? e.region ?? ''));
  if (!filter.region && regions.size > 1) {
    // Picking one silently could send recovery actions to the wrong cloud region.
    throw new OpenStackError(
      'catalog',
      `"${serviceType}" has ${filter.interface} endpoints in several regions (${[...regions].join(', ')}): set openstack.region_name`,
    );
  }
  return matches[0]!.url.replace(/\/+$/, '');
}

// HA_Enabled and friends for libvirt domains. Nova keeps server metadata in its database; a libvirt domain keeps
// ours in its own XML, as one element in our namespace under <metadata> (libvirt's supported place for
// application data; it survives redefinition, migration and our evacuation, which copies the XML):
//
//   <metadata><masakari:ha xmlns:masakari="NS" enabled="true" priority="10"/></metadata>
//
// `enabled` becomes the metadata key the engine reads (instance_failure/host_failure.ha_enabled_instance_metadata_key,
// HA_Enabled by default); every other attribute is passed through under its own name (e.g. a priority key).
// No element: the configured fallback (libvirt_compute.ha_enabled_default) decides.

import { XMLParser } from 'fast-xml-parser';

/** The element we write with `virsh metadata ... --key masakari --set`, or with setHaEnabled(). */
export const haElement = (enabled: boolean): string => `<ha enabled="${enabled ? 'true' : 'false'}"/>`;

/** The prefix libvirt writes our element with (any prefix works when reading: lookups go by namespace). */
export const METADATA_KEY = 'masakari';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, parseAttributeValue: false });

/**
 * Server metadata from our element's XML (as virDomainGetMetadata returns it), or null for none.
 * A malformed element counts as "not HA-enabled" rather than failing the whole listing.
 */
export function metadataFromElement(xml: string | null, haKey: string): Record<string, string> | null {
  if (xml === null) return null;
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch {
    return {};
  }
  const root = Object.values(doc)[0];
  if (!root || typeof root !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(root as Record<string, unknown>)) {
    if (typeof v !== 'string' || k.startsWith('xmlns')) continue;
    out[k === 'enabled' ? haKey : k] = v;
  }
  return out;
}

/** The metadata a domain reports: its element's, or the fallback's HA flag. */
export function serverMetadata(elementXml: string | null, haKey: string, haDefault: boolean): Record<string, string> {
  return metadataFromElement(elementXml, haKey) ?? (haDefault ? { [haKey]: 'true' } : {});
}

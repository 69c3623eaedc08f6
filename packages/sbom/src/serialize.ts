/** CycloneDX 1.6 JSON of a Bom: insertion order kept (closureToBom already sorted), pedigree added. */
import { createHash } from 'node:crypto';
import { type Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { getPatches, pedigreeJson } from './pedigree.js';

export const SPEC_VERSION = '1.6';

const normalizerFactory = new Serialize.JSON.Normalize.Factory(Spec.Spec1dot6);

type Json = Record<string, unknown>;

/**
 * The normalised document. `sortLists` stays off: the library sorts with
 * localeCompare, whose order depends on the machine's ICU locale; closureToBom
 * inserts everything in code-unit order instead.
 */
export function normalizeBom(bom: Models.Bom): Json {
  const doc = normalizerFactory.makeForBom().normalize(bom, { sortLists: false }) as unknown as Json;
  const pedigrees = new Map<string, string[]>();
  for (const c of bom.components) {
    const patches = getPatches(c);
    if (patches && c.bomRef.value) pedigrees.set(c.bomRef.value, patches);
  }
  if (pedigrees.size > 0) {
    for (const c of (doc['components'] as Json[] | undefined) ?? []) {
      const patches = pedigrees.get(c['bom-ref'] as string);
      if (patches) c['pedigree'] = pedigreeJson(patches);
    }
  }
  return doc;
}

/**
 * The document's JSON, with its serial number: a name-based (version 5) UUID
 * of the rest of its content, so the same closure and options give the same
 * serial number and a different BOM a different one. The document is
 * normalised once; the serial number is derived from it and then set in place
 * (the normaliser always emits the key, so its position does not change).
 */
export function serializeBom(bom: Models.Bom): string {
  const doc = normalizeBom(bom);
  doc['serialNumber'] = undefined;
  doc['serialNumber'] = contentSerialNumber(doc);
  return `${JSON.stringify(doc, null, 2)}\n`;
}

// Namespace of the serial numbers this project derives (a fixed random UUID).
const SERIAL_NAMESPACE = Buffer.from('6f1c3d0e8a2b4c5d9e7f1a2b3c4d5e6f', 'hex');

/** The version 5 UUID of a normalised document without serial number: its compact JSON, hashed. */
export function contentSerialNumber(doc: Json): string {
  if (doc['serialNumber'] !== undefined) throw new RangeError('the serial number is derived from a document without one');
  const content = createHash('sha256').update(JSON.stringify(doc)).digest();
  const h = createHash('sha1').update(SERIAL_NAMESPACE).update(content).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

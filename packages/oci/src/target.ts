import { silentLogger } from '@nixrel/core';
import { LayoutStore } from './layout.js';
import { type ImageRef, parseImageRef } from './refs.js';
import { openRegistryStore, type RegistryOptions } from './registry.js';
import type { ImageStore } from './store.js';

/** The store a reference points into (registry repository or OCI layout directory). */
export function openStore(ref: string | ImageRef, opts: RegistryOptions = {}): { store: ImageStore; ref: ImageRef } {
  const parsed = typeof ref === 'string' ? parseImageRef(ref) : ref;
  const store = parsed.kind === 'layout' ? new LayoutStore(parsed.dir, opts.logger ?? silentLogger) : openRegistryStore(parsed.registry, parsed.repository, opts);
  return { store, ref: parsed };
}

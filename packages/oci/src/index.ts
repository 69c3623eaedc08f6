export type { ImageLayout, LayerSource } from './archive.js';
export { computeImage, detectFormat, readImageArtifact } from './archive.js';
export * from './media-types.js';
export { type PushOptions, pushImage } from './push.js';
export { attachReferrer, fallbackTag, fetchReferrerLayer, listReferrers, type ReferrerArtifact, type ReferrerInfo } from './referrers.js';
export { type ImageRef, parseImageRef } from './refs.js';
export type { RegistryOptions } from './registry.js';
export { addTags, listTags, resolveImage } from './tags.js';
export { type TarEntry, TarScanner } from './tar.js';

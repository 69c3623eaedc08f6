export * from './errors.js';
export * from './files.js';
export * from './log.js';
export * from './manifest.js';
export * from './oci-grammar.js';
export * from './redact.js';
export type * from './types.js';
export type * from './release-diff.js';
export type * from './verification-report.js';

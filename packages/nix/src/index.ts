export { type BuildResult, build } from './build.js';
export { type Derivation, type DerivationOutput, normaliseDerivations, showDerivation } from './derivation.js';
export { evalJson } from './eval.js';
export { HOST_SANDBOX_PATHS, nixEnvFor, OFFLINE_NIX_SETTINGS, withOfflineNixConfig } from './offline.js';
export { normalisePathInfo, type PathInfo, pathInfo } from './path-info.js';
export { type RebuildCheck, rebuildCheck } from './rebuild.js';
export { NIX_INSTALL_HINT, type NixOptions, type NixResult, parseNixJson, runNix } from './run.js';
export { currentNixSystem } from './system.js';
export { isAtLeast, type NixVersion, nixVersion, parseNixVersion } from './version.js';

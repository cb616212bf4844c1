// Helpers for tests of the engine and of packages built on it (@lth/pipeline/testing); not
// part of the public surface.
export { clearFingerprintCache, packageFingerprint } from './cache/fingerprint';
export { nodeArgsForSources } from './runner/dev';

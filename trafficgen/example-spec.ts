/** Moved to framework/api/example-spec.ts (public API). This re-export goes away once every import uses the new path. */
export * from '../framework/api/example-spec.js';

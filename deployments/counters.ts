/** Moved to framework/methodology/counter-check.ts. This re-export goes away once every import uses the new path. */
export * from '../framework/methodology/counter-check.js';

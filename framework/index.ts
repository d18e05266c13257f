/** The package root (`import … from 'vsperf-ts'`): the public API of framework/api/. */
export * from './api/index.js';

#!/usr/bin/env node
/**
 * Rewrites the generated tables of docs/coming-from-vsperf.md from their data (see
 * test/docs/parity-tables.ts). Run after `npm run build`; test/unit/docs/coming-from-vsperf.test.ts
 * fails until the page is rewritten after the data changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { regenerate } = await import(join(root, 'dist/test/docs/parity-tables.js'));
const path = join(root, 'docs/coming-from-vsperf.md');
writeFileSync(path, regenerate(readFileSync(path, 'utf8'), root));
console.log('docs/coming-from-vsperf.md: generated tables rewritten');

#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` via `prepare`, or `npm run build`).
import { launch } from './launch.js';

launch('../dist/vsperf.js');

#!/usr/bin/env node
// Thin launcher for the Software generator's standalone CLI (trafficgen/software/cli.ts, built into dist/).
import { launch } from './launch.js';

launch('../dist/trafficgen/software/cli.js');

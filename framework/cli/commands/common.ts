/** Shared bits of the compare / report / trend subcommands. */
import { Command, CommanderError } from 'commander';
import { UsageError } from '../../errors.js';
import type { Settings } from '../../config/settings.js';

/** Parse argv with commander; help → undefined (exit 0), errors → UsageError. */
export function parseArgs(p: Command, argv: string[]): Command | undefined {
  p.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined, writeOut: (s) => process.stdout.write(s) });
  try {
    p.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return undefined;
      throw new UsageError(e.message.replace(/^error: /, '').replace(/\n/g, ' '), { hint: `see vsperf ${p.name()} --help` });
    }
    throw e;
  }
  return p;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function addConfOptions(p: Command): Command {
  return p
    .option('--conf-file <path>', 'settings file (JSON or VSPERF-style); repeatable, later wins', collect, [])
    .option('--load-env', 'also read settings from VSPERF_<SETTING> environment variables');
}

/**
 * Resolved settings: conf/ → --conf-file → env. Not schema-validated as a whole (these commands read
 * only the reporting keys, which gateOptions/archivePath check with the key and source named), so a
 * key of another area that this build does not know cannot stop a regression gate.
 */
export async function loadSettings(o: { confFile?: string[]; loadEnv?: boolean }): Promise<Settings> {
  const { Config } = await import('../../config/load.js');
  return new Config({ confFiles: o.confFile ?? [], loadEnv: !!o.loadEnv, validate: false }).base;
}

export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}

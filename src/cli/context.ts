// What every verb needs: the config (from --config and the usual places) and its hosts.
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { UsageError } from '../core/text/errors.js';
import { HostRegistry } from '../core/host/registry.js';
import { onCleanup } from './lifecycle.js';

export interface GlobalOptions {
  config?: string;
  host?: string;
}

export interface CliContext extends LoadedConfig {
  hosts: HostRegistry;
}

export function loadContext(options: GlobalOptions): CliContext {
  const loaded = loadConfig(options.config);
  const hosts = new HostRegistry(loaded.config, options.host);
  // Every exit path closes the hosts' connections: a verb's own `finally`, or the signal
  // handlers' cleanups (which must not wait for anything asynchronous).
  onCleanup(() => hosts.closeAllSync());
  return { ...loaded, hosts };
}

export function requireEnvironment(config: Config, name: string, file: string | null): void {
  if (config.environments[name]) return;
  const known = Object.keys(config.environments);
  throw new UsageError(
    `unknown environment ${JSON.stringify(name)}${file ? ` in ${file}` : ' (no config file found)'}`,
    known.length > 0 ? `known environments: ${known.join(', ')}` : 'define environments in opsdeck.yaml (see the README), or start the lab: opsdeck lab up',
  );
}

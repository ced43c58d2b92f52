// Build the Hosts a config names. `local` always exists; a config may redefine it.
import type { Config, HostConfig } from '../../config/schema.js';
import { UsageError } from '../text/errors.js';
import { LocalHost, type Host } from './host.js';
import { LabHost } from './lab.js';
import { SshHost } from './ssh.js';

export function createHost(name: string, config: HostConfig): Host {
  switch (config.transport) {
    case 'local':
      return new LocalHost(name);
    case 'lab':
      return new LabHost(name, config.lab!);
    case 'ssh':
      return new SshHost(name, config);
  }
}

export class HostRegistry {
  private readonly hosts = new Map<string, Host>();

  constructor(
    private readonly config: Config,
    /** Run every environment on this host instead of its own (e.g. to compare transports). */
    private readonly override?: string,
  ) {
    if (override !== undefined && override !== 'local' && !config.hosts[override]) {
      throw new UsageError(`unknown host ${JSON.stringify(override)}`, `known hosts: ${this.names().join(', ')}`);
    }
  }

  /** The host a command for `name` really goes to: --host, when given, stands in for every host. */
  effectiveName(name: string): string {
    return this.override ?? name;
  }

  names(): string[] {
    return [...new Set(['local', ...Object.keys(this.config.hosts)])];
  }

  get(name: string): Host {
    const effective = this.effectiveName(name);
    let host = this.hosts.get(effective);
    if (!host) {
      const hostConfig = this.config.hosts[effective];
      if (!hostConfig && effective !== 'local') throw new UsageError(`unknown host ${JSON.stringify(effective)}`, `known hosts: ${this.names().join(', ')}`);
      host = hostConfig ? createHost(effective, hostConfig) : new LocalHost();
      this.hosts.set(effective, host);
    }
    return host;
  }

  /** The hosts created so far (with their spawn counters). */
  active(): Host[] {
    return [...this.hosts.values()];
  }

  async closeAll(): Promise<void> {
    const hosts = this.active();
    this.hosts.clear();
    await Promise.all(hosts.map((h) => h.close().catch(() => undefined)));
  }

  /** On a signal: close what is still open, synchronously (a host closed already costs nothing). */
  closeAllSync(): void {
    const hosts = this.active();
    this.hosts.clear();
    for (const host of hosts) {
      try {
        host.closeSync();
      } catch {
        /* exiting anyway */
      }
    }
  }
}

// A host registry in which every host name resolves to one given Host (a ScriptedHost, a
// ReplayHost playing a recording, a RecordingHost recording one): the console's store and the
// CLI's core calls then talk to it whatever the config names.
import type { Host } from '../../src/core/host/host.js';
import { HostRegistry } from '../../src/core/host/registry.js';

export class OneHost extends HostRegistry {
  constructor(
    config: ConstructorParameters<typeof HostRegistry>[0],
    private readonly host: Host,
  ) {
    super(config);
  }
  override get(): Host {
    return this.host;
  }
}

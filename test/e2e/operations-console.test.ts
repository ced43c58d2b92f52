// The console runs an operation end to end on a real systemd (a lab of this file's own): the
// unit file view's override, its preview, the typed confirmation, the operation view, Ctrl+C's
// question (stop here), the interrupted operation in the header, and resuming it from the palette.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, opsdeckBin, privateLab } from '../support/lab.js';
import { tmuxSession } from '../support/tmux.js';
import { PORT_OFFSETS } from '../support/lab-constants.js';

const session = `opsdeck-ops-${process.pid}`;
const { waitFor, start, kill, keys } = tmuxSession(session);
let lab: Awaited<ReturnType<typeof privateLab>> | undefined;

describeLab('operations in the console', () => {
  beforeAll(async () => {
    lab = await privateLab('e2e-ops', PORT_OFFSETS.e2eOps);
    // The hand-started V1 goes first (as the incident's fix does), so the unit can serve.
    const { config, hosts } = labContext(lab.config);
    const holder = (await collectStatus(config, hosts, ['production'])).environments[0]!.listeners[0]!.pid!;
    expect((await opsdeck(['kill', String(holder), '--env', 'production', '--yes', '--config', lab.config])).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await kill();
    await lab?.down();
  });

  it('overrides from the unit file, is stopped by Ctrl+C, shows in the header, and is resumed from the palette', async () => {
    const data = `${lab!.state.dir}/srv/production/data`;
    await start(`node ${opsdeckBin} --config ${lab!.config}; echo EXITED-$?; sleep 600`);
    await waitFor(/CRASH-LOOP/, 20_000);
    await keys('Enter');
    await waitFor(/systemctl cat mcp-coordination\.service .*E: override a setting/);
    await keys('E');
    await waitFor(/override a setting of mcp-coordination\.service/);
    await keys('-l', `ReadWritePaths=${data}`);
    await keys('Enter');
    const preview = await waitFor(/Type production to confirm/, 15_000);
    expect(preview).toMatch(/\+ReadWritePaths=\s+║/); // the reset line, before the new value
    expect(preview).toMatch(/\$ systemctl daemon-reload --no-ask-password/);
    await keys('-l', 'production');
    await keys('Enter');
    await waitFor(/▸ 4\. health gate/, 20_000);
    await keys('C-c');
    await waitFor(/s: stop here \(resume later\) · r: roll back · k\/Esc: keep waiting/);
    await keys('s');
    await waitFor(/✗ interrupted · operation/);
    await keys('Enter');
    await waitFor(/1 INTERRUPTED operation: production override mcp-coordination/, 20_000);

    await keys(':');
    await keys('-l', 'resume');
    await waitFor(/resume \d{8}-\d{6}-production-[0-9a-f]{4}/);
    await keys('Enter');
    await waitFor(/Confirm: resume of override/, 15_000);
    await waitFor(/runs, from the first unfinished step[\s\S]*4\. health gate/);
    await keys('-l', 'production');
    await keys('Enter');
    await waitFor(/✓ finished · operation/, 30_000);
    await keys('Enter');
    const after = await waitFor(/hosts lab/, 20_000);
    expect(after).not.toMatch(/INTERRUPTED operation/);
    await keys('q');
    await waitFor(/EXITED-0/);
  }, 120_000);
});

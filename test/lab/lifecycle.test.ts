// `opsdeck lab up|down|status` as a user runs them: idempotent, JSON shape, nothing left behind.
import { readdirSync, readlinkSync, existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { describeLab, opsdeck } from '../support/lab.js';
import { PORT_OFFSETS, SHARED_LAB_DIR, privatePortBase } from '../support/lab-constants.js';

const dir = `${SHARED_LAB_DIR}-lifecycle`;

function processesInNamespace(nsLink: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === nsLink) pids.push(Number(entry));
    } catch {
      /* gone or not ours to read */
    }
  }
  return pids;
}

describeLab('the lab lifecycle', () => {
  it('comes up, reports itself when asked again, and goes down leaving no process', async () => {
    await opsdeck(['lab', 'down', '--dir', dir]);
    const up = await opsdeck(['lab', 'up', '--dir', dir, '--port-base', String(privatePortBase(PORT_OFFSETS.lifecycle)), '--json']);
    expect(up.code).toBe(0);
    const state = JSON.parse(up.stdout);
    expect(state).toMatchObject({ config: `${dir}/opsdeck.yaml`, ports: { production: privatePortBase(PORT_OFFSETS.lifecycle), development: privatePortBase(PORT_OFFSETS.lifecycle + 2), ssh: privatePortBase(PORT_OFFSETS.lifecycle + 10) }, alreadyRunning: false });
    expect(existsSync(state.config)).toBe(true);

    const human = await opsdeck(['lab', 'up', '--dir', dir, '--port-base', String(privatePortBase(PORT_OFFSETS.lifecycle))]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/already running \(systemd PID \d+\)/);
    expect(human.stdout.trim().split('\n').at(-1)).toBe(`${dir}/opsdeck.yaml`);

    const status = JSON.parse((await opsdeck(['lab', 'status', '--dir', dir, '--json'])).stdout);
    expect(status).toMatchObject({ running: true, pid: state.pid, systemState: expect.stringMatching(/running|degraded/) });
    expect(status.units.map((u: { name: string }) => u.name)).toEqual(expect.arrayContaining(['mcp-coordination.service', 'mcp-coordination-dev.service', 'opsdeck-lab-sshd.service']));

    const ns = readlinkSync(`/proc/${state.pid}/ns/pid`);
    // The PID namespace of the lab's systemd is its own, holding the lab's processes.
    expect(processesInNamespace(ns).length).toBeGreaterThan(3);

    const down = await opsdeck(['lab', 'down', '--dir', dir]);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/stopped \(killed systemd PID \d+/);
    expect(processesInNamespace(ns)).toEqual([]);
    expect((await opsdeck(['lab', 'down', '--dir', dir])).stdout).toMatch(/was not running/);
  });
});

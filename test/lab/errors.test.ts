// Bad input and broken surroundings: each a clear error with the right exit code, nothing changed.
import { mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandError, UsageError } from '../../src/core/text/errors.js';
import { LocalHost } from '../../src/core/host/host.js';
import { LabHost } from '../../src/core/host/lab.js';
import { rsync } from '../../src/core/host/rsync.js';
import { showUnits } from '../../src/core/systemd/units.js';
import { collectStatus } from '../../src/core/status/collect.js';
import { describeLab, labContext, opsdeck, sharedLabConfig } from '../support/lab.js';
import { SHARED_LAB_DIR } from '../support/lab-constants.js';

// Not under /tmp: the lab has a private /tmp, and these must be visible inside it too.
const scratch = '/var/lib/opsdeck-test-scratch';

beforeAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const file = path.join(scratch, name);
  writeFileSync(file, text);
  return file;
}

async function devMainPid(): Promise<number | null> {
  const { config, hosts } = labContext();
  const report = await collectStatus(config, hosts, ['development']);
  return report.environments[0]!.unit!.mainPid;
}

describe('config errors (exit code 2)', () => {
  it('malformed YAML names file, line and column', async () => {
    const file = writeConfig('bad.yaml', 'environments:\n  production:\n    unit: app\n   ports: [1\n');
    const { code, stderr, stdout } = await opsdeck(['status', '--config', file]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(`${file}:4:`);
    expect(stderr).toMatch(/invalid YAML/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('a unit name like `x;rm -rf /` is refused before anything runs', async () => {
    const file = writeConfig('evil.yaml', 'environments:\n  production:\n    unit: "x;rm -rf /"\n');
    const { code, stderr } = await opsdeck(['status', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/:3:11: "x;rm -rf \/" is not a valid systemd unit name/);

    const host = new LocalHost();
    await expect(showUnits(host, ['x;rm -rf /'])).rejects.toThrow(UsageError);
    expect(host.stats.spawned).toBe(0);
  });

  it('a missing --config file', async () => {
    const { code, stderr } = await opsdeck(['status', '--config', path.join(scratch, 'none.yaml')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/does not exist/);
  });

  it('usage errors exit 2', async () => {
    expect((await opsdeck(['status', '--bogus'])).code).toBe(2);
    expect((await opsdeck(['health'])).code).toBe(2);
    expect((await opsdeck(['frobnicate'])).code).toBe(2);
  });
});

describeLab('broken surroundings (exit code 1)', () => {
  let pidBefore: number | null = null;
  beforeAll(async () => {
    pidBefore = await devMainPid();
  });
  afterAll(async () => {
    // Nothing any of these tried changed the lab.
    expect(await devMainPid()).toBe(pidBefore);
  });

  it('an unreachable ssh host', async () => {
    const file = writeConfig(
      'unreachable.yaml',
      ['hosts:', '  far:', '    transport: ssh', '    address: 127.0.0.1', '    port: 9', '    connectTimeoutSec: 2', 'environments:', '  production:', '    host: far', '    unit: app', '    ports: [1]'].join('\n'),
    );
    const { code, stdout } = await opsdeck(['status', '--json', '--config', file]);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.hosts[0]).toMatchObject({ name: 'far', reachable: false });
    expect(report.hosts[0].error).toMatch(/cannot reach host far over ssh: .*(refused|Connection)/);
    expect(report.environments[0].problems[0].code).toBe('host-unreachable');
    const human = await opsdeck(['status', '--config', file]);
    expect(human.stdout).toMatch(/✗ host far \(ssh\): cannot reach host far over ssh/);
  });

  it('the lab not running', async () => {
    const dir = path.join(scratch, 'no-lab');
    const file = writeConfig('nolab.yaml', ['hosts:', '  lab:', '    transport: lab', `    lab: ${dir}`, 'environments:', '  production:', '    host: lab', '    unit: app'].join('\n'));
    const { code, stdout } = await opsdeck(['status', '--config', file]);
    expect(code).toBe(1);
    expect(stdout).toContain(`the lab at ${dir} is not running (start it with \`opsdeck lab up --dir ${dir}\`)`);
    const lab = await opsdeck(['lab', 'status', '--dir', dir]);
    expect(lab.code).toBe(1);
    expect(lab.stdout).toMatch(/is not running/);
  });

  it('a missing curl on the host', async () => {
    // A PATH with what opsdeck needs, minus curl; lab commands resolve binaries on that PATH.
    const bin = path.join(scratch, 'bin-no-curl');
    mkdirSync(bin, { recursive: true });
    for (const tool of ['nsenter', 'systemctl', 'ss', 'grep', 'find', 'env', 'ssh']) {
      if (!existsSync(path.join(bin, tool))) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));
    }
    const { code, stdout, stderr } = await opsdeck(['health', 'development', '--config', sharedLabConfig()], { env: { PATH: bin } });
    expect(code).toBe(1);
    expect(stdout + stderr).toMatch(/`curl` is not installed on host lab \(or not on its PATH\)/);
    expect(stdout + stderr).toMatch(/apt-get install -y curl/);
  });

  it('a missing rsync on the host', async () => {
    const host = new LabHost('lab', SHARED_LAB_DIR);
    const bin = path.join(scratch, 'bin-no-rsync');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(path.join(bin, 'nsenter'))) symlinkSync('/usr/bin/nsenter', path.join(bin, 'nsenter'));
    const savedPath = process.env.PATH;
    process.env.PATH = bin;
    try {
      const error = await rsync(host, { source: `${SHARED_LAB_DIR}/srv/production/data`, destination: path.join(scratch, 'copy'), dryRun: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).kind).toBe('missing-tool');
      expect((error as CommandError).message).toBe('`rsync` is not installed on host lab (or not on its PATH)');
    } finally {
      process.env.PATH = savedPath;
    }
    expect(existsSync(path.join(scratch, 'copy'))).toBe(false);
  });
});

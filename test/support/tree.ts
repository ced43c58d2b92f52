// A directory tree as bytes on disk see it, for round-trip tests: every entry by its raw name
// (names that are not UTF-8 included), with its type, mode, mtime, size, content digest and
// link target. Two trees are the same data when their snapshots are equal.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, mkdirSync, writeFileSync, symlinkSync, utimesSync, chmodSync, linkSync } from 'node:fs';
import path from 'node:path';

export interface TreeEntry {
  type: 'file' | 'dir' | 'link' | 'other';
  mode: number;
  mtimeMs: number;
  size: number;
  sha256?: string;
  link?: string;
}

/** path (hex of the raw bytes, relative) -> entry; the top directory itself included as "". */
export function snapshot(dir: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const walk = (abs: Buffer, rel: Buffer) => {
    const st = lstatSync(abs);
    const type: TreeEntry['type'] = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : 'other';
    const entry: TreeEntry = { type, mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), size: type === 'file' ? st.size : 0 };
    if (type === 'file') entry.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
    if (type === 'link') entry.link = readlinkSync(abs, { encoding: 'buffer' }).toString('hex');
    // A directory's mtime changes as entries are made in it; restored by tar, it must match too.
    out.set(rel.toString('hex'), entry);
    if (type === 'dir') for (const name of readdirSync(abs, { encoding: 'buffer' })) walk(Buffer.concat([abs, Buffer.from('/'), name]), rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name);
  };
  walk(Buffer.from(dir), Buffer.alloc(0));
  return out;
}

/** The awkward data a backup must give back byte for byte. */
export function writeAwkwardTree(dir: string): void {
  mkdirSync(path.join(dir, 'messages'), { recursive: true });
  mkdirSync(path.join(dir, 'empty dir'), { recursive: true });
  writeFileSync(path.join(dir, 'instances.json'), JSON.stringify({ instances: ['Kai', 'Zara'] }) + '\n');
  writeFileSync(path.join(dir, 'messages', 'inbox with spaces.jsonl'), '{"from":"Kai"}\n'.repeat(100));
  writeFileSync(path.join(dir, 'secret.key'), 'k3y\n', { mode: 0o600 });
  chmodSync(path.join(dir, 'secret.key'), 0o600);
  writeFileSync(Buffer.from(`${dir}/latin1-\xe9t\xe9.txt`, 'latin1'), 'not utf-8 name\n');
  writeFileSync(path.join(dir, 'line\nbreak.txt'), 'newline in name\n');
  writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(300_000, 7));
  symlinkSync('instances.json', path.join(dir, 'current'));
  linkSync(path.join(dir, 'big.bin'), path.join(dir, 'messages', 'big hard link.bin'));
  symlinkSync('/nonexistent/target', path.join(dir, 'dangling'));
  const old = new Date('2025-09-29T02:55:00Z');
  for (const f of ['instances.json', 'messages/inbox with spaces.jsonl', 'secret.key', 'big.bin']) utimesSync(path.join(dir, f), old, old);
  utimesSync(path.join(dir, 'empty dir'), old, old);
  utimesSync(path.join(dir, 'messages'), old, old);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { listArchivesArgv, parseFindListing } from '../../src/core/backups/listing.js';

const record = (name: string, size: number, mtime: number) => `${size}\t${mtime}.5000000000\t${name}\0`;
const NOW = Date.parse('2026-11-29T12:00:00Z');

describe('backups listing', () => {
  it('asks find for NUL-terminated records, the name last', () => {
    expect(listArchivesArgv('/srv/b').slice(-2)).toEqual(['-printf', '%s\\t%T@\\t%f\\0']);
  });

  it('lists archives newest first, with size and time', () => {
    const out = record('data-20261128_060000.tar.gz', 100, 1764309600) + record('data-20261129_060000.tar.gz', 120, 1764396000) + record('notes.txt', 5, 1764396000);
    const listing = parseFindListing('/srv/b/', Buffer.from(out), NOW);
    expect(listing.archives.map((a) => [a.name, a.sizeBytes, a.path])).toEqual([
      ['data-20261129_060000.tar.gz', 120, '/srv/b/data-20261129_060000.tar.gz'],
      ['data-20261128_060000.tar.gz', 100, '/srv/b/data-20261128_060000.tar.gz'],
    ]);
    expect(listing.newest!.name).toBe('data-20261129_060000.tar.gz');
  });

  it('a name holding newlines and tabs stays one file: it cannot forge a newer archive', () => {
    const forger = 'x.tar.gz\n999999\t4102444800\tdata-21000101_000000.tar.gz';
    const listing = parseFindListing('/srv/b', Buffer.from(record('data-20261120_000000.tar.gz', 10, 1763596800) + record(forger, 7, 1763596000)), NOW);
    expect(listing.archives).toHaveLength(2);
    expect(listing.newest!.name).toBe('data-20261120_000000.tar.gz');
    expect(listing.archives.find((a) => a.sizeBytes === 7)!.name).not.toMatch(/[\n\t]/);
  });

  it('arbitrary names never give more archives than files, an entry that was not there, or a control character', () => {
    const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map((s) => s.replace(/[\0/]/g, '_') + '.tar.gz');
    fc.assert(
      fc.property(fc.array(fc.tuple(name, fc.nat(), fc.integer({ min: 0, max: 4102444800 })), { maxLength: 6 }), (files) => {
        const listing = parseFindListing('/b', Buffer.from(files.map(([n, s, t]) => record(n, s, t)).join('')), NOW);
        expect(listing.archives).toHaveLength(files.length);
        for (const a of listing.archives) {
          expect(files.some(([, s]) => s === a.sizeBytes)).toBe(true);
          expect(a.name).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202a-\u202e]/);
        }
      }),
    );
  });
});

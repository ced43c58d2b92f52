// What GNU tar says while it writes or extracts an archive, read line by line:
//   stdout, with -vv --full-time --numeric-owner --quoting-style=escape (and TZ=UTC0): one line
//     per member, its name escaped (a newline in a name is "\n", a byte that is not printable
//     "\377"), so no name can make two lines or forge one;
//   stderr: files that changed while being read, files it could not open, a full disk.
import { sanitizeLine } from '../text/sanitize.js';

export interface TarMember {
  type: 'file' | 'directory' | 'link' | 'hardlink' | 'other';
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** As tar printed it (escaped): safe to print. */
  name: string;
  /** A hard link's target (escaped), whose size it shares. */
  linkTo?: string;
}

const TYPE: Record<string, TarMember['type']> = { '-': 'file', d: 'directory', l: 'link', h: 'hardlink' };
// "-rw-r--r-- 0/0   12 2026-11-29 18:37:54.103954453 ./a file"; devices print "MAJOR,MINOR" for a size.
const LINE = /^([-dlhpcbsC])\S{9}\S* \S+\s+(\d+|\d+,\s*\d+) (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)? (.*)$/;

export function parseMemberLine(line: string): TarMember | null {
  const match = LINE.exec(line);
  if (!match) return null;
  const [, typeChar, sizeText, day, time, fraction, rest] = match as unknown as [string, string, string, string, string, string | undefined, string];
  const type = TYPE[typeChar] ?? 'other';
  const mtime = Date.parse(`${day}T${time}Z`) / 1000 + (fraction ? Number(`0${fraction}`) : 0);
  let name = rest;
  let linkTo: string | undefined;
  if (type === 'link') name = rest.split(' -> ')[0]!;
  if (type === 'hardlink') {
    const at = rest.indexOf(' link to ');
    if (at >= 0) {
      name = rest.slice(0, at);
      linkTo = rest.slice(at + ' link to '.length);
    }
  }
  return { type, size: /^\d+$/.test(sizeText) ? Number(sizeText) : 0, mtime, name, ...(linkTo !== undefined ? { linkTo } : {}) };
}

/**
 * Totals over the members as scan.ts counts the tree they make: every name of a regular file
 * (a hard link too) is a file, and each file's content counts once (a hard link adds no bytes;
 * scan.ts counts a multiply-linked inode once). Nothing per member is kept: memory stays flat
 * however many files an archive holds.
 */
export class MemberTally {
  files = 0;
  dirs = 0;
  links = 0;
  others = 0;
  bytes = 0;
  newestMtime: number | null = null;
  newestPath: string | null = null;

  /** Count a member; returns the bytes of content it brings. */
  add(member: TarMember): number {
    if (member.type === 'file' || member.type === 'hardlink') {
      const size = member.type === 'file' ? member.size : 0;
      this.files++;
      this.bytes += size;
      if (this.newestMtime === null || member.mtime > this.newestMtime) {
        this.newestMtime = member.mtime;
        this.newestPath = member.name.replace(/^\.\//, '');
      }
      return size;
    }
    if (member.type === 'directory') {
      // "./" is the top itself, not a directory inside it (find -mindepth 1 does not count it).
      if (member.name !== './' && member.name !== '.') this.dirs++;
    } else if (member.type === 'link') this.links++;
    else this.others++;
    return 0;
  }
}

export interface TarComplaints {
  /** Files that changed while tar read them (exit code 1: the archive is complete, these may be torn). */
  changed: string[];
  /** Files or directories tar could not read: "./secret: Permission denied". */
  unreadable: string[];
  /** The disk filled up (tar, gzip or zstd could not write). */
  noSpace: boolean;
  /** The compressed stream is damaged (an archive being read). */
  corrupt: string[];
  /** Everything else tar said, a few lines. */
  other: string[];
}

export function parseTarStderr(stderr: string): TarComplaints {
  const out: TarComplaints = { changed: [], unreadable: [], noSpace: false, corrupt: [], other: [] };
  for (const raw of stderr.split('\n')) {
    const line = sanitizeLine(raw.trim());
    if (!line) continue;
    let match: RegExpExecArray | null;
    if ((match = /^tar: (.*): file changed as we read it$/.exec(line))) out.changed.push(match[1]!);
    else if (/No space left on device/.test(line)) out.noSpace = true;
    else if ((match = /^tar: (.*): (?:Cannot open|Cannot read|Cannot stat|Cannot savedir|Cannot readlink|Read error[^:]*): (Permission denied|Input\/output error|.*)$/.exec(line))) out.unreadable.push(`${match[1]} (${match[2]})`);
    else if (/unexpected end of file|invalid compressed data|not in gzip format|crc error|length error|Unexpected EOF|Corrupted block|Unknown frame descriptor|Truncated input|This does not look like a tar archive|Skipping to next header|Damaged tar archive/i.test(line)) out.corrupt.push(line);
    else if (!/^tar: (Exiting with failure status due to previous errors|Child returned status \d+|Error is not recoverable: exiting now)$/.test(line) && out.other.length < 5) out.other.push(line);
  }
  return out;
}

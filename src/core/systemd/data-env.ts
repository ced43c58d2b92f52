// Environment variables that name a data directory (DATA_DIR=/srv/app/data, STATE_DIRECTORY,
// DB_PATH=/srv/app/db.sqlite gives its directory): where a service keeps what it writes, as its
// unit's Environment= or its process's environ say. Only such paths are kept, never other
// values (a token in Environment= never leaves this function).
import path from 'node:path';

export type DataVar = { name: string; dir: string };

const DATA_VAR = /^(?!XDG_)(?:.*_)?(DATA|STATE|STORAGE|STORE|DB|DATABASE)(DIR|DIRECTORY|PATH)?(_.*)?$/i;
/** System directories: never a service's own data. */
export const SYSTEM_DIR = /^\/(proc|sys|dev|usr|bin|sbin|lib|lib32|lib64|etc|boot|tmp|run|var\/(tmp|log|run))(\/|$)/;
/** Too close to the root, or a system directory, to be a data directory. */
export const tooBroad = (dir: string) => dir.split('/').length < 3 || SYSTEM_DIR.test(dir);

export function dataEnvOf(assignments: readonly string[]): DataVar[] {
  return assignments.flatMap((assignment) => {
    const eq = assignment.indexOf('=');
    const name = assignment.slice(0, eq);
    if (eq <= 0 || !DATA_VAR.test(name)) return [];
    return assignment.slice(eq + 1).split(':').flatMap((value) => {
      if (!value.startsWith('/')) return [];
      let dir = path.posix.normalize(value).replace(/(.)\/$/, '$1');
      if (/^[^.].*\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(path.posix.basename(dir))) dir = path.posix.dirname(dir); // a file: db.sqlite
      return tooBroad(dir) ? [] : [{ name, dir }];
    });
  });
}

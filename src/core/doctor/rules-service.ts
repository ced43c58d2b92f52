// The doctor's backup rules: the health of the environment's probe, and its backups: none, too
// old, unreadable, and source sanity's verdicts (archiving a stale directory; no archive of the
// live data), each with a backup of the live data as the fix.
import { formatAge } from '../text/humanize.js';
import type { Fix } from './finding.js';
import type { Rule } from './facts.js';

/** A backup older than this is stale. */
export const BACKUP_STALE_SEC = 26 * 3600;
/** Evidence items taken from source sanity (its reasons come first). */
const MAX_SANITY_EVIDENCE = 10;


export const healthRule: Rule = ({ status }, emit) => {
  const h = status.health;
  if (!h || h.ok) return;
  emit('health-failing', 'critical', {
    title: `health check ${h.url} fails: ${h.failures.join('; ')}`,
    evidence: [
      ...h.failures.map((text) => ({ text, from: `curl ${h.url}` })),
      ...(h.httpStatus !== null ? [{ text: `HTTP ${h.httpStatus} in ${h.latencyMs ?? '?'} ms${h.bodyPreview ? `: ${h.bodyPreview.slice(0, 200)}` : ''}`, from: `curl ${h.url}` }] : []),
    ],
  });
};


export const backupRule: Rule = ({ environment, env, status }, emit) => {
  const backups = status.backups;
  const source = env.backups?.source ?? env.dataDir;
  const create = (dir: string, why: string): Fix => ({ title: `${why}: back up ${dir} now (opsdeck backup create ${environment})`, plan: { kind: 'backup-create', environment, source: dir } });
  const listed = (text: string) => ({ text, from: backups ? `ls ${backups.dir}` : '' });
  if (backups) {
    if (backups.error) emit('backup-dir', 'warning', { title: `backups: ${backups.error}`, evidence: [listed(backups.error)] });
    else if (!backups.newest) emit('backup-none', 'warning', { title: `no backups in ${backups.dir}`, evidence: [listed(`${backups.dir} holds no archive`)], fix: source ? create(source, 'make the first backup') : null });
    else if ((backups.newestAgeSec ?? 0) > BACKUP_STALE_SEC) {
      emit('backup-stale', 'warning', {
        title: `newest backup ${backups.newest.name} is ${Math.round((backups.newestAgeSec ?? 0) / 3600)} h old`,
        evidence: [listed(`the newest archive, ${backups.newest.name}, was written ${formatAge(backups.newestAgeSec)} ago (allowed: ${formatAge(BACKUP_STALE_SEC)})`)],
        fix: source ? create(source, 'bring the backups up to date') : null,
      });
    }
  }
  const sanity = status.backupSanity;
  if (!sanity) return;
  const evidence = sanity.evidence.slice(0, MAX_SANITY_EVIDENCE);
  if (sanity.verdict === 'stale-source') {
    const live = sanity.liveDirs.find((d) => d !== sanity.source) ?? null;
    emit('backup-source-stale', 'critical', {
      title: `backups would archive the wrong directory: ${sanity.summary}`,
      evidence,
      fix: live ? create(live, 'keep the live data safe first') : null,
      note: `set backups.source (or dataDir) of ${environment} to ${live ?? 'the directory the service writes'} in the config`,
    });
  }
  if (sanity.verdict === 'archives-stale') emit('backup-archives-stale', 'critical', { title: `the live data has no backup: ${sanity.summary}`, evidence, fix: create(sanity.source, 'no archive holds the live data') });
  if (sanity.verdict === 'unknown') emit('backup-sanity-unknown', 'info', { title: sanity.summary, evidence });
};

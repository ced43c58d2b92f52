// The doctor's service rules: the health of the environment's probe (failing, or answering with
// another version than the environment expects), and its backups: none, older than the schedule
// allows, unreadable, much smaller than the one before, and source sanity's verdicts (archiving
// a stale directory; no archive of the live data), each with a backup of the live data as the fix.
import { buildCatalog } from '../backups/catalog.js';
import { formatAge } from '../text/humanize.js';
import type { Fix } from './finding.js';
import type { Rule } from './facts.js';

/** A backup older than this is stale, when the schedule's interval is not known (status's refresh). */
export const BACKUP_STALE_SEC = 26 * 3600;
/** Two runs of the schedule may be missed (a reboot, a slow run), and an hour more, before the newest is stale. */
const allowedBackupAge = (intervalSec: number) => 2 * intervalSec + 3600;
/** Evidence items taken from source sanity (its reasons come first). */
const MAX_SANITY_EVIDENCE = 10;


export const healthRule: Rule = ({ environment, status }, emit) => {
  const h = status.health;
  if (!h || h.ok) return;
  if (h.versionExpected && h.failures.length === 1) {
    // It answers, and well: only not the version the environment runs (a deploy that did not take, or the wrong process).
    emit('health-version', 'warning', {
      title: `${environment} answers with version ${h.version ?? '(none)'}, not the expected /${h.versionExpected}/`,
      evidence: [
        { text: `version ${h.version ?? 'missing'} in the answer of ${h.url}; health.expect.version is /${h.versionExpected}/`, from: `curl ${h.url}; the config: environments.${environment}.health.expect.version` },
        ...(h.httpStatus !== null ? [{ text: `HTTP ${h.httpStatus} in ${h.latencyMs ?? '?'} ms${h.bodyPreview ? `: ${h.bodyPreview.slice(0, 200)}` : ''}`, from: `curl ${h.url}` }] : []),
      ],
      note: `check which process serves ${h.url} (a hand-started old one?) and what was last deployed; or update health.expect.version in the config`,
    });
    return;
  }
  emit('health-failing', 'critical', {
    title: `health check ${h.url} fails: ${h.failures.join('; ')}`,
    evidence: [
      ...h.failures.map((text) => ({ text, from: `curl ${h.url}` })),
      ...(h.httpStatus !== null ? [{ text: `HTTP ${h.httpStatus} in ${h.latencyMs ?? '?'} ms${h.bodyPreview ? `: ${h.bodyPreview.slice(0, 200)}` : ''}`, from: `curl ${h.url}` }] : []),
    ],
  });
};


export const backupRule: Rule = ({ environment, env, status, backupSchedule, now = Date.now() }, emit) => {
  const backups = status.backups;
  const source = env.backups?.source ?? env.dataDir;
  const create = (dir: string, why: string): Fix => ({ title: `${why}: back up ${dir} now (opsdeck backup create ${environment})`, plan: { kind: 'backup-create', environment, source: dir } });
  const listed = (text: string) => ({ text, from: backups ? `ls ${backups.dir}` : '' });
  if (backups) {
    if (backups.error) emit('backup-dir', 'warning', { title: `backups: ${backups.error}`, evidence: [listed(backups.error)] });
    else if (!backups.newest) emit('backup-none', 'warning', { title: `no backups in ${backups.dir}`, evidence: [listed(`${backups.dir} holds no archive`)], fix: source ? create(source, 'make the first backup') : null });
    else {
      const allowed = backupSchedule ? allowedBackupAge(backupSchedule.seconds) : BACKUP_STALE_SEC;
      if ((backups.newestAgeSec ?? 0) > allowed) {
        const schedule = backupSchedule ? `: two runs of the schedule ${backupSchedule.schedule}, every ${formatAge(backupSchedule.seconds)}, and an hour` : '';
        emit('backup-stale', 'warning', {
          title: `newest backup ${backups.newest.name} is ${formatAge(backups.newestAgeSec)} old${backupSchedule ? `, the schedule runs every ${formatAge(backupSchedule.seconds)}` : ''}`,
          evidence: [
            listed(`the newest archive, ${backups.newest.name}, was written ${formatAge(backups.newestAgeSec)} ago (allowed: ${formatAge(allowed)}${schedule})`),
            ...(backupSchedule ? [{ text: `${backupSchedule.schedule}: every ${formatAge(backupSchedule.seconds)}`, from: backupSchedule.from }] : []),
          ],
          fix: source ? create(source, 'bring the backups up to date') : null,
          note: `is the backup job still running? (opsdeck backups ${environment} shows its last run and result)`,
        });
      }
      // A job that suddenly archives the wrong thing: the newest much smaller than the one before (as the backups list shows it).
      const [newest, before] = buildCatalog(backups, { prefix: env.backups?.prefix ?? '' }, () => null, now).entries;
      if (newest?.alarm && before) {
        emit('backup-shrunk', 'warning', {
          title: `the newest backup ${newest.name} is ${newest.alarm}`,
          evidence: [listed(`${newest.name}: ${newest.sizeBytes} bytes; ${before.name}, the one before: ${before.sizeBytes} bytes`)],
          note: `look at what it holds (opsdeck backup verify ${environment} ${newest.name}): a backup job that suddenly archives much less usually archives the wrong directory, or a source that was emptied`,
        });
      }
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

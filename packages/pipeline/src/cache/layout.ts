import { join } from 'node:path';

/**
 * Every name the engine gives to something on disk, in one place (like open_lth's
 * foundations/paths.py). Nothing else in the engine spells a directory or file name.
 *
 *   <cache>/entries/<key>/entry.json        an entry's manifest (written last: no manifest, no entry)
 *   <cache>/entries/<key>/<port>.arrow      its output artifacts
 *   <cache>/entries/<key>/files/            extra files a stage wrote (a report)
 *   <cache>/tmp/<key16>-<pid>-<hex>/        an entry being built, renamed into entries/ when complete
 *   <cache>/corrupt/  <cache>/trash/        entries moved aside (corrupt / replaced or removed)
 *   <cache>/locks/<key>.lock, gc.lock       exclusive locks
 *   <cache>/runs/<stamp>-<name>.json        run records
 *   <cache>/runs/active/<id>.json           runs in progress (gc keeps what they use)
 *   <cache>/pins/<id>/<key>-<hex>/          a run's hard-linked copies of the entries it reads
 *   <study>/study.json, trials.arrow, sweep.html   a sweep's study directory
 */

const ENTRIES = 'entries';

/** The manifest of an entry (and of a pinned copy of one). */
export const ENTRY_META = 'entry.json';
/** Sub-directory of an entry (and of a staging directory) for a stage's extra files. */
export const FILES_DIR = 'files';

/** Where entries are moved aside: corrupt ones, and replaced or removed ones on their way out. */
export const ASIDE = { corrupt: 'corrupt', trash: 'trash' } as const;
export type AsideDir = (typeof ASIDE)[keyof typeof ASIDE];
/** Directories whose old contents of dead processes `lth cache gc` removes. */
export const LEFTOVER_DIRS = ['corrupt', 'trash', 'tmp', 'pins'] as const;
export type LeftoverDir = (typeof LEFTOVER_DIRS)[number];
/** Those whose entries are named `<...>-<pid>-<hex>` after the process that owns them. */
export const OWNED_BY_PROCESS: ReadonlySet<LeftoverDir> = new Set<LeftoverDir>(['tmp', 'pins']);
/** The one whose entries are named by a run registration id (runs/active/<id>.json). */
export const PINS_DIR: LeftoverDir = 'pins';

export const entriesDir = (root: string): string => join(root, ENTRIES);
/** Unchecked: LocalStore.entryDir checks that `name` is a cache key first. */
export const entryPath = (root: string, name: string): string => join(entriesDir(root), name);
export const entryMetaFile = (entryDir: string): string => join(entryDir, ENTRY_META);
export const entryFilesDir = (entryDir: string): string => join(entryDir, FILES_DIR);
/** An entry's directory relative to the cache, by its key's first 12 digits, for messages. */
export const shortEntryPath = (key: string): string => join(ENTRIES, key.slice(0, 12));
/** The file name of an output port's artifact inside an entry. */
export const outputFileName = (port: string): string => `${port}.arrow`;

export const leftoverDir = (root: string, which: LeftoverDir): string => join(root, which);
export const stagingDir = (root: string, name: string): string => join(leftoverDir(root, 'tmp'), name);
export const asidePath = (root: string, which: AsideDir, name: string): string => join(leftoverDir(root, which), name);

export const locksDir = (root: string): string => join(root, 'locks');
export const keyLockFile = (root: string, key: string): string => join(locksDir(root), `${key}.lock`);
export const gcLockFile = (root: string): string => join(locksDir(root), 'gc.lock');
/** A lock's temporary file before it is linked into place (fs-safe.ts writeTemp). */
export const isTempFileName = (name: string): boolean => name.endsWith('.tmp');

export const runsDir = (root: string): string => join(root, 'runs');
export const runRecordFile = (root: string, stamp: string, name: string, n: number): string => join(runsDir(root), `${stamp}-${name}${n ? `-${n}` : ''}.json`);
export const isRunRecordName = (name: string): boolean => name.endsWith('.json');
export const activeDir = (root: string): string => join(runsDir(root), 'active');
export const activeFile = (root: string, id: string): string => join(activeDir(root), `${id}.json`);
/** The registration id of a file name under runs/active, or undefined. */
export const activeIdOf = (name: string): string | undefined => (name.endsWith('.json') ? name.slice(0, -'.json'.length) : undefined);
export const pinsRoot = (root: string): string => leftoverDir(root, PINS_DIR);
export const pinsDir = (root: string, id: string): string => join(pinsRoot(root), id);

/** A sweep's study directory: the state it resumes from, the trials table, the HTML page. */
export const STUDY_FILES = { study: 'study.json', trials: 'trials.arrow', html: 'sweep.html' } as const;
export const studyFile = (dir: string): string => join(dir, STUDY_FILES.study);
/** The temporary file study.json is written to before it is renamed into place. */
export const studyTempFile = (dir: string): string => join(dir, `.${STUDY_FILES.study}.${process.pid}.tmp`);

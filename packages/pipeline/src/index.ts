// The public surface of the engine: what users, the CLI and the packages built on it
// (@lth/sweep, @lth/cluster) use. Test helpers are in './testing' (@lth/pipeline/testing).
// Imports inside the engine point one way: runner -> cache -> definition.

// definition: pipeline files, their validation and expansion into a plan, the stage registry
export { PipelineError, StageError, UsageError, formatDiagnostic, listText, type Diagnostic } from './definition/errors';
export { Source } from './definition/source';
export { NAME_RE, SegmentName } from './definition/spec';
export { zodDiagnostics } from './definition/zod-diags';
export { LIMITS, limitText } from './definition/limits';
export { Registry, loadRegistry, extraStageModules, resolveStageModule, configJsonSchema, type RegisteredStage } from './definition/registry';
export { loadPipeline, planFromText, type Plan, type PlanNode, type InputBinding, type LoadOptions } from './definition/plan';
export { isForced } from './definition/force';
export { graphText, graphDot } from './definition/graph';

// cache: keys, the content-addressed store, its on-disk layout, run records, gc
export { ENTRY_META, STUDY_FILES, studyFile, studyTempFile, runsDir, entryPath } from './cache/layout';
export { codeFingerprint } from './cache/fingerprint';
export { cacheKey, diffParts, type KeyParts } from './cache/key';
export { bindInputs, keyParts, type BoundStage, type TaskInput } from './cache/bind';
export { acquireLock, type LockOptions, type Release } from './cache/lock';
export { LocalStore, type ArtifactStore, type Entry, type EntryMeta, type EntryOutput, type EntryFile, type Staging, type GetOptions } from './cache/store';
export { verifyCache, type VerifyResult } from './cache/verify';
export { fsErrorText } from './cache/fs-safe';
export { writeRunRecord, listRunRecords, readRunRecord } from './cache/record';
export { RunRecord, StageRecord, StageOutcome } from '@lth/artifacts';
export { listCache, gcCache, DEFAULT_GC_GRACE_MS, type CacheListing, type GcResult, type GcOptions } from './cache/gc';
export { resolveCacheDir, cacheDirProblem } from './cache/dir';

// runner: the scheduler, one executor per strategy, status
export { runTask, type StageTask, type TaskHooks } from './runner/task';
export type { Executor } from './runner/executor';
export { InProcessExecutor } from './runner/in-process';
export { ProcessExecutor } from './runner/process';
export { defaultJobs, createExecutor } from './runner/executors';
export { runPipeline, type RunOptions, type RunEvent, type StageState } from './runner/run';
export { pipelineStatus, type StageStatusLine } from './runner/status';

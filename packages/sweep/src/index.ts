// Running a study (what `lth sweep` uses).
export { runSweep, type SweepOptions, type SweepResult } from './study';
export type { SweepEvent } from './trial';
export { SweepSpace, ParamSpace, Objective, PrunerSpec, loadSpace, spaceFromText, spaceFromPipeline, checkSpaceAgainst, type LoadedSpace } from './space';
// A study's results: study.json, trials.arrow, sweep.html and the CLI's table.
export { readStudy, studyPath, type StudyFile, type TrialRecord, type RungResult, type Compute } from './state';
export { trialsTable, trialsText, writeStudyOutputs } from './outputs';
export { sweepHtml } from './html';
// The parts, as pure functions: trials from a space, the objective from metrics, the pruning rules.
export { sampleTrials, gridTrials, type TrialParams, type ParamValue } from './sampler';
export { objectiveValue } from './objective';
export { rungBudgets, shaNext, shaPromoted, type Job, type Schedule, type Action, type Direction } from './successive-halving';
export { ashaNext } from './asha';
export { ashaContinues } from './single-run';
export { simulate, reachedByRung, type SimStep } from './simulate';

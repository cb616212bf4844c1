export { ReportConfig, type ReportConfigInput } from './config';
export { earlyStopOf, finalAccuracy, runStats, testCurve, type RunStats } from './analyze';
export { collectRuns, type LotteryInputs, type RunPoint, type Variant, type VariantRole, type CollectedRuns } from './runs';
export { summarize, summaryTable, SUMMARY_COLUMNS, type SummaryRow } from './summary';
export { formatCell, markdownTable, markdownText, parseCell, parseMarkdownTable, renderMarkdown, unescapeMarkdownText } from './markdown';
export { lotteryPlots, curveRounds, type PlotSpec } from './plots';
export { renderSvg } from './render';
export { renderHtml, escapeHtml } from './html';
export { runInfoFromRuns, runInfoLines, formatDuration, type RunInfo } from './runinfo';
export { renderReport, writeReport, lotteryReport, type ReportData, type RenderedReport, type RenderedPlot } from './report';
export { reportLottery, stages } from './stage';
export { reportFromRunRecord, runInfoFromRecord, type ReportedRun } from './record';
export {
  InstabilityReportConfig,
  instabilityRows,
  pathRows,
  ticketPoints,
  denseAccuracy,
  type InstabilityReportConfigInput,
  type InstabilityInputs as InstabilityReportInputs,
  type InstabilityRow,
  type PathRow,
  type TicketPoint,
} from './instability-data';
export { pathPlot, instabilityPlot, accuracyVsRewindPlot } from './instability-plots';
export { renderInstabilityReport, instabilityReport, escapeMarkdown, INSTABILITY_COLUMNS, type RenderedInstabilityReport } from './instability-report';
export { reportInstability } from './instability-stage';

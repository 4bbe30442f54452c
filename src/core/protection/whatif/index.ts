// The what-if planner's public surface: for the API (GET /v1/x-masakari/whatif), the CLI (masakari whatif) and the
// protection report (src/core/protection/, N+1 per segment).
export { planHostLoss, REASONS, type WhatIfDeps } from './plan.ts';
export { segmentSurvivesAnyHostLoss, unrecoveredWanted, findSegment } from './segment.ts';
export { DEFAULT_EVACUATION_SECONDS } from './makespan.ts';
export type { WhatIfPlan, WhatIfInstance, WhatIfCapacity, SegmentSurvival, ResourceView } from './types.ts';

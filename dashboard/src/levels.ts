// Levels as the library ranks them (include/hydra/core/level.hpp, severity()):
// security counts as warning, audit and compliance as info. The bridge
// filters by the same ranks (min_level), so the client-side check of the
// records already in memory agrees with it.
export const LEVELS = [
  "trace", "debug", "info", "warning", "error", "critical", "security", "audit", "compliance",
] as const;

const SEVERITY: Record<string, number> = {
  trace: 0, debug: 1, info: 2, audit: 2, compliance: 2, warning: 3, security: 3, error: 4,
  critical: 5,
};

export function severity(level: string): number {
  const s = SEVERITY[level];
  return s === undefined ? -1 : s;
}

/** True when a record of `level` passes the threshold `min` ("" passes all). */
export function passesLevel(level: string, min: string): boolean {
  if (!min) return true;
  return severity(level) >= severity(min);
}

/** The CSS class of a level (unknown levels get none of the colours). */
export function levelClass(level: string): string {
  return SEVERITY[level] === undefined ? "level-unknown" : "level-" + level;
}

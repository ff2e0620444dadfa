/** Least-squares line through points: how fast a series (RSS over a soak, say) grows. */

/**
 * Slope of the least-squares line through `points` ([x, y] pairs), in y units per x unit; null
 * with fewer than two points or when every x is the same (no line to fit).
 */
export function leastSquaresSlope(points: readonly (readonly [number, number])[]): number | null {
  if (points.length < 2) return null;
  const meanX = points.reduce((s, [x]) => s + x, 0) / points.length;
  const meanY = points.reduce((s, [, y]) => s + y, 0) / points.length;
  let covariance = 0;
  let varianceX = 0;
  for (const [x, y] of points) {
    covariance += (x - meanX) * (y - meanY);
    varianceX += (x - meanX) ** 2;
  }
  return varianceX === 0 ? null : covariance / varianceX;
}

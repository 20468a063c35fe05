// A small SVG line chart for live series (throughput, lag). No library: a polyline, the
// latest value and the maximum, readable in both colour schemes.

export interface Point {
  t: number;
  v: number;
}

export function Chart({
  points,
  label,
  format,
  height = 90,
}: {
  points: Point[];
  label: string;
  format: (v: number) => string;
  height?: number;
}) {
  const width = 320;
  const max = Math.max(1, ...points.map((p) => p.v));
  const t0 = points[0]?.t ?? 0;
  const t1 = points[points.length - 1]?.t ?? 1;
  const span = Math.max(1, t1 - t0);
  const xy = points.map((p) => {
    const x = ((p.t - t0) / span) * (width - 2) + 1;
    const y = height - 4 - (p.v / max) * (height - 12);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const last = points[points.length - 1]?.v;
  return (
    <figure class="chart">
      <figcaption>
        <span>{label}</span>
        <strong>{last === undefined ? "—" : format(last)}</strong>
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label}: ${last === undefined ? "no data yet" : format(last)}`} preserveAspectRatio="none">
        <line x1="0" y1={height - 4} x2={width} y2={height - 4} class="axis" />
        {xy.length > 1 ? (
          <>
            <polygon class="area" points={`${xy[0]!.split(",")[0]},${height - 4} ${xy.join(" ")} ${xy[xy.length - 1]!.split(",")[0]},${height - 4}`} />
            <polyline class="line" points={xy.join(" ")} />
          </>
        ) : null}
      </svg>
      <div class="chart-foot">
        <span>max {format(points.length ? Math.max(...points.map((p) => p.v)) : 0)}</span>
        <span>{points.length > 1 ? `last ${Math.round(span / 1000)} s` : "collecting…"}</span>
      </div>
    </figure>
  );
}

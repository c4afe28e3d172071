// The bench's fan-out transform: each generated row (user,series,episode,timestamp,moddt) to three
// tables, like examples/watch-history. Used for the "1 table vs 3 tables" figure in README.
const int = (text) => Number.parseInt(text, 10);

export default {
  bench_by_user: (row) => ({
    user: int(row.user),
    timestamp: int(row.timestamp),
    series: int(row.series),
    episode: int(row.episode),
    moddt: row.moddt,
  }),
  bench_by_series: (row) => ({
    series: int(row.series),
    viewer: `${row.user}#${row.timestamp}`,
    episode: int(row.episode),
  }),
  bench_latest: (row) => ({ user: int(row.user), series: int(row.series), episode: int(row.episode), at: row.moddt }),
};

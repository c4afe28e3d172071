// One pass over the watch log, three tables (see README, "Fan-out to several tables").
// Each function gets the row (column -> cell text) and returns an item, a list of items, or null.

/** @typedef {import('dynaload').TransformFunction} TransformFunction */

const int = (text) => Number.parseInt(text, 10);

export default {
  /** Every watch event of a user, newest last: (user, timestamp). */
  watch_by_user: (row) => ({
    user: int(row.user),
    timestamp: int(row.timestamp),
    series: int(row.series),
    episode: int(row.episode),
    ...(row.position === '' ? {} : { position: int(row.position) }),
  }),

  /** Who watched a series: (series, "user#timestamp"). */
  watch_by_series: (row) => ({
    series: int(row.series),
    viewer: `${row.user}#${row.timestamp}`,
    episode: int(row.episode),
  }),

  /**
   * Where each user stands in each series: (user, series). Rows of one file are written in order,
   * so the last row of a (user, series) pair is what stays: the log is sorted by time. A row
   * without a position leaves the attribute out, as mapping.json does (empty cells dropped).
   */
  latest: (row) => ({
    user: int(row.user),
    series: int(row.series),
    episode: int(row.episode),
    ...(row.position === '' ? {} : { position: int(row.position) }),
    at: row.moddt,
  }),
};

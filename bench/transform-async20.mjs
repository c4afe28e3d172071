// The bench's async transform: the item of transform-sync.mjs after waiting 20 ms, as a lookup in
// another table or service would. Measures what concurrent calls recover of the synchronous rate.
const int = (text) => Number.parseInt(text, 10);
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export default async (row) => {
  await wait(20);
  return {
    user: int(row.user),
    timestamp: int(row.timestamp),
    series: int(row.series),
    episode: int(row.episode),
    moddt: row.moddt,
  };
};

import { Option } from './packages/commander.js';
import { DEFAULTS } from './config.js';

/** How CSV files are split into records and fields: declared once for `upload` and `import`. */
export function csvOptions(): [Option, Option, Option, Option] {
  return [
    new Option('--no-header', 'CSV files have no header line (requires --columns)'),
    new Option('--columns <names>', 'column names, comma-separated (replaces the header line when files have one)'),
    new Option('-d, --delimiter <char>', 'CSV field delimiter; \\t for tab (default: "," or a tab for .tsv files)'),
    new Option('--escape <char>', 'escape for a quote inside a quoted field; \\ for mysqldump-style \\"').default(
      DEFAULTS.escape,
    ),
  ];
}

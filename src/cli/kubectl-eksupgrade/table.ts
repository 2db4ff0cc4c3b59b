// Column tables the way kubectl prints them: upper-case headers, left-aligned columns three spaces
// apart, "<none>" for an empty cell, no trailing blanks.

export type Row = readonly (string | number | undefined)[];

const NONE = "<none>";

function cell(value: string | number | undefined): string {
  if (value === undefined || value === "") return NONE;
  // A cell is one line: a message with a line break would break the columns of every row after it.
  return String(value).replace(/\s*\n\s*/g, " ");
}

export function table(headers: readonly string[], rows: readonly Row[]): string {
  const lines = [headers.map((header) => header.toUpperCase()), ...rows.map((row) => headers.map((_, index) => cell(row[index])))];
  const widths = headers.map((_, column) => Math.max(...lines.map((line) => line[column].length)));
  return lines
    .map((line) =>
      line
        .map((text, column) => (column === line.length - 1 ? text : text.padEnd(widths[column] + 3)))
        .join("")
        .trimEnd(),
    )
    .join("\n");
}

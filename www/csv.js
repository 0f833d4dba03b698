// Any view as CSV (RFC 4180): a column for the key, then one per field of the
// rows (nested values as JSON), so a spreadsheet opens what the view holds.

/** The view's rows as CSV text. */
export async function csv(view) {
  const rows = await view.all();
  const fields = [...new Set(rows.flatMap(({ value }) => (value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : ["value"])))];
  const cell = (value) => {
    const text = value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const line = (values) => values.map(cell).join(",");
  const body = rows.map(({ key, value }) => line([key, ...fields.map((field) => (fields.length === 1 && field === "value" && typeof value !== "object" ? value : value?.[field]))]));
  return [line(["key", ...fields]), ...body].join("\r\n") + "\r\n";
}

/** Downloads the view's rows as `<view>.csv`. */
export async function download(view) {
  const url = URL.createObjectURL(new Blob([await csv(view)], { type: "text/csv;charset=utf-8" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: `${view.name}.csv` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

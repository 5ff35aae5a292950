/**
 * Typed arrays kept in a Durable Object's SQLite storage as raw bytes in chunks (a SQLite value in a
 * Durable Object is at most 2 MB), in a table of `(name, part, data)` rows: what lets an object
 * evicted from memory come back from its own storage rather than from D1.
 */
const CHUNK_BYTES = 1 << 20;

/** The table columns are kept in (`table` is always one of our own names, never input). */
export function createColumnTable(sql: SqlStorage, table: string) {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (name TEXT NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (name, part))`);
}

export function writeColumn(sql: SqlStorage, table: string, name: string, column: ArrayBufferView) {
  const bytes = new Uint8Array(column.buffer, column.byteOffset, column.byteLength);
  sql.exec(`DELETE FROM ${table} WHERE name = ?`, name);
  for (let part = 0, offset = 0; offset < bytes.length; part++, offset += CHUNK_BYTES) {
    sql.exec(`INSERT INTO ${table} (name, part, data) VALUES (?, ?, ?)`, name, part, bytes.slice(offset, offset + CHUNK_BYTES).buffer);
  }
}

export function readColumn<T>(sql: SqlStorage, table: string, name: string, make: new (buffer: ArrayBuffer) => T): T {
  const chunks = sql.exec<{ data: ArrayBuffer }>(`SELECT data FROM ${table} WHERE name = ? ORDER BY part`, name).toArray();
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.data.byteLength, 0));
  let offset = 0;
  for (const { data } of chunks) {
    bytes.set(new Uint8Array(data), offset);
    offset += data.byteLength;
  }
  return new make(bytes.buffer);
}

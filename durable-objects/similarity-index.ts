import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import { EmbeddingIndex, EmbeddingIndexBuilder } from "../src/engine/embedding-index";
import { storedEmbedding } from "../src/db/stored-json";
import { createColumnTable, readColumn, writeColumn } from "../src/lib/stored-columns";
import { countCustomers } from "../src/services/model-runs";
import { embeddingsVersion, readEmbeddingPage, roundedSimilarity, type SimilarMatch } from "../src/services/vector-store";

/** Embeddings read per D1 query while building: a page is ~1.5 MB of rows, whatever the project's size. */
const BUILD_PAGE = 10_000;

/** What an index holds, where it came from and how long that took (for warm-ups and benchmarks). */
export type IndexState = { version: number; customers: number; dimensions: number; bytes: number; source: "d1" | "storage"; ms: number };

type Held = { version: number; embeddings: EmbeddingIndex; source: "d1" | "storage"; ms: number };

const COLUMNS = ["vectors", "norms", "idBytes", "idOffsets"] as const;

/**
 * One project's embeddings in memory (named by the project id), packed for exact cosine search
 * (EmbeddingIndex: ~36 MB at 500,000 customers of 13 dimensions), so a similar-customers request
 * scans typed arrays instead of reading and parsing every customer's JSON from D1.
 *
 * It answers at the version of projects.embeddings_version the request read, or later: an older
 * index (a model run finished since, a customer was removed) is dropped and built again from D1 in
 * keyset pages before it answers. The version is read before the pages, so a write racing the build
 * leaves the index labelled older than its rows and the next request builds again, never the
 * reverse. One build runs at a time, whatever the number of requests waiting on it. What it built is
 * kept in its own storage too, so an object evicted from memory (after a minute or two idle) comes
 * back from there (tens of MB of its SQLite) rather than from D1, when the version still holds.
 */
export class SimilarityIndex extends DurableObject<Bindings> {
  private held: Held | null = null;
  private building: Promise<Held | null> | null = null;
  /** moves on forget(), so a build that was in flight then is not kept */
  private generation = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    createTables(ctx.storage.sql);
  }

  async nearest(projectId: string, version: number, customerKey: string, limit: number): Promise<SimilarMatch[] | null> {
    const held = await this.current(projectId, version);
    if (!held) return null;
    const { embeddings } = held;
    const self = embeddings.find(customerKey);
    if (self === -1) return null;
    return embeddings.nearest(self, limit).map((n) => ({ customerKey: embeddings.customerId(n.index), similarity: roundedSimilarity(n.similarity) }));
  }

  /** Brings the index up to the project's current version ahead of the first question. */
  async warm(projectId: string): Promise<IndexState | null> {
    const version = await embeddingsVersion(this.env.DB, projectId);
    const held = version === null ? null : await this.current(projectId, version);
    return held && { version: held.version, customers: held.embeddings.n, dimensions: held.embeddings.d, bytes: held.embeddings.bytes, source: held.source, ms: held.ms };
  }

  /** Drops everything (the project was deleted); a build in flight is discarded when it ends. */
  async forget(): Promise<void> {
    this.generation++;
    this.held = null;
    await this.ctx.storage.deleteAll();
    createTables(this.ctx.storage.sql);
  }

  private async current(projectId: string, version: number): Promise<Held | null> {
    for (;;) {
      if (this.held && this.held.version >= version) return this.held;
      // Evicted since the last build: what it stored, if it is recent enough.
      if (!this.held && !this.building) {
        this.held = this.stored(version);
        if (this.held) return this.held;
      }
      if (!this.building) {
        // The old index's memory goes to the new one: both would not fit at 500,000 customers.
        this.held = null;
        this.building = this.build(projectId).finally(() => {
          this.building = null;
        });
      }
      const built = await this.building;
      if (!built || built.version >= version) return built;
      // The embeddings changed after that build read its version: build again.
    }
  }

  private async build(projectId: string): Promise<Held | null> {
    const started = Date.now();
    const generation = this.generation;
    const version = await embeddingsVersion(this.env.DB, projectId);
    if (version === null) return null;
    const builder = new EmbeddingIndexBuilder(await countCustomers(this.env.DB, projectId));
    for (let after = ""; ; ) {
      const page = await readEmbeddingPage(this.env.DB, projectId, after, BUILD_PAGE);
      for (const row of page) builder.add(row.customer_id, storedEmbedding(row.embedding));
      if (page.length < BUILD_PAGE) break;
      after = page.at(-1)!.customer_id;
    }
    const embeddings = builder.finish();
    if (generation !== this.generation) return null;
    try {
      this.save(version, embeddings);
    } catch (error) {
      // Only what saves an evicted object a read of D1: the answer does not depend on it.
      console.error(JSON.stringify({ level: "error", message: "similarity index not stored", projectId, error: String(error) }));
    }
    this.held = ready(projectId, { version, embeddings, source: "d1", ms: Date.now() - started });
    return this.held;
  }

  /** Replaces the stored index with this one. */
  private save(version: number, embeddings: EmbeddingIndex) {
    const { storage } = this.ctx;
    storage.transactionSync(() => {
      storage.sql.exec("DELETE FROM index_chunks");
      embeddings.columns.forEach((column, i) => writeColumn(storage.sql, "index_chunks", COLUMNS[i]!, column));
      storage.sql.exec("INSERT OR REPLACE INTO index_meta (id, version, n, d) VALUES (1, ?, ?, ?)", version, embeddings.n, embeddings.d);
    });
  }

  /** The index stored by the last build if it is at `version` or later, else null. */
  private stored(version: number): Held | null {
    const started = Date.now();
    const sql = this.ctx.storage.sql;
    const meta = sql.exec<{ version: number; n: number; d: number }>("SELECT version, n, d FROM index_meta WHERE id = 1").toArray()[0];
    if (!meta || meta.version < version) return null;
    const embeddings = new EmbeddingIndex(
      meta.n,
      meta.d,
      readColumn(sql, "index_chunks", "vectors", Int32Array),
      readColumn(sql, "index_chunks", "norms", Float64Array),
      readColumn(sql, "index_chunks", "idBytes", Uint8Array),
      readColumn(sql, "index_chunks", "idOffsets", Uint32Array),
    );
    return ready(this.ctx.id.name ?? null, { version: meta.version, embeddings, source: "storage", ms: Date.now() - started });
  }
}

/** Logs what an index holds when it is ready (benchmarks read the line). */
function ready(projectId: string | null, held: Held): Held {
  const { version, embeddings, source, ms } = held;
  console.log(JSON.stringify({ level: "info", message: "similarity index ready", projectId, source, version, customers: embeddings.n, dimensions: embeddings.d, bytes: embeddings.bytes, ms }));
  return held;
}

function createTables(sql: SqlStorage) {
  sql.exec("CREATE TABLE IF NOT EXISTS index_meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, n INTEGER NOT NULL, d INTEGER NOT NULL)");
  createColumnTable(sql, "index_chunks");
}

import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../src/env";
import { EmbeddingIndexBuilder, type EmbeddingIndex } from "../src/engine/embedding-index";
import { storedEmbedding } from "../src/db/stored-json";
import { countCustomers } from "../src/services/model-runs";
import { embeddingsVersion, readEmbeddingPage, roundedSimilarity, type SimilarMatch } from "../src/services/vector-store";

/** Embeddings read per D1 query while building: a page is ~1.5 MB of rows, whatever the project's size. */
const BUILD_PAGE = 10_000;

/** What an index holds, and how long its last build took (for warm-ups and benchmarks). */
export type IndexState = { version: number; customers: number; dimensions: number; bytes: number; buildMs: number };

type Held = { version: number; embeddings: EmbeddingIndex; buildMs: number };

/**
 * One project's embeddings in memory (named by the project id), packed for exact cosine search
 * (EmbeddingIndex: ~36 MB at 500,000 customers of 13 dimensions), so a similar-customers request
 * scans typed arrays instead of reading and parsing every customer's JSON from D1.
 *
 * It answers at the version of projects.embeddings_version the request read, or later: an older
 * index (a model run finished since, a customer was removed) is dropped and built again from D1 in
 * keyset pages before it answers. The version is read before the pages, so a write racing the build
 * leaves the index labelled older than its rows and the next request builds again, never the
 * reverse. One build runs at a time, whatever the number of requests waiting on it. Nothing is
 * kept in storage: an evicted object builds again from D1 (seconds at 500,000 customers).
 */
export class SimilarityIndex extends DurableObject<Bindings> {
  private held: Held | null = null;
  private building: Promise<Held | null> | null = null;
  /** moves on forget(), so a build that was in flight then is not kept */
  private generation = 0;

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
    return held && { version: held.version, customers: held.embeddings.n, dimensions: held.embeddings.d, bytes: held.embeddings.bytes, buildMs: held.buildMs };
  }

  /** Drops everything (the project was deleted); a build in flight is discarded when it ends. */
  async forget(): Promise<void> {
    this.generation++;
    this.held = null;
    await this.ctx.storage.deleteAll();
  }

  private async current(projectId: string, version: number): Promise<Held | null> {
    for (;;) {
      if (this.held && this.held.version >= version) return this.held;
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
    const held = { version, embeddings: builder.finish(), buildMs: Date.now() - started };
    if (generation !== this.generation) return null;
    this.held = held;
    console.log(JSON.stringify({ level: "info", message: "similarity index built", projectId, version, customers: held.embeddings.n, dimensions: held.embeddings.d, bytes: held.embeddings.bytes, ms: held.buildMs }));
    return held;
  }
}

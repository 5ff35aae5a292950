import { parse } from "sql-parser-cst";
import type { AnalyticsScope } from "./scope";
import { derivedKeys, joinEqualities, outerReferences, outputNames, sourcesWithin, type ColumnRef } from "./sql-shape";
import { starShape, starTableNames, starTables, starView } from "./star-schema";
import { WAREHOUSE_TABLE_NAMES } from "./warehouse-tables";

/**
 * The SQL API's gatekeeper. A query is parsed (SQLite dialect) into a syntax tree and accepted only if
 * it is one SELECT (or WITH … SELECT, UNIONs included) that reads star tables or its own CTEs, calls
 * only allow-listed functions, and cannot run away: no recursion (RECURSIVE, or a CTE name reused,
 * which SQLite reads as a CTE reading itself), no correlated subqueries (they run once per outer row),
 * no function that manufactures a large value from a small one inside another, and every JOIN
 * matches at most one row of one side, because its ON equates a key of that side with a column of
 * another source (a star table's key, or the GROUP BY columns of a CTE or subquery, as SQLite
 * resolves the names), so a join never multiplies rows. The query then runs in the organization's
 * own warehouse, never on D1 (durable-objects/analytics-warehouse.ts): what the guard misses can
 * reach only that organization's rows, and its time is bounded there by the object's CPU limit.
 * Every star-table reference is replaced by its view filtered to the caller's scope,
 * with the scope's ids as bound parameters: the query text never carries a tenant value, and no table
 * outside the views is reachable.
 */
export class QueryRejected extends Error {
  constructor(
    message: string,
    readonly position?: { line: number; column: number; offset?: number },
  ) {
    super(message);
  }
}

/**
 * Functions whose answer can be much larger than their arguments: one may not stand inside another
 * (hex(hex(hex(x))) doubles three times), and printf/format take a literal format with small widths.
 */
const growingFunctions = new Set(["hex", "replace", "printf", "format", "group_concat", "string_agg", "json_quote"]);
const MAX_FORMAT_WIDTH = 100;

/** Functions a query may call (lower case). Anything else, e.g. load_extension or randomblob, is refused. */
const allowedFunctions = new Set([
  "count", "sum", "total", "avg", "min", "max", "group_concat", "string_agg",
  "abs", "round", "ceil", "ceiling", "floor", "trunc", "sign", "mod", "power", "pow", "sqrt", "exp", "ln", "log", "log10", "log2",
  "coalesce", "ifnull", "nullif", "iif", "typeof",
  "lower", "upper", "length", "substr", "substring", "trim", "ltrim", "rtrim", "replace", "instr", "printf", "format", "char", "unicode", "hex",
  "date", "time", "datetime", "julianday", "strftime", "unixepoch",
  "json_extract", "json_type", "json_array_length", "json_valid", "json_quote",
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
]);

/** Names a CTE may not take: the star tables, the warehouse's tables under them, D1's tables, and the runner's own name. */
const reservedNames = new Set([
  ...starTableNames,
  ...WAREHOUSE_TABLE_NAMES,
  "__answer",
  "projects", "customers", "segments", "transactions", "segment_membership_snapshots", "segment_daily_sizes", "segment_overlaps",
  "usage_events", "usage_counters", "users", "sessions", "organizations", "members", "api_keys", "files", "jobs", "contact_messages",
  "sqlite_master", "sqlite_schema", "sqlite_temp_master", "sqlite_sequence", "d1_migrations",
]);

const MAX_TABLE_REFERENCES = 12;
const MAX_QUERY_LENGTH = 20_000;

type Node = { type: string; range?: [number, number]; [key: string]: unknown };
/** One thing a FROM reads, as the join check sees it: the name it goes by, its columns and keys. */
type Source = { name: string; columns: string[] | null; keys: string[][] };

const KEYS_HELP = starTables
  .filter((t) => t.keys.length)
  .map((t) => `${t.name}.${t.keys.map((k) => k.join(" + ")).join(" or ")}`)
  .join(", ");
type Replacement = { start: number; end: number; text: string; params: unknown[] };

/**
 * The rewritten query, and where each of its pieces came from: `spans` pairs an offset of `sql` with
 * the tenant's offset it stands for (a view stands for the table name it replaced), so an error
 * SQLite reports in `sql` can be placed in the tenant's text without showing the rewrite.
 */
export type GuardedQuery = { sql: string; params: unknown[]; tables: string[]; spans: Array<{ at: number; source: number; copied: boolean }> };

export function guardQuery(query: string, scope: AnalyticsScope): GuardedQuery {
  if (query.length > MAX_QUERY_LENGTH) throw new QueryRejected(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  let program: Node;
  try {
    program = parse(query, { dialect: "sqlite", includeRange: true }) as unknown as Node;
  } catch (error) {
    throw new QueryRejected(`syntax error: ${firstLine(error)}`, positionOf(error, query));
  }
  const statements = (program.statements as Node[]).filter((s) => s.type !== "empty");
  if (statements.length !== 1) throw new QueryRejected("send exactly one SELECT statement");
  const statement = statements[0]!;
  if (statement.type !== "select_stmt" && statement.type !== "compound_select_stmt") {
    throw new QueryRejected("only SELECT (or WITH … SELECT) is allowed", at(statement, query));
  }
  const guard = new Guard(query, scope);
  guard.query(statement, []);
  return guard.rewrite();
}

class Guard {
  private readonly replacements: Replacement[] = [];
  /** result columns without an alias: SQLite names them by their text, which must stay the tenant's */
  private readonly unnamedColumns: Array<[number, number]> = [];
  private readonly tables = new Set<string>();
  /** the columns and keys of each CTE, by name, for joins and subqueries that read it */
  private readonly cteShapes = new Map<string, { columns: string[] | null; keys: string[][] }>();
  private references = 0;
  /** how many growing functions the expression being walked stands inside */
  private growing = 0;

  constructor(
    private readonly source: string,
    private readonly scope: AnalyticsScope,
  ) {}

  /** A SELECT or compound SELECT, with the CTE names visible to it. */
  query(node: Node, ctes: string[]): void {
    if (node.type === "compound_select_stmt") {
      for (const [key, child] of Object.entries(node)) {
        if (key === "left" || key === "right") this.query(child as Node, ctes);
        else if (key !== "range") this.expression(child, ctes);
      }
      return;
    }
    if (node.type === "paren_expr") return this.query(node.expr as Node, ctes);
    if (node.type !== "select_stmt") throw this.reject("expected a SELECT", node);
    const visible = [...ctes];
    for (const clause of node.clauses as Node[]) {
      if (clause.type === "with_clause") {
        if (clause.recursiveKw) throw this.reject("recursive CTEs are not allowed", clause);
        for (const cte of (clause.tables as Node).items as Node[]) {
          const name = identifierName(cte.table as Node);
          if (!name) throw this.reject("a CTE needs a plain name", cte);
          if (reservedNames.has(name)) throw this.reject(`a CTE may not be named ${name}`, cte.table as Node);
          // SQLite resolves a reused name inside the new CTE's body to the new CTE itself: recursion.
          if (this.cteShapes.has(name)) throw this.reject(`the CTE name ${name} is used twice; give each CTE its own name`, cte.table as Node);
          if (cte.columns) throw this.reject("name a CTE's columns with aliases in its SELECT, not in a list after its name", cte.table as Node);
          // A CTE sees only the CTEs before it (no recursion).
          this.query(cte.expr as Node, visible);
          const body = cte.expr as Node;
          this.cteShapes.set(name, { columns: outputNames(body, this.columnsOf), keys: derivedKeys(body, this.columnsOf) });
          visible.push(name);
        }
      } else if (clause.type === "from_clause") {
        this.tableExpression(clause.expr as Node, visible);
      } else if (clause.type === "select_clause") {
        this.expression(clause, visible);
        for (const column of ((clause.columns as Node).items as Node[]) ?? []) {
          if (column.range && column.type !== "alias" && column.type !== "all_columns" && column.type !== "member_expr" && column.type !== "identifier") {
            this.unnamedColumns.push(column.range);
          }
        }
      } else {
        this.expression(clause, visible);
      }
    }
  }

  /** Whatever may stand after FROM: tables, aliases, subqueries and joins; returns what it reads. */
  private tableExpression(node: Node, ctes: string[]): Source[] {
    switch (node.type) {
      case "identifier":
        this.tableReference(node, node, ctes);
        return [this.sourceOf(identifierName(node)!, identifierName(node)!)];
      case "alias": {
        const inner = node.expr as Node;
        const alias = identifierName(node.alias as Node) ?? "";
        if (inner.type === "identifier") {
          this.tableReference(inner, null, ctes);
          return [this.sourceOf(alias, identifierName(inner)!)];
        }
        if (inner.type === "paren_expr") {
          this.query(inner.expr as Node, ctes);
          const body = inner.expr as Node;
          return [{ name: alias, columns: outputNames(body, this.columnsOf), keys: derivedKeys(body, this.columnsOf) }];
        }
        throw this.reject("only star tables, CTEs and subqueries can be read", inner);
      }
      case "paren_expr": {
        const inner = node.expr as Node;
        if (inner.type === "join_expr") return this.tableExpression(inner, ctes);
        this.query(inner, ctes);
        return [{ name: "", columns: outputNames(inner, this.columnsOf), keys: derivedKeys(inner, this.columnsOf) }];
      }
      case "join_expr":
        return this.join(node, ctes);
      default:
        throw this.reject("only star tables, CTEs and subqueries can be read (no schema-qualified names or table functions)", node);
    }
  }

  /** A star table's or CTE's columns, by name. */
  private readonly columnsOf = (table: string) => this.sourceOf(table, table).columns;

  /** A star table or CTE read under `name`. */
  private sourceOf(name: string, table: string): Source {
    if (starTableNames.has(table)) return { name, ...starShape(table, this.scope) };
    // A CTE, or a name the guard refuses when it reaches it.
    return { name, ...(this.cteShapes.get(table) ?? { columns: null, keys: [] }) };
  }

  private join(node: Node, ctes: string[]): Source[] {
    const operator = node.operator;
    const words = typeof operator === "string" ? [operator] : (Array.isArray(operator) ? operator : [operator]).map((k) => String((k as Node).name ?? (k as Node).text ?? ""));
    const text = words.join(" ").toUpperCase();
    if (text === "," || text.includes("CROSS") || text.includes("NATURAL")) {
      throw this.reject("join with JOIN … ON a column equality (comma, CROSS and NATURAL joins are refused: they can run away)", node);
    }
    const specification = node.specification as Node | undefined;
    if (!specification) throw this.reject("a JOIN needs ON or USING", node);
    const left = this.tableExpression(node.left as Node, ctes);
    const right = this.tableExpression(node.right as Node, ctes);
    this.expression(specification, ctes);
    const equalities = resolvedEqualities(specification, left, right);
    // The key may be on the right, or on the left when the left is one source: a key of one source
    // among several joined ones still lets the rows of the others multiply.
    if (!(right.length === 1 && keyCovered(right[0]!, equalities)) && !(left.length === 1 && keyCovered(left[0]!, equalities))) {
      throw this.reject(
        `each JOIN must match at most one row of one side (otherwise rows multiply and the query can run away): equate a key of one side in ON or USING, such as ${KEYS_HELP}, or the GROUP BY columns of a CTE or subquery`,
        specification,
      );
    }
    return [...left, ...right];
  }

  /**
   * Refuses a subquery in an expression that refers to the query around it: SQLite runs such a
   * subquery once per outer row, which over a fact table is a full scan per row.
   */
  private refuseCorrelated(subquery: Node) {
    const { names, columns } = sourcesWithin(subquery, this.columnsOf);
    // Where a source's columns are not known, any unqualified name might be the outer query's.
    const outer = outerReferences(subquery, names, columns ?? new Set());
    if (outer.length) {
      const why = columns ? `${outer[0]} refers to the query around it` : `${outer[0]} may refer to the query around it: name the columns of what the subquery reads`;
      throw this.reject(`correlated subqueries are not allowed (${why}; they run once per row): use a JOIN on a key or a CTE`, subquery);
    }
  }

  /** A table name in FROM: a CTE stays as it is; a star table becomes its scoped view. */
  private tableReference(identifier: Node, unaliased: Node | null, ctes: string[]) {
    const name = identifierName(identifier);
    if (++this.references > MAX_TABLE_REFERENCES) throw this.reject(`at most ${MAX_TABLE_REFERENCES} table references per query`, identifier);
    if (name && ctes.includes(name)) return;
    if (!name || !starTableNames.has(name)) throw this.reject(`unknown table ${identifier.text ?? ""}; see GET /api/analytics/schema`, identifier);
    this.tables.add(name);
    const view = starView(name, this.scope);
    const [start, end] = identifier.range!;
    // Without an alias the view keeps the table's name, so `dim_customer.x` still resolves.
    this.replacements.push({ start, end, text: unaliased ? `(${view.sql}) AS ${name}` : `(${view.sql})`, params: view.params });
  }

  /** Any other part of a query: checks calls and nested queries, refuses parameters. */
  private expression(node: unknown, ctes: string[]): void {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const child of node) this.expression(child, ctes);
      return;
    }
    const n = node as Node;
    switch (n.type) {
      case "select_stmt":
      case "compound_select_stmt":
        this.refuseCorrelated(n);
        return this.query(n, ctes);
      case "parameter":
        throw this.reject("bound parameters are not supported; write values into the query", n);
      case "func_call": {
        const name = identifierName(n.name as Node);
        if (!name || !allowedFunctions.has(name)) throw this.reject(`function ${(n.name as Node)?.text ?? "?"} is not allowed`, n);
        if (!growingFunctions.has(name)) break;
        if (this.growing > 0) throw this.reject(`${name}() may not stand inside another function that grows its value (hex, replace, printf, format, group_concat, string_agg, json_quote)`, n);
        // A running group_concat over a window is the whole column so far on every row: quadratic.
        if (n.over && (name === "group_concat" || name === "string_agg")) throw this.reject(`${name}() cannot be used as a window function`, n);
        if (name === "printf" || name === "format") this.checkFormat(n);
        this.growing++;
        try {
          for (const [key, child] of Object.entries(n)) if (key !== "range") this.expression(child, ctes);
        } finally {
          this.growing--;
        }
        return;
      }
      case "member_expr":
        if ((n.object as Node)?.type === "member_expr") throw this.reject("schema-qualified names are not allowed", n);
        break;
      case "binary_expr": {
        // SQLite reads a whole table in `x IN table_name`: only lists and subqueries may follow IN.
        const operator = String(Array.isArray(n.operator) ? (n.operator as Node[]).map((k) => k.name ?? k.text).join(" ") : (n.operator as Node)?.name ?? n.operator).toUpperCase();
        const right = n.right as Node;
        if (operator.endsWith("IN") && right && (right.type === "identifier" || right.type === "member_expr" || right.type === "func_call")) {
          throw this.reject("IN must be followed by a list or a subquery", right);
        }
        break;
      }
      case "from_clause":
        this.tableExpression(n.expr as Node, ctes);
        return;
    }
    for (const [key, child] of Object.entries(n)) if (key !== "range") this.expression(child, ctes);
  }

  /** printf/format: a literal format whose widths and precisions are small numbers (not `*`). */
  private checkFormat(call: Node) {
    const args = (((call.args as Node | undefined)?.expr as Node | undefined)?.args as Node | undefined)?.items as Node[] | undefined;
    const format = args?.[0];
    if (!format || format.type !== "string_literal") throw this.reject("printf/format need a literal format string", call);
    for (const spec of String(format.value).matchAll(/%[-+ 0#,!]*(\*|\d+)?(?:\.(\*|\d+))?/g)) {
      for (const size of [spec[1], spec[2]]) {
        if (size === "*") throw this.reject("printf/format widths must be written in the format, not passed as *", format);
        if (size !== undefined && Number(size) > MAX_FORMAT_WIDTH) throw this.reject(`printf/format widths and precisions are at most ${MAX_FORMAT_WIDTH}`, format);
      }
    }
  }

  rewrite(): GuardedQuery {
    // An unnamed expression column holding a view would be named by the view's text: name it by the tenant's.
    const aliases = this.unnamedColumns
      .filter(([start, end]) => this.replacements.some((r) => r.start >= start && r.end <= end))
      .map(([start, end]) => ({ start: end, end, text: ` AS "${this.source.slice(start, end).replaceAll('"', '""')}"`, params: [] }));
    const ordered = [...this.replacements, ...aliases].sort((a, b) => a.start - b.start || a.end - b.end);
    let sql = "";
    let cursor = 0;
    const params: unknown[] = [];
    const spans: GuardedQuery["spans"] = [];
    for (const r of ordered) {
      spans.push({ at: sql.length, source: cursor, copied: true });
      sql += this.source.slice(cursor, r.start);
      spans.push({ at: sql.length, source: r.start, copied: false });
      sql += r.text;
      params.push(...r.params);
      cursor = r.end;
    }
    spans.push({ at: sql.length, source: cursor, copied: true });
    sql += this.source.slice(cursor);
    return { sql: sql.replace(/;\s*$/, ""), params, tables: [...this.tables].sort(), spans };
  }

  private reject(message: string, node?: Node) {
    return new QueryRejected(message, node ? at(node, this.source) : undefined);
  }
}

function identifierName(node: Node | undefined): string | null {
  if (!node || node.type !== "identifier") return null;
  return String(node.name ?? node.text).toLowerCase();
}

/** A column of a JOIN's equality with the source SQLite reads it from (null: not known, or ambiguous). */
type Side = { source: Source | null; column: string };

/**
 * The `x = y` pairs of a JOIN's ON (or USING), each side resolved to its source as SQLite resolves
 * names: a qualifier names its source; an unqualified name is the one source that has that column.
 */
function resolvedEqualities(specification: Node, left: Source[], right: Source[]): Array<[Side, Side]> {
  const all = [...left, ...right];
  const resolveIn = (sources: Source[], ref: ColumnRef): Side => {
    if (ref.qualifier !== null) {
      const named = sources.filter((s) => s.name === ref.qualifier);
      return { source: named.length === 1 && named[0]!.columns?.includes(ref.column) ? named[0]! : null, column: ref.column };
    }
    if (sources.some((s) => s.columns === null)) return { source: null, column: ref.column };
    const having = sources.filter((s) => s.columns!.includes(ref.column));
    return { source: having.length === 1 ? having[0]! : null, column: ref.column };
  };
  if (specification.type === "join_using_specification") {
    // USING (c) equates c of the left with c of the right.
    return joinEqualities(specification).map(([a]) => [resolveIn(left, a), resolveIn(right, a)]);
  }
  return joinEqualities(specification).map(([a, b]) => [resolveIn(all, a), resolveIn(all, b)]);
}

/** Whether the equalities equate every column of a key of `source` with a column of another source. */
function keyCovered(source: Source, equalities: Array<[Side, Side]>): boolean {
  const equated = new Set<string>();
  for (const [a, b] of equalities) {
    if (!a.source || !b.source || a.source === b.source) continue;
    if (a.source === source) equated.add(a.column);
    if (b.source === source) equated.add(b.column);
  }
  return source.keys.some((key) => key.every((column) => equated.has(column)));
}

/**
 * The tenant's position of an offset in the rewritten query: a copied piece maps one to one, a
 * replacement to the start of what it replaced. Null past the query's end (the runner's own text).
 */
export function sourcePosition(guarded: GuardedQuery, source: string, offset: number) {
  if (offset < 0 || offset > guarded.sql.length) return null;
  const span = guarded.spans.findLast((s) => s.at <= offset);
  if (!span) return null;
  return positionIn(source, Math.min(source.length, span.copied ? span.source + (offset - span.at) : span.source));
}

function at(node: Node, source: string) {
  if (!node.range) return undefined;
  return positionIn(source, node.range[0]);
}

function positionIn(source: string, offset: number) {
  const before = source.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1, offset };
}

function firstLine(error: unknown) {
  return String(error instanceof Error ? error.message : error).split("\n")[0]!.replace(/^Syntax Error: /, "");
}

function positionOf(error: unknown, source: string) {
  const match = /--> [^:\n]*:(\d+):(\d+)/.exec(String(error instanceof Error ? error.message : error));
  if (!match) return undefined;
  const line = Number(match[1]);
  const column = Number(match[2]);
  const offset = source.split("\n").slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + column - 1;
  return { line, column, offset };
}

/**
 * What the SQL guard needs to know about the shape of a parsed query (sql-parser-cst nodes): the
 * columns a SELECT puts out, the columns that name one of its rows, and the column equalities of a
 * JOIN's ON or USING.
 */
export type Node = { type: string; range?: [number, number]; [key: string]: unknown };
export type ColumnRef = { qualifier: string | null; column: string };

const lower = (node: Node | undefined) => (node && node.type === "identifier" ? String(node.name ?? node.text).toLowerCase() : null);

function clause(select: Node, type: string): Node | undefined {
  return (select.clauses as Node[] | undefined)?.find((c) => c.type === type);
}

/** The name a SELECT item comes out under, if it has one a query can refer to. */
function itemName(item: Node): string | null {
  if (item.type === "alias") return lower(item.alias as Node);
  if (item.type === "identifier") return lower(item);
  if (item.type === "member_expr") return lower(item.property as Node);
  return null;
}

/** Gives a star table's or CTE's columns by name (null when not known). */
export type ColumnsOf = (table: string) => string[] | null;

/**
 * A SELECT's output column names, `*` expanded from its FROM when the columns there are known;
 * null when they are not. A VALUES list puts out column1, column2, … as SQLite names them.
 */
export function outputNames(select: Node, columnsOf: ColumnsOf): string[] | null {
  if (select.type === "paren_expr") return outputNames(select.expr as Node, columnsOf);
  if (select.type !== "select_stmt") return null;
  const values = clause(select, "values_clause");
  if (values) {
    const first = ((values.values as Node).items as Node[])[0];
    const width = first?.type === "paren_expr" ? (((first.expr as Node).items as Node[] | undefined)?.length ?? 1) : 1;
    return Array.from({ length: width }, (_, i) => `column${i + 1}`);
  }
  const names: string[] = [];
  for (const item of selectItems(select)) {
    if (item.type === "all_columns") {
      const from = fromColumns(select, columnsOf);
      if (!from) return null;
      names.push(...from);
    } else if (item.type === "member_expr" && (item.property as Node)?.type === "all_columns") {
      const columns = sourceColumns(select, lower(item.object as Node), columnsOf);
      if (!columns) return null;
      names.push(...columns);
    } else {
      const name = itemName(item);
      if (name !== null) names.push(name);
    }
  }
  return names;
}

function selectItems(select: Node): Node[] {
  return ((clause(select, "select_clause")?.columns as Node | undefined)?.items as Node[] | undefined) ?? [];
}

/** The sources a SELECT's own FROM reads, by the name each goes by, with their columns. */
export function fromSources(select: Node, columnsOf: ColumnsOf): Array<{ name: string; columns: string[] | null }> {
  const from = clause(select, "from_clause");
  const found: Array<{ name: string; columns: string[] | null }> = [];
  const walk = (node: Node): void => {
    if (node.type === "join_expr") return (walk(node.left as Node), walk(node.right as Node));
    if (node.type === "identifier") return void found.push({ name: lower(node)!, columns: columnsOf(lower(node)!) });
    if (node.type === "alias") {
      const inner = node.expr as Node;
      const columns = inner.type === "identifier" ? columnsOf(lower(inner)!) : inner.type === "paren_expr" ? outputNames(inner.expr as Node, columnsOf) : null;
      return void found.push({ name: lower(node.alias as Node) ?? "", columns });
    }
    if (node.type === "paren_expr") {
      const inner = node.expr as Node;
      if (inner.type === "join_expr") return walk(inner);
      return void found.push({ name: "", columns: outputNames(inner, columnsOf) });
    }
    found.push({ name: "", columns: null });
  };
  if (from) walk(from.expr as Node);
  return found;
}

/** All columns a SELECT's FROM brings, in order; null when some are not known. */
function fromColumns(select: Node, columnsOf: ColumnsOf): string[] | null {
  const columns: string[] = [];
  for (const source of fromSources(select, columnsOf)) {
    if (!source.columns) return null;
    columns.push(...source.columns);
  }
  return columns;
}

function sourceColumns(select: Node, name: string | null, columnsOf: ColumnsOf): string[] | null {
  const matching = fromSources(select, columnsOf).filter((s) => s.name === name);
  return matching.length === 1 ? matching[0]!.columns : null;
}

/** Aliases given in a SELECT list (ORDER BY and HAVING may use them). */
export function selectAliases(select: Node): string[] {
  return selectItems(select).filter((item) => item.type === "alias").map((item) => lower(item.alias as Node)!).filter(Boolean);
}

/**
 * Column sets naming at most one row of a SELECT's result: its GROUP BY columns, or all its columns
 * under DISTINCT, each as SQLite resolves it. SQLite reads a GROUP BY name as a column of the FROM
 * first and as an output alias only failing that, so a name counts only when both readings agree:
 * the output column is that very column (`x`, `t.x`), or an alias no source column shares. Output
 * names must be unique (a duplicated alias would make one name stand for two columns).
 */
export function derivedKeys(select: Node, columnsOf: ColumnsOf): string[][] {
  if (select.type === "paren_expr") return derivedKeys(select.expr as Node, columnsOf);
  if (select.type !== "select_stmt") return [];
  const names = outputNames(select, columnsOf);
  const items = selectItems(select);
  if (!names || names.length !== items.length || new Set(names).size !== names.length) return [];
  const groupBy = clause(select, "group_by_clause");
  if (groupBy) {
    const inputs = fromColumns(select, columnsOf);
    const key: string[] = [];
    for (const expr of ((groupBy.columns as Node).items as Node[]) ?? []) {
      const index = expr.type === "number_literal" ? Number(expr.value) - 1 : items.findIndex((item) => sameColumn(item, expr) || (expr.type === "identifier" && itemName(item) === lower(expr) && item.type === "alias" && inputs !== null && !inputs.includes(lower(expr)!)));
      if (index < 0 || index >= items.length || !Number.isInteger(index)) return [];
      key.push(names[index]!);
    }
    return [key];
  }
  const modifiers = (clause(select, "select_clause")?.modifiers as Node[] | undefined) ?? [];
  return modifiers.some((m) => m.type === "select_distinct") ? [names] : [];
}

/** Whether an output item is the column `expr` names, unchanged (`x`, `t.x`, `t.x AS x`). */
function sameColumn(item: Node, expr: Node): boolean {
  const inner = item.type === "alias" ? (item.expr as Node) : item;
  const a = columnRef(inner);
  const b = columnRef(expr);
  if (!a || !b || a.column !== b.column || itemName(item) !== a.column) return false;
  return a.qualifier === b.qualifier || b.qualifier === null || a.qualifier === null;
}

function columnRef(node: Node): ColumnRef | null {
  if (node?.type === "identifier") return { qualifier: null, column: lower(node)! };
  if (node?.type === "member_expr" && (node.object as Node)?.type === "identifier" && (node.property as Node)?.type === "identifier") {
    return { qualifier: lower(node.object as Node), column: lower(node.property as Node)! };
  }
  return null;
}

/** The `x = y` column pairs a JOIN requires (those joined by AND; an OR promises nothing). */
export function joinEqualities(specification: Node): Array<[ColumnRef, ColumnRef]> {
  if (specification.type === "join_using_specification") {
    const columns = (((specification.expr as Node).expr as Node).items as Node[]).map((c) => lower(c)!);
    return columns.map((column) => [{ qualifier: null, column }, { qualifier: null, column }]);
  }
  const pairs: Array<[ColumnRef, ColumnRef]> = [];
  const walk = (node: Node | undefined) => {
    if (!node) return;
    if (node.type === "paren_expr") return walk(node.expr as Node);
    if (node.type !== "binary_expr") return;
    const operator = typeof node.operator === "string" ? node.operator : String((node.operator as Node).name ?? "");
    if (operator.toUpperCase() === "AND") {
      walk(node.left as Node);
      walk(node.right as Node);
    } else if (operator === "=" || operator === "==") {
      const left = columnRef(node.left as Node);
      const right = columnRef(node.right as Node);
      if (left && right) pairs.push([left, right]);
    }
  };
  walk(specification.expr as Node);
  return pairs;
}

/**
 * The names a subquery's FROMs (at any depth) read under, and the columns they bring (with the
 * SELECT aliases); columns are null when some source's are not known (a CTE selecting `*`).
 * `columnsOf` gives a star table's or CTE's columns by name.
 */
export function sourcesWithin(subquery: Node, columnsOf: ColumnsOf) {
  const names = new Set<string>();
  const columns = new Set<string>();
  let known = true;
  const collect = (node: unknown, inFrom: boolean): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach((child) => collect(child, inFrom));
    const n = node as Node;
    if (n.type === "from_clause") return collect(n.expr, true);
    if (n.type === "join_on_specification") return collect(n.expr, false);
    if (n.type === "select_stmt") for (const alias of selectAliases(n)) columns.add(alias);
    if (n.type === "with_clause") for (const cte of (n.tables as Node).items as Node[]) names.add(lower(cte.table as Node) ?? "");
    if (inFrom && (n.type === "identifier" || n.type === "alias")) {
      const read = n.type === "alias" ? (n.expr as Node) : n;
      const name = n.type === "alias" ? lower(n.alias as Node) : lower(n);
      if (name) names.add(name);
      const subselect = read.type === "paren_expr" ? (read.expr as Node) : null;
      const brought = read.type === "identifier" ? columnsOf(lower(read)!) : subselect ? outputNames(subselect, columnsOf) : null;
      if (brought) for (const c of brought) columns.add(c);
      else known = false;
      if (subselect) collect(subselect, false);
      return;
    }
    for (const [key, child] of Object.entries(n)) if (key !== "range") collect(child, inFrom && n.type !== "select_stmt");
  };
  collect(subquery, false);
  return { names, columns: known ? columns : null };
}

/**
 * Column references of a subquery that may point outside it: qualified ones whose qualifier names
 * none of its sources, and unqualified ones that are none of its known columns or aliases.
 */
export function outerReferences(subquery: Node, ownSources: Set<string>, ownColumns: Set<string> | null): string[] {
  const found: string[] = [];
  const walk = (node: unknown, inFrom: boolean) => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach((child) => walk(child, inFrom));
    const n = node as Node;
    switch (n.type) {
      case "member_expr": {
        const ref = columnRef(n);
        if (ref?.qualifier && !ownSources.has(ref.qualifier)) found.push(`${ref.qualifier}.${ref.column}`);
        return;
      }
      case "identifier":
        if (!inFrom && ownColumns && !ownColumns.has(lower(n)!)) found.push(lower(n)!);
        return;
      case "alias":
        // The alias itself is a new name, not a reference.
        return walk(n.expr, inFrom);
      case "func_call":
        return walk([n.args, n.over, n.filter], false);
      case "from_clause":
        return walk(n.expr, true);
      case "join_on_specification":
        return walk(n.expr, false);
      case "join_using_specification":
        return;
      case "with_clause":
        return walk(((n.tables as Node).items as Node[]).map((cte) => cte.expr), false);
      case "select_stmt":
      case "compound_select_stmt":
        return Object.entries(n).forEach(([key, child]) => key !== "range" && walk(child, false));
    }
    for (const [key, child] of Object.entries(n)) if (key !== "range") walk(child, inFrom);
  };
  walk(subquery, false);
  return found;
}

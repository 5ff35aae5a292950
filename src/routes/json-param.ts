import type { z } from "@hono/zod-openapi";
import { ApiError, invalidField } from "../errors";
import { fieldErrors, type Locale } from "../i18n";

/**
 * A JSON value carried in a text field (a query parameter or a form field), validated by a schema.
 * Both failures are 400 validation_error, with field paths prefixed by the parameter's name.
 */
export function parseJsonParam<T extends z.ZodType>(text: string | undefined, schema: T, name: string, locale: Locale): z.infer<T> | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalidField(name, "invalid_json", `${name} is not valid JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError("validation_error", fieldErrors(locale, parsed.error.issues, json).map((e) => ({ ...e, path: e.path ? `${name}.${e.path}` : name })));
  }
  return parsed.data;
}

import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { createAutomation, publicAutomation } from "../../services/automations";
import { MANAGERS } from "../../services/organizations";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, ProjectIdParam } from "../schemas";
import { Automation, CreateAutomationBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/automations",
  operationId: "createAutomation",
  tags: ["Automations"],
  summary: "Bind a segment to a connector",
  description: "Owners and admins. An active automation counts against the plan's automations quota (429 `quota_exceeded`).",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(CreateAutomationBody) },
  responses: { 201: createdResponse(Automation, "Created"), ...authErrorResponses },
});

export function registerCreateAutomation(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId, MANAGERS);
    const automation = publicAutomation(await createAutomation(db, project, c.req.valid("json")));
    c.header("Location", `/api/automations/${automation.id}`);
    return c.json(automation, 201);
  });
}

import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { askCopilot } from "../../services/copilot";
import { projectForPrincipal } from "../../services/access";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody, jsonResponse, ProjectIdParam } from "../schemas";
import { CopilotAnswer, CopilotBody } from "./schema";

const route = createRoute({
  method: "post",
  path: "/projects/{projectId}/copilot",
  operationId: "askCopilot",
  tags: ["Segments"],
  summary: "Segment rules from a sentence",
  description:
    "Turns a sentence into the rule JSON that segments/preview and segment creation take, with a preview. Each call is one GenAI op (AI credit) of the organization's month.",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, body: jsonBody(CopilotBody) },
  responses: {
    200: jsonResponse(CopilotAnswer, "Rules, their explanation and a preview"),
    201: createdResponse(CopilotAnswer, "With `save`: the same, and the segment it created (its URL in `Location`)"),
    ...authErrorResponses,
    422: errorResponse("The prompt could not be turned into valid rules (`copilot_failed`); `detail.engines` says what was not understood"),
    429: errorResponse("Rate limit (`rate_limited`) or the plan's GenAI ops for the month are used up (`quota_exceeded`, quota `genaiOps`)"),
  },
});

export function registerAskCopilot(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const principal = principalOf(c);
    const project = await projectForPrincipal(db, principal, c.req.valid("param").projectId);
    const body = c.req.valid("json");
    const answer = await askCopilot(c.env, db, principal, project, { prompt: body.prompt, locale: body.locale ?? c.get("locale"), save: body.save });
    if (!answer.segment) return c.json(answer, 200);
    c.header("Location", `/api/engine/segments/${answer.segment.id}`);
    return c.json(answer, 201);
  });
}

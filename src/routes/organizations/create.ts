import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { sessionOf } from "../../middleware/auth";
import { createOrganization, publicOrganization } from "../../services/organizations";
import { setActiveOrganization } from "../../services/sessions";
import { auth, type Router } from "../router";
import { createdResponse, jsonBody } from "../schemas";
import { CreateOrganizationBody, Organization } from "./schema";

const route = createRoute({
  method: "post",
  path: "/",
  operationId: "createOrganization",
  tags: ["Organizations"],
  summary: "Create an organization",
  description: "The caller becomes its owner; it starts on the `free` plan and becomes the session's active organization.",
  ...auth.session(),
  request: { body: jsonBody(CreateOrganizationBody) },
  responses: {
    201: createdResponse(Organization, "Created"),
    409: errorResponse("Slug already taken (`slug_taken`)"),
    ...authErrorResponses,
  },
});

export function registerCreateOrganization(app: Router) {
  app.openapi(route, async (c) => {
    const db = database(c.env.DB);
    const { session, user } = sessionOf(c);
    const organization = await createOrganization(db, user.id, c.req.valid("json"));
    await setActiveOrganization(db, session.id, organization.id);
    c.header("Location", `/api/organizations/${organization.id}`);
    return c.json(publicOrganization(organization, "owner"), 201);
  });
}

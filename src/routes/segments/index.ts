import { createRoute } from "@hono/zod-openapi";
import { authErrorResponses, errorResponse } from "../../errors";
import { database } from "../../db/client";
import { principalOf } from "../../middleware/auth";
import { projectForPrincipal } from "../../services/projects";
import { createRuleSegment, deleteSegment, listSegments, previewSegment, publicSegment, segmentForPrincipal, updateSegment } from "../../services/segments";
import { auth, createRouter } from "../router";
import { createdResponse, jsonBody, jsonResponse, PageQuery, ProjectIdParam } from "../schemas";
import { CreateSegmentBody, Preview, PreviewBody, Segment, SegmentIdParam, SegmentList, UpdateSegmentBody } from "./schema";


const list = createRoute({
  method: "get",
  path: "/projects/{projectId}/segments",
  operationId: "listSegments",
  tags: ["Segments"],
  summary: "A project's segments",
  description: "Cluster segments from the last segmentation run (named from their RFM position, ids kept across runs), then rule and hybrid segments.",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, query: PageQuery },
  responses: { 200: jsonResponse(SegmentList, "Segments"), ...authErrorResponses },
});

const preview = createRoute({
  method: "post",
  path: "/projects/{projectId}/segments/preview",
  operationId: "previewSegment",
  tags: ["Segments"],
  summary: "Count and sample the customers rules would select, without saving",
  ...auth.sessionOrApiKey(),
  request: { params: ProjectIdParam, body: jsonBody(PreviewBody) },
  responses: { 200: jsonResponse(Preview, "Matching customers: count and up to 20 by monetary value"), ...authErrorResponses },
});

const create = createRoute({
  method: "post",
  path: "/projects/{projectId}/segments",
  operationId: "createSegment",
  tags: ["Segments"],
  summary: "Create a rule segment (or a hybrid, with cluster_segment_id)",
  ...auth.session(),
  request: { params: ProjectIdParam, body: jsonBody(CreateSegmentBody) },
  responses: { 201: createdResponse(Segment, "Created, with its current size"), ...authErrorResponses },
});

const get = createRoute({
  method: "get",
  path: "/segments/{segmentId}",
  operationId: "getSegment",
  tags: ["Segments"],
  summary: "One segment",
  ...auth.sessionOrApiKey(),
  request: { params: SegmentIdParam },
  responses: { 200: jsonResponse(Segment, "The segment, with its current size"), ...authErrorResponses },
});

const update = createRoute({
  method: "patch",
  path: "/segments/{segmentId}",
  operationId: "updateSegment",
  tags: ["Segments"],
  summary: "Rename a segment or change its rules",
  description: "Any segment can be renamed; rules belong to rule and hybrid segments.",
  ...auth.session(),
  request: { params: SegmentIdParam, body: jsonBody(UpdateSegmentBody) },
  responses: { 200: jsonResponse(Segment, "Updated"), ...authErrorResponses },
});

const remove = createRoute({
  method: "delete",
  path: "/segments/{segmentId}",
  operationId: "deleteSegment",
  tags: ["Segments"],
  summary: "Delete a rule or hybrid segment",
  ...auth.session(),
  request: { params: SegmentIdParam },
  responses: { 204: { description: "Deleted" }, 409: errorResponse("Cluster segments are managed by segmentation runs (`conflict`)"), ...authErrorResponses },
});

/** Mounted at /api/engine. */
export function segmentRoutes() {
  const app = createRouter();
  app.openapi(list, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const page = await listSegments(db, project.id, c.req.valid("query"));
    return c.json({ segments: page.items.map(publicSegment), total: page.total, page: page.page, pages: page.pages }, 200);
  });
  app.openapi(preview, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const body = c.req.valid("json");
    return c.json(await previewSegment(c.env.DB, db, project.id, body.rules, body.cluster_segment_id), 200);
  });
  app.openapi(create, async (c) => {
    const db = database(c.env.DB);
    const project = await projectForPrincipal(db, principalOf(c), c.req.valid("param").projectId);
    const segment = publicSegment(await createRuleSegment(c.env.DB, db, project, c.req.valid("json")));
    c.header("Location", `/api/engine/segments/${segment.id}`);
    return c.json(segment, 201);
  });
  app.openapi(get, async (c) => {
    const db = database(c.env.DB);
    return c.json(publicSegment(await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId)), 200);
  });
  app.openapi(update, async (c) => {
    const db = database(c.env.DB);
    const segment = await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId);
    return c.json(publicSegment(await updateSegment(c.env.DB, db, segment, c.req.valid("json"))), 200);
  });
  app.openapi(remove, async (c) => {
    const db = database(c.env.DB);
    await deleteSegment(db, await segmentForPrincipal(db, principalOf(c), c.req.valid("param").segmentId));
    return c.body(null, 204);
  });
  return app;
}

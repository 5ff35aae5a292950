export * from "./users";
export * from "./sessions";
export * from "./organizations";
export * from "./members";
export * from "./projects";
export * from "./api-keys";
export * from "./contact-messages";

import { z } from "zod";
import { ExecutionsPage, JobDetails, JobList } from "./api.ts";
import { JobMessage, OutboxEnvelope } from "./envelope.ts";
import { HealthBody, ReadyBody } from "./health.ts";
import { JobSpec } from "./jobspec.ts";
import { DirectOutputData, ModalReceipt, NestedOutputData, PortalReceipt, Receipt } from "./receipt.ts";

/**
 * Beacon's contracts as JSON Schema (draft 2020-12), generated from the zod schemas the probes use, so
 * Beacon's own CI can validate against the same contract. `test/tools/export-schemas.ts` writes them to
 * `shared/beacon/json-schema/<name>.json`; a test fails when the files drift from the zod schemas.
 * Refinements (e.g. "v1 bias jobs need questions") have no JSON Schema form and are left out.
 */
export const CONTRACT_SCHEMAS: Record<string, { schema: z.ZodType; title: string }> = {
  jobspec: { schema: JobSpec, title: "Beacon JobSpec (POST /api/v1/jobs body; job of GET /api/v1/jobs/:id)" },
  receipt: { schema: Receipt, title: "Beacon execution receipt (output.data: direct or nested responses)" },
  "receipt-modal": { schema: ModalReceipt, title: "Modal's receipt as the hybrid path stores it (receipt_data; answer at output.response)" },
  "receipt-portal": { schema: PortalReceipt, title: "The portal path's receipt (unsigned; answer at output.data.response)" },
  "receipt-output-direct": { schema: DirectOutputData, title: "Receipt output.data, container/direct variant (responses[])" },
  "receipt-output-nested": { schema: NestedOutputData, title: "Receipt output.data, golem structured variant (data.responses[])" },
  "outbox-envelope": { schema: OutboxEnvelope, title: "Outbox payload / queue envelope {id, enqueued_at, attempt, request_id}" },
  "queue-job-message": { schema: JobMessage, title: "Advanced queue JobMessage (jobs:retry and jobs:dead members)" },
  health: { schema: HealthBody, title: "GET /health body" },
  "health-ready": { schema: ReadyBody, title: "GET /health/ready body" },
  "executions-page": { schema: ExecutionsPage, title: "GET /api/v1/executions body" },
  "job-list": { schema: JobList, title: "GET /api/v1/jobs body" },
  "job-details": { schema: JobDetails, title: "GET /api/v1/jobs/:id body" },
};

/** File name -> file text (stable, pretty-printed, newline-terminated). */
export function contractSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(CONTRACT_SCHEMAS).map(([name, { schema, title }]) => {
      const { $schema, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12" });
      const json = { $schema, title, ...rest };
      return [`${name}.json`, `${JSON.stringify(json, null, 2)}\n`];
    }),
  );
}

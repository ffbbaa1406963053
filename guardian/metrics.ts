/** Prometheus metrics of the agent (prom-client). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "cg_guardian_" });
  return {
    registry,
    cursorLag: new Gauge({ name: "cg_guardian_cursor_lag_blocks", help: "Blocks between the chain head and the processed cursor", registers: [registry] }),
    cursorBlock: new Gauge({ name: "cg_guardian_cursor_block", help: "Last processed block", registers: [registry] }),
    requestsServed: new Counter({ name: "cg_guardian_requests_served_total", help: "Reset and drill requests this guardian made a posting for", registers: [registry] }),
    eventsIgnored: new Counter({
      name: "cg_guardian_events_ignored_total",
      help: "Chain events whose content could not be processed (recorded, never retried), by event and reason",
      labelNames: ["event", "reason"],
      registers: [registry],
    }),
    deliveries: new Counter({ name: "cg_guardian_deliveries_total", help: "Channel code deliveries by channel and outcome", labelNames: ["channel", "outcome"], registers: [registry] }),
    postings: new Counter({ name: "cg_guardian_postings_total", help: "Postings sent on-chain (one per partial)", labelNames: ["outcome"], registers: [registry] }),
    jobsDropped: new Counter({ name: "cg_guardian_jobs_dropped_total", help: "Outbox jobs given up because they can no longer take effect", labelNames: ["kind", "reason"], registers: [registry] }),
    committeeTransactions: new Counter({
      name: "cg_guardian_committee_transactions_total",
      help: "Committee round transactions (deal, complain, answer, prove, finalize, acknowledge, expire) by outcome",
      labelNames: ["action", "outcome"],
      registers: [registry],
    }),
    chainErrors: new Counter({ name: "cg_guardian_chain_errors_total", help: "RPC errors (retried)", registers: [registry] }),
    outboxPending: new Gauge({ name: "cg_guardian_outbox_pending", help: "Pending outbox jobs", labelNames: ["kind"], registers: [registry] }),
    deadLetters: new Gauge({ name: "cg_guardian_dead_letters", help: "Jobs that failed too often", registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Client actions over viem clients, for dApps and wallets, the `cg` CLI and the demo, grouped by actor the way viem
 * groups its actions; every action takes `Clients` first.
 *
 *   deployment.ts    Deployment, Clients, chainFor, Progress
 *   transactions.ts  sending with simulation; refusals by custom error, in words
 *   guardians.ts     listing and selecting guardians; an operator's and an attester's actions
 *   committees.ts    propose, hand over, inspect and follow committees; an epoch's members and commitments
 *   accounts.ts      link to a committee in one transaction, rotate, account info
 *   resets.ts        request a reset or a drill, postings, codes, assemble, complete, cancel, finalize, settle
 *   watchers.ts      judge postings and prove invalid ones (commit-reveal)
 *   audit.ts         audited events, replay against the on-chain head, history of an account or a guardian
 */
export * from "./deployment.ts";
export * from "./transactions.ts";
export * from "./guardians.ts";
export * from "./committees.ts";
export * from "./accounts.ts";
export * from "./resets.ts";
export * from "./watchers.ts";
export * from "./audit.ts";

import { expect } from "chai";
import { readFileSync } from "node:fs";

import { AUDIT_KINDS } from "../../../sdk/protocol/audit.ts";

describe("sdk/protocol/audit", function () {
  it("lists the audit kinds in the order of the contracts' IAuditLog.AuditKind", function () {
    const source = readFileSync(new URL("../../../contracts/interfaces/IAuditLog.sol", import.meta.url), "utf8");
    const body = /enum AuditKind \{([^}]*)\}/.exec(source)?.[1];
    expect(body, "enum AuditKind in IAuditLog.sol").to.be.a("string");
    const kinds = body!.replace(/\/\/.*$/gm, "").split(",").map((k) => k.trim()).filter((k) => k !== "");
    expect([...AUDIT_KINDS]).to.deep.equal(kinds);
  });
});

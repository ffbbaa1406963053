import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";

const root = new URL("../../", import.meta.url);

function solidityFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === "test" ? [] : solidityFiles(new URL(`${e.name}/`, dir))) : e.name.endsWith(".sol") ? [new URL(e.name, dir)] : [],
  );
}

describe("docs/ERRORS.md", function () {
  it("documents every custom error the contracts declare", function () {
    const catalogue = readFileSync(new URL("docs/ERRORS.md", root), "utf8");
    const declared = solidityFiles(new URL("contracts/", root)).flatMap((f) =>
      [...readFileSync(f, "utf8").matchAll(/^\s*error (\w+)\(/gm)].map((m) => m[1]),
    );
    expect(declared.length).to.be.greaterThan(50);
    const missing = declared.filter((name) => !catalogue.includes(`\`${name}(`));
    expect(missing, `undocumented errors: ${missing.join(", ")}`).to.deep.equal([]);
  });
});

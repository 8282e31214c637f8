// Validates every manifest of a rendered overlay (`kubectl kustomize DIR | node validate.mjs`, or
// `node validate.mjs FILE…`) against the Kubernetes
// schemas of kubernetes-models: each document's apiVersion and kind must be a known model, and the document must pass
// its JSON schema (types, formats such as quantities, required fields). Prints one line per problem; exit 1 if any.
import { readFile } from "node:fs/promises";
import { parseAllDocuments } from "yaml";

const read = async () => {
  const files = process.argv.slice(2);
  if (files.length > 0) return (await Promise.all(files.map((file) => readFile(file, "utf8")))).join("\n---\n");
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
};

const modulePath = (apiVersion, kind) => {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
};

const problems = [];
let count = 0;
for (const document of parseAllDocuments(await read())) {
  if (document.errors.length > 0) {
    problems.push(...document.errors.map((e) => `YAML: ${e.message}`));
    continue;
  }
  const manifest = document.toJS();
  if (manifest === null) continue;
  count++;
  const name = `${manifest.kind ?? "?"}/${manifest.metadata?.name ?? "?"}`;
  if (typeof manifest.apiVersion !== "string" || typeof manifest.kind !== "string") {
    problems.push(`${name}: no apiVersion or kind`);
    continue;
  }
  let model;
  try {
    model = (await import(modulePath(manifest.apiVersion, manifest.kind)))[manifest.kind];
  } catch {
    problems.push(`${name}: ${manifest.apiVersion} ${manifest.kind} is not a Kubernetes kind known to kubernetes-models`);
    continue;
  }
  try {
    new model(manifest).validate();
  } catch (error) {
    problems.push(`${name}: ${error.message}`);
  }
}
if (count === 0) problems.push("no manifests on standard input");
for (const problem of problems) console.log(problem);
console.log(`${count} manifest(s), ${problems.length} problem(s)`);
process.exit(problems.length === 0 ? 0 : 1);

// Validates JSON documents against contracts/schemas/intelligence-package.v1.json with Ajv (JSON Schema
// 2020-12), a validator no one here wrote. Reads a JSON array of documents on stdin and prints a JSON
// array of booleans, one per document, on stdout.
// Usage: node validate-schema.mjs SCHEMA < documents.json
import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [schemaPath] = process.argv.slice(2);
if (!schemaPath) {
  console.error("usage: node validate-schema.mjs SCHEMA < documents.json");
  process.exit(2);
}
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
const documents = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(documents.map((document) => {
  const valid = validate(document);
  if (!valid) console.error(JSON.stringify(validate.errors));
  return valid;
})));

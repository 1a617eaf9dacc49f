// Renders chat templates with @huggingface/jinja (the Jinja implementation transformers.js uses), as the
// reference for EdgeLlm's renderer. stdin: [{"template": "...", "context": {...}}, ...];
// stdout: [{"text": "..."} | {"error": "..."}, ...]. The library itself defines raise_exception.
import { Template } from "@huggingface/jinja";
import { readFileSync } from "node:fs";

const cases = JSON.parse(readFileSync(0, "utf8"));
const results = cases.map(({ template, context }) => {
  try {
    return { text: new Template(template).render(context) };
  } catch (e) {
    return { error: String(e && e.message ? e.message : e) };
  }
});
process.stdout.write(JSON.stringify(results));

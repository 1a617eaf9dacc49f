// Writes tests/EdgeLlm.Tests/References/tokenizer-extra-encodings.json: for every text of extra-texts.json, the ids
// that @huggingface/tokenizers (the tokenizer of transformers.js) gives with each tokenizer folder of ../shared/tokenizers
// (encode without special tokens), and the text it decodes those ids back to with skip_special_tokens and without
// clean_up_tokenization_spaces (EdgeLlm gives back the exact text); and the decode of the first texts' ids with two ids past
// the tokenizer's vocabulary inserted (a model's embedding is often padded past it, e.g. Phi-2's 51,200 rows for 50,295
// tokens, and a model can emit those ids): the reference drops them.
// Run: cd tools/tokenizers && npm install && node encode.mjs ../../../shared/tokenizers ../../tests/EdgeLlm.Tests/References/tokenizer-extra-encodings.json
import { Tokenizer } from "@huggingface/tokenizers";
import fs from "fs";
import path from "path";

const [sharedTokenizers, out] = process.argv.slice(2);
const input = JSON.parse(fs.readFileSync(new URL("./extra-texts.json", import.meta.url), "utf8"));
const texts = [...input.edge_cases, ...input.instruct_prompts, ...input.llama3_whole_tokens];
const version = JSON.parse(fs.readFileSync(new URL("./node_modules/@huggingface/tokenizers/package.json", import.meta.url), "utf8")).version;
const result = { reference: `@huggingface/tokenizers ${version}: encode(text, {add_special_tokens: false}); decode(ids, {skip_special_tokens: true, clean_up_tokenization_spaces: false})`, texts, tokenizers: {} };
for (const name of ["gpt2", "llama3", "qwen3", "phi-2"]) {
  const dir = path.join(sharedTokenizers, name);
  const tok = new Tokenizer(JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8")),
                            JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8")));
  const ids = texts.map(t => Array.from(tok.encode(t, { add_special_tokens: false }).ids));
  const skipped = ids.map(i => tok.decode(i, { skip_special_tokens: true, clean_up_tokenization_spaces: false }));
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  const size = 1 + [...Object.values(json.model.vocab), ...json.added_tokens.map(t => t.id)].reduce((a, b) => Math.max(a, b), 0);
  const past = ids.slice(0, 8).map(i => [...i.slice(0, 2), size, ...i.slice(2), size + 900]);
  const pastDecoded = past.map(i => tok.decode(i, { skip_special_tokens: false, clean_up_tokenization_spaces: false }));
  result.tokenizers[name] = { ids, decoded_skipping_special: skipped, vocabulary_size: size, ids_past_vocabulary: past, decoded_past_vocabulary: pastDecoded };
}
fs.writeFileSync(out, JSON.stringify(result) + "\n");
console.log(`${texts.length} texts x ${Object.keys(result.tokenizers).length} tokenizers -> ${out}`);

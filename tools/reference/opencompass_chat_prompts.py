"""Renders the first prompts of every task the way OpenCompass 0.3.1 --hf-type chat and transformers do.

  python3 tools/reference/opencompass_chat_prompts.py OPENCOMPASS_TREE OC_REV DATASETS CHAT_TEMPLATES OUT_JSON

OPENCOMPASS_TREE is an export of open-compass/opencompass at tag 0.3.1 (its opencompass/ package and
configs/datasets/). The dataset configs are executed as they are (the *_gen.py aliases followed to the file they
import); the prompts are built by OpenCompass's own PromptTemplate, retrievers (ZeroRetriever, FixKRetriever),
APITemplateParser with HuggingFacewithChatTemplate's default meta template, and _convert_chat_messages, each
module file loaded with stubbed imports (reference_modules.py). The messages are then rendered as transformers'
apply_chat_template does: jinja2's ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with its
raise_exception and tojson, render(messages=..., tools=None, documents=None, add_generation_prompt=True,
**special tokens). Needs jinja2 (3.1.6 was used). The dataset rows are read from DATASETS as OpenCompass's loaders
read them (commonsenseqa: the Hub layout of its ModelScope branch).
"""
import csv
import json
import os
import re
import sys

from reference_modules import load_file, stub_modules

oc_tree, oc_rev, datasets_dir, templates_dir, out_path = sys.argv[1:6]
oc = os.path.join(oc_tree, "opencompass")

stub_modules("mmengine", "mmengine.config", "mmengine.dist", "datasets", "opencompass.registry", "opencompass.utils",
             "opencompass.utils.logging", "opencompass.openicl", "opencompass.openicl.utils",
             "opencompass.openicl.utils.logging", "opencompass.openicl.icl_retriever", "opencompass.openicl.icl_inferencer",
             "opencompass.openicl.icl_evaluator", "opencompass.datasets", "opencompass.models", "opencompass.models.base",
             "opencompass.utils.text_postprocessors", "torch", "tqdm")
sys.modules["mmengine.config"].ConfigDict = dict
sys.modules["mmengine.dist"].is_main_process = lambda: True
sys.modules["tqdm"].trange = lambda n, **kwargs: range(n)
load_file(os.path.join(oc, "utils", "prompt.py"), "opencompass.utils.prompt")
load_file(os.path.join(oc, "utils", "types.py"), "opencompass.utils.types")
load_file(os.path.join(oc, "openicl", "icl_prompt_template.py"), "opencompass.openicl.icl_prompt_template")
retrievers = sys.modules["opencompass.openicl.icl_retriever"]
retrievers.BaseRetriever = load_file(os.path.join(oc, "openicl", "icl_retriever", "icl_base_retriever.py"),
                                     "opencompass.openicl.icl_retriever.icl_base_retriever").BaseRetriever
retrievers.ZeroRetriever = load_file(os.path.join(oc, "openicl", "icl_retriever", "icl_zero_retriever.py"),
                                     "opencompass.openicl.icl_retriever.icl_zero_retriever").ZeroRetriever
retrievers.FixKRetriever = load_file(os.path.join(oc, "openicl", "icl_retriever", "icl_fix_k_retriever.py"),
                                     "opencompass.openicl.icl_retriever.icl_fix_k_retriever").FixKRetriever
load_file(os.path.join(oc, "models", "base_api.py"), "opencompass.models.base_api")
hf = load_file(os.path.join(oc, "models", "huggingface_above_v4_33.py"), "opencompass.models.huggingface_above_v4_33")
PromptTemplate = sys.modules["opencompass.openicl.icl_prompt_template"].PromptTemplate


def load_config(relative):
    """Executes a dataset config (following a *_gen.py alias to the file it imports) and returns its globals."""
    path = os.path.join(oc_tree, "configs", "datasets", relative)
    source = open(path, encoding="utf-8").read()
    alias = re.search(r"from \.(\w+) import", source)
    if "read_base" in source and alias:
        return load_config(os.path.join(os.path.dirname(relative), alias.group(1) + ".py"))
    scope = {"__file__": path, "__name__": "config"}
    exec(compile(source, path, "exec"), scope)
    return scope


class Reader:
    def __init__(self, cfg):
        self.output_column = cfg["output_column"]


class Dataset:
    def __init__(self, reader_cfg, train, test):
        self.reader, self.train, self.test = Reader(reader_cfg), train, test


def template_of(cfg):
    return PromptTemplate(**{k: v for k, v in cfg.items() if k != "type"}) if cfg else None


# HuggingFaceBaseModel (--hf-type base) has no meta template: LMTemplateParser(None) joins the rounds.
LMTemplateParser = load_file(os.path.join(oc, "models", "base.py"), "opencompass_models_base_real").LMTemplateParser


def base_prompts(dataset_cfg, train, test, count):
    """The same prompts as a base model's input text (the kit-2024-base protocol)."""
    infer = dataset_cfg["infer_cfg"]
    retriever_cfg = dict(infer["retriever"])
    retriever_type = retriever_cfg.pop("type")
    retriever = retriever_type(Dataset(dataset_cfg["reader_cfg"], train, test[:count]), **retriever_cfg)
    ice_template, prompt_template = template_of(infer.get("ice_template")), template_of(infer.get("prompt_template"))
    result = []
    for idx, ice_idx in enumerate(retriever.retrieve()):
        ice = retriever.generate_ice(ice_idx, ice_template=ice_template)
        prompt = retriever.generate_prompt_for_generate_task(idx, ice, gen_field_replace_token="", ice_template=ice_template,
                                                             prompt_template=prompt_template)
        result.append(LMTemplateParser(None).parse_template(prompt, mode="gen"))
    return result


def prompts(dataset_cfg, train, test, count):
    """GenInferencer's prompt list for the first `count` test rows, as chat messages (HuggingFacewithChatTemplate)."""
    infer = dataset_cfg["infer_cfg"]
    retriever_cfg = dict(infer["retriever"])
    retriever_type = retriever_cfg.pop("type")
    retriever = retriever_type(Dataset(dataset_cfg["reader_cfg"], train, test[:count]), **retriever_cfg)
    ice_template, prompt_template = template_of(infer.get("ice_template")), template_of(infer.get("prompt_template"))
    parser = hf._get_meta_template(None)
    result = []
    for idx, ice_idx in enumerate(retriever.retrieve()):
        ice = retriever.generate_ice(ice_idx, ice_template=ice_template)
        prompt = retriever.generate_prompt_for_generate_task(idx, ice, gen_field_replace_token="", ice_template=ice_template,
                                                             prompt_template=prompt_template)
        result.append(hf._convert_chat_messages([parser.parse_template(prompt, mode="gen")])[0])
    return result


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def csqa_rows():
    rows = []
    for line in jsonl(os.path.join(datasets_dir, "commonsenseqa", "dev_rand_split.jsonl")):
        row = {"question": line["question"], "answerKey": line["answerKey"]}
        row.update({letter: text for letter, text in zip("ABCDE", line["choices"]["text"])})
        rows.append(row)
    return rows


def chid_rows(name):
    rows = []
    for line in jsonl(os.path.join(datasets_dir, "chid", name)):
        row = {"content": line["content"].replace("#idiom#", "______"), "answer": "ABCDEFG"[line["answer"]]}
        row.update({chr(ord("A") + i): c for i, c in enumerate(line["candidates"])})
        rows.append(row)
    return rows


def humaneval_rows():
    import gzip
    with gzip.open(os.path.join(datasets_dir, "humaneval", "HumanEval.jsonl.gz"), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def truthfulqa_rows():
    with open(os.path.join(datasets_dir, "truthfulqa", "TruthfulQA.csv"), encoding="utf-8") as f:
        return [{"question": r["Question"], "reference": ""} for r in csv.DictReader(f)]


samples = []  # (task, id, messages)


CLI_MAX_OUT_LEN = 1024  # the kit's --max-out-len; openicl_infer.py's _set_default_value fills it only where a config has none


def add(task, ids, messages, cfg, base_texts=None):
    max_out_len = cfg["infer_cfg"]["inferencer"].get("max_out_len", CLI_MAX_OUT_LEN)
    for i, (sample_id, m) in enumerate(zip(ids, messages)):
        samples.append({"task": task, "id": sample_id, "max_out_len": max_out_len, "messages": m})
        if base_texts is not None:  # the hold-out tasks also carry their --hf-type base text
            samples[-1]["base_prompt"] = base_texts[i]


N = 3
cfg = load_config("commonsenseqa/commonsenseqa_7shot_cot_gen_734a22.py")["commonsenseqa_datasets"][0]
add("csqa", [f"csqa/{i}" for i in range(N)], prompts(cfg, [], csqa_rows(), N), cfg)
for cfg in load_config("FewCLUE_chid/FewCLUE_chid_gen.py")["chid_datasets"]:
    file = os.path.basename(cfg["path"])
    add("chid", [f"{cfg['abbr']}/{i}" for i in range(N)], prompts(cfg, [], chid_rows(file), N), cfg)
cfg = load_config("humaneval/humaneval_gen.py")["humaneval_datasets"][0]
rows = humaneval_rows()
add("humaneval", [r["task_id"] for r in rows[:N]], prompts(cfg, rows, rows, N), cfg)
for cfg in load_config("bbh/bbh_gen.py")["bbh_datasets"]:
    name = cfg["name"]
    with open(os.path.join(datasets_dir, "bbh", "bbh", name + ".json"), encoding="utf-8") as f:
        rows = json.load(f)["examples"]
    add("bbh", [f"bbh/{name}/0"], prompts(cfg, [], rows, 1), cfg)
cfg = load_config("gsm8k/gsm8k_gen.py")["gsm8k_datasets"][0]
add("gsm8k", [f"gsm8k/{i}" for i in range(N)], prompts(cfg, [], jsonl(os.path.join(datasets_dir, "gsm8k", "test.jsonl")), N), cfg)
cfg = load_config("truthfulqa/truthfulqa_gen.py")["truthfulqa_datasets"][0]
add("truthfulqa", [f"truthfulqa/{i}" for i in range(N)], prompts(cfg, [], truthfulqa_rows(), N), cfg)


# The hold-out tasks: the first 2 samples of 3 subjects each, read as MMLUDataset / CEvalDataset read their CSVs.
def csv_rows(path, header):
    with open(path, encoding="utf-8") as f:
        reader = csv.reader(f)
        names = next(reader) if header else ["input", "A", "B", "C", "D", "target"]
        return [dict(zip(names, row)) for row in reader]


HOLDOUT_N = 2
mmlu_dir = os.path.join(datasets_dir, "mmlu", "data")
for cfg in load_config("mmlu/mmlu_gen.py")["mmlu_datasets"]:
    if cfg["name"] in ("abstract_algebra", "high_school_european_history", "world_religions"):
        name = cfg["name"]
        dev = csv_rows(os.path.join(mmlu_dir, "dev", f"{name}_dev.csv"), False)
        test = csv_rows(os.path.join(mmlu_dir, "test", f"{name}_test.csv"), False)
        add("mmlu", [f"mmlu/{name}/{i}" for i in range(HOLDOUT_N)], prompts(cfg, dev, test, HOLDOUT_N), cfg,
            base_prompts(cfg, dev, test, HOLDOUT_N))
ceval_dir = os.path.join(datasets_dir, "ceval")
for cfg in load_config("ceval/ceval_gen.py")["ceval_datasets"]:
    if cfg["name"] in ("accountant", "high_school_physics", "modern_chinese_history"):
        name, split = cfg["name"], cfg["reader_cfg"]["test_split"]
        dev = csv_rows(os.path.join(ceval_dir, "dev", f"{name}_dev.csv"), True)
        val = csv_rows(os.path.join(ceval_dir, split, f"{name}_{split}.csv"), True)
        add("ceval", [f"ceval/{name}/{i}" for i in range(HOLDOUT_N)], prompts(cfg, dev, val, HOLDOUT_N), cfg,
            base_prompts(cfg, dev, val, HOLDOUT_N))

# transformers' apply_chat_template environment (tokenization_utils_base._compile_jinja_template).
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

# The special tokens each model's tokenizer passes (../shared/tokenizers/chat-templates/README.md).
MODELS = {
    "llama-3.1-8b-instruct": ("meta-llama-Llama-3.1-8B-Instruct.jinja", {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "qwen2-7b-instruct": ("Qwen-Qwen2-7B-Instruct.jinja", {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
}
for name, (file, special) in MODELS.items():
    template = env.from_string(open(os.path.join(templates_dir, file), encoding="utf-8").read())
    for s in samples:
        s.setdefault("text", {})[name] = template.render(messages=s["messages"], tools=None, documents=None,
                                                         add_generation_prompt=True, **special)

out = {
    "opencompass_revision": oc_rev,
    "jinja2": jinja2.__version__,
    "models": {name: {"template": file, "special_tokens": special} for name, (file, special) in MODELS.items()},
    "samples": samples,
}
with open(out_path, "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, indent=1)
print(f"{len(samples)} samples -> {out_path}")
